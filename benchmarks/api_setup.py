"""
What the API workloads (4 and 5) need before they measure anything, made idempotently in the
benchmark's database: portal users who belong to the portfolio's parties, their API tokens
issued as an integration gets one, and current results to read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.test import Client

# The benchmark's users sign in with this password (the benchmark's database only).
PASSWORD = "benchmark-only-password-2025"


def user_with_membership(username: str, role: str, parties: Sequence[int], *, alerts: bool = True) -> AbstractBaseUser:
    """A portal user belonging to ``parties`` in ``role``, created once, its memberships made
    to be exactly these (a rerun with --keep-database finds it as it left it).

    ``alerts=False``: the user wants no alert deliveries (no channel for any kind), so that a
    user left in many agreements by an earlier run changes nothing workload 1 writes."""
    from django.contrib.auth import get_user_model

    from alerts.choices import AlertKind
    from alerts.models import NotificationPreference
    from parties.models import Membership

    users = get_user_model()
    user = users.objects.filter(username=username).first()
    if user is None:
        user = users.objects.create_user(username, email=f"{username}@example.com", password=PASSWORD)
    Membership.objects.filter(user=user).exclude(party_id__in=parties, role=role).delete()
    held = set(Membership.objects.filter(user=user).values_list("party_id", flat=True))
    Membership.objects.bulk_create(Membership(user=user, party_id=p, role=role) for p in parties if p not in held)
    if alerts:
        NotificationPreference.objects.filter(user=user).delete()  # the defaults: inbox and e-mail
    else:
        for kind in AlertKind.values:
            NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"channels": []})
    return user


def api_token(client: Client, username: str) -> str:
    """A knox token from ``POST /api/v1/auth/token/``, as an integration signs in; ``client`` is
    a django.test.Client or anything with the same ``post``."""
    from django.urls import reverse

    response = client.post(
        reverse("api:auth-token"), {"username": username, "password": PASSWORD}, content_type="application/json"
    )
    if response.status_code != 200:
        raise RuntimeError(f"Signing in to the API as {username} failed: {response.status_code} {response.content!r}")
    return response.json()["token"]


def ensure_results(ids: Sequence[int], *, as_of: dt.date, log: Callable[[str], None] = print) -> int:
    """Evaluate, in chunks of the nightly's size, the agreements of ``ids`` that have no current
    result (workload 1 leaves every one evaluated; a run of a later workload alone does not).
    Returns how many were evaluated."""
    from compliance.models import CovenantTestResult
    from compliance.services import agreements_evaluate
    from compliance.tasks import CHUNK_SIZE

    evaluated = set(
        CovenantTestResult.objects.filter(agreement_id__in=ids, is_current=True)
        .values_list("agreement_id", flat=True)
        .distinct()
        .order_by()
    )
    missing = [pk for pk in ids if pk not in evaluated]
    if missing:
        log(f"  evaluating {len(missing):,} agreements without results first (untimed)")
    for start in range(0, len(missing), CHUNK_SIZE):
        agreements_evaluate(agreement_ids=missing[start : start + CHUNK_SIZE], as_of=as_of)
    return len(missing)
