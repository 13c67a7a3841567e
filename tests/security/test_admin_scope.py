"""
The admin held to the access rule: model permissions say which kinds of row a staff user
works on, the rule says which rows.

The matrix: a deal's user (Gamma's Agent, whose deal shares a Lender with the seed agreement)
made staff with every model permission of the portal's apps opens every admin page of every
model (enumerated from the admin's registry, so a new admin is covered), for the rows of
every deal: their own deal's rows open, no other deal's row opens, and no page names a party,
agreement or webhook that only another deal holds.
"""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from covenants.access import may
from covenants.models import Covenant, Waiver
from portal.admin.base import ScopedModelAdmin, unscoped_admins
from statements.models import StatementUpload
from tests.portal.test_page_access import (  # noqa: F401  (fixtures)
    AGREEMENTS,
    DELTA,
    GAMMA,
    HARBOR,
    SEED,
    _text_of,
    admin_urls,
    deal_objects,
    fast_password_hashing,
    world,
)

pytestmark = pytest.mark.django_db

APPS = ("covenants", "documents", "statements", "compliance", "alerts", "parties", "auth")


def staff_with_every_permission(user) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=APPS))
    client = Client()
    client.force_login(user)
    return client


def test_every_admin_of_the_portals_models_is_scoped() -> None:
    """Every admin of the deals' models and the users' admin derive from the scoped bases
    (Django's groups hold no deal's rows)."""
    assert not unscoped_admins(admin.site, APPS[:-1]), "derive from portal.admin.base"
    assert isinstance(admin.site._registry[get_user_model()], ScopedModelAdmin)


def test_a_staff_user_of_one_deal_sees_and_opens_only_that_deals_rows(world) -> None:  # noqa: F811  (the fixture)
    client = staff_with_every_permission(world.users["gamma.agent"])
    failures: list[str] = []
    others = tuple(a for a in AGREEMENTS if a != GAMMA)
    own_pages = set(admin_urls(world, (GAMMA,)))
    other_pages = [url for url in admin_urls(world, others) if url not in own_pages]
    for url in [*own_pages, *other_pages]:
        response = client.get(url)
        text = _text_of(response).replace('E.g. "KMC"', "").replace("E.g. &quot;KMC&quot;", "")  # a help text
        shown = [w for w in world.forbidden["gamma.agent"] if w in text or html.escape(w) in text]
        if shown:
            failures.append(f"{url}: shows {shown}")
        if url in other_pages and response.status_code == 200:
            failures.append(f"{url}: opens another deal's row")
        if response.status_code >= 500:
            failures.append(f"{url}: {response.status_code}")
    # Their own deal's rows do open (the scope is not simply empty).
    for model in (Covenant, StatementUpload):
        (row,) = deal_objects(model, world.agreements[GAMMA])
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[row.pk])
        if client.get(url).status_code != 200:
            failures.append(f"{url}: the user's own row does not open")
    assert not failures, "\n".join(failures)


def test_a_staff_user_changes_nothing_of_another_deal(world) -> None:  # noqa: F811  (the fixture)
    client = staff_with_every_permission(world.users["gamma.agent"])
    (covenant,) = deal_objects(Covenant, world.agreements[SEED])
    url = reverse("admin:covenants_covenant_change", args=[covenant.pk])
    response = client.post(url, {"agreement": covenant.agreement_id, "section": "9.99", "name": "Renamed"})
    assert response.status_code in (302, 403, 404)
    covenant.refresh_from_db()
    assert covenant.section != "9.99"
    # Nor moves a row of their own deal into another's.
    (own,) = deal_objects(Covenant, world.agreements[GAMMA])
    response = client.post(
        reverse("admin:covenants_covenant_change", args=[own.pk]),
        {
            "agreement": world.agreements[SEED].pk,
            "section": own.section,
            "name": own.name,
            "warning_band_percent": "10",
        },
    )
    own.refresh_from_db()
    assert own.agreement_id == world.agreements[GAMMA].pk


def test_a_clerk_with_only_the_view_permission_downloads_only_their_deals_files(world) -> None:  # noqa: F811  (the fixture)
    clerk = world.users["harbor.lender"]
    clerk.is_staff = True
    clerk.save(update_fields=["is_staff"])
    clerk.user_permissions.add(Permission.objects.get(codename="view_statementupload"))
    client = Client()
    client.force_login(clerk)
    own = world.uploads[HARBOR]
    response = client.get(reverse("admin:statements_statementupload_download", args=[own.pk]))
    assert response.status_code == 200
    assert response.content == bytes(StatementUpload.objects.get(pk=own.pk).content)
    for name in (SEED, GAMMA, DELTA):
        other = world.uploads[name]
        response = client.get(reverse("admin:statements_statementupload_download", args=[other.pk]))
        assert response.status_code == 404, name
        assert bytes(other.content)[:40] not in response.content


def test_the_waiver_admin_refuses_what_the_waiver_service_refuses(world) -> None:  # noqa: F811  (the fixture)
    # A Lender's user with every permission may not waive: the admin does not offer the page.
    lender = staff_with_every_permission(world.users["harbor.lender"])
    assert lender.get(reverse("admin:covenants_waiver_add")).status_code == 403
    # The Agent of Gamma: not another deal's covenant (not a choice), not the same test twice.
    agent_user = world.users["gamma.agent"]
    agent = staff_with_every_permission(agent_user)
    seed_covenant = Covenant.objects.filter(agreement=world.agreements[SEED]).first()
    own = Covenant.objects.filter(agreement=world.agreements[GAMMA]).first()
    url = reverse("admin:covenants_waiver_add")
    data = {"agreement": seed_covenant.agreement_id, "covenant": seed_covenant.pk, "test_date": "2020-03-31"}
    response = agent.post(url, {**data, "instrument": "Waiver letter"})
    assert response.status_code == 200  # the form again, with the choice refused
    assert not Waiver.objects.filter(covenant=seed_covenant).exists()
    data = {"agreement": own.agreement_id, "covenant": own.pk, "test_date": "2020-03-31"}
    assert agent.post(url, {**data, "instrument": "  "}).status_code == 200
    assert agent.post(url, {**data, "instrument": "Waiver letter"}).status_code == 302
    waiver = Waiver.objects.get(covenant=own, test_date=dt.date(2020, 3, 31))
    assert waiver.recorded_by == agent_user
    again = agent.post(url, {**data, "instrument": "Waiver letter"})
    assert "already waived" in again.content.decode()
    assert Waiver.objects.filter(covenant=own).count() == 1


def test_may_and_visible_agree_for_every_user_and_action(world) -> None:  # noqa: F811  (the fixture)
    """``may(user, action, row)`` answers as ``visible(user, Model, action)`` holds the row."""
    from covenants.access import visible

    rows = [
        (model, action, row)
        for model, action in ((Covenant, "view"), (Covenant, "change"), (Covenant, "waive"))
        for agreement in world.agreements.values()
        for row in deal_objects(model, agreement)
    ]
    for name, user in world.users.items():
        for model, action, row in rows:
            in_scope = visible(user, model, action).filter(pk=row.pk).exists()
            assert may(user, action, row) == in_scope, (name, model.__name__, action, row.pk)
