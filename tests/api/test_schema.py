"""
The committed OpenAPI schema (docs/openapi.yaml) is the schema the code generates: a change
to a serializer, view or route without regenerating it fails here. The schema is valid
OpenAPI 3 and generates without warnings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from django.urls import reverse
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.validation import validate_schema

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
REGENERATE = "python manage.py spectacular --file docs/openapi.yaml --validate"


def generated() -> dict:
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    # Through the same renderer as the command, so both sides hold plain YAML types.
    return yaml.safe_load(OpenApiYamlRenderer().render(schema, renderer_context={}))


def test_the_committed_schema_matches_the_code():
    live = generated()
    committed = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    changed_paths = sorted(set(live["paths"]) ^ set(committed["paths"])) or sorted(
        p for p in live["paths"] if live["paths"][p] != committed["paths"].get(p)
    )
    changed_components = sorted(
        name
        for name in set(live["components"]["schemas"]) | set(committed["components"]["schemas"])
        if live["components"]["schemas"].get(name) != committed["components"]["schemas"].get(name)
    )
    assert live == committed, (
        f"docs/openapi.yaml has drifted from the code (paths {changed_paths}, components {changed_components}): "
        f"run `{REGENERATE}` and commit the result."
    )


def test_the_schema_is_valid_and_generates_without_warnings():
    live = generated()
    assert not GENERATOR_STATS, "drf-spectacular warned while generating the schema; run the command to see why"
    validate_schema(live)
    assert live["openapi"].startswith("3.")
    assert all(path.startswith("/api/v1/") for path in live["paths"])
    # Every operation but the token request needs a token or a session.
    for path, operations in live["paths"].items():
        for method, operation in operations.items():
            if path == "/api/v1/auth/token/":
                assert operation.get("security") in (None, [], [{}]), (method, path)
            else:
                assert {"knoxApiToken": []} in operation["security"], (method, path)


@pytest.mark.django_db
def test_the_app_serves_the_same_schema(client):
    served = client.get(reverse("api:schema"), {"format": "json"})
    assert served.status_code == 200
    assert json.loads(served.content) == generated()
