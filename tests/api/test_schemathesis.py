"""
Schemathesis over the live schema, in process against the real app (WSGI) and the real
database: every operation, cases generated from the schema, sent with a fresh token of an
administrator and of a Borrower's user. No response may be a server error, and every
documented response must match its schema. (The committed docs/openapi.yaml is the same
schema: test_schema checks it.) The coverage phase's cases (each parameter's boundaries and
wrong types, deterministic, most of the cases) test how input is read, which does not depend
on who sends it: they go as the administrator, who sees every row; the fuzzing phase's go as
both users.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import response_schema_conformance

from .conftest import build_world

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def fuzz_users(db):
    """The seed and second facility with their data; the users whose tokens the cases carry."""
    world = build_world()
    return {"admin": world.users["admin"], "borrower": world.users["borrower"]}


@pytest.fixture
def in_process_requests():
    """Requests through the WSGI handler share the test's transaction, as Django's test client does:
    the handler must not close the test's connection at the start and end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def live_schema() -> schemathesis.BaseSchema:
    """The schema as the app generates it now (what /api/schema/ serves), bound to the WSGI app.

    Built at collection, without the database (schema generation needs none)."""
    from drf_spectacular.generators import SchemaGenerator

    from portal.wsgi import application

    loaded = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    loaded.app = application
    return loaded


schema = live_schema()


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms_to_its_schema(case, fuzz_users, in_process_requests):
    users = [fuzz_users["admin"]] if case.meta and case.meta.phase.name == TestPhase.COVERAGE else fuzz_users.values()
    for user in users:
        # A fresh token per call: the logout operations revoke the token they are sent with.
        instance, token = AuthToken.objects.create(user)
        try:
            response = case.call(headers={"Authorization": f"Token {token}"})
            case.validate_response(response, checks=CHECKS)
        finally:
            AuthToken.objects.filter(pk=instance.pk).delete()
