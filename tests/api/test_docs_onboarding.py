"""
The onboarding example of docs/api.md, run as printed against a live server: it onboards a
two-covenant facility from nothing, submits its first statement and prints the covenant tests,
which must be what the page says it prints. Only the server's address and the administrator's
credentials are replaced.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
SECTION = "## Onboarding a facility from nothing"
PASSWORD = "x-portal-docs-password-1"


def example() -> tuple[str, str]:
    """The section's Python code and the output it says the code prints."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    printed = re.search(r"It prints:\n\n```\n(.*?)```", section, re.S)
    assert code and printed, f"{SECTION} of docs/api.md has lost its example or its output"
    return code.group(1), printed.group(1)


def test_the_section_names_the_demo_server_and_administrator():
    code, _ = example()
    assert 'BASE = "http://127.0.0.1:8000/api/v1"' in code
    assert 'USERNAME, PASSWORD = "admin", "portal-demo-2000"' in code


@pytest.mark.django_db(transaction=True)
def test_the_onboarding_example_runs_as_printed(live_server):
    get_user_model().objects.create_superuser("docs.admin", "docs.admin@example.com", PASSWORD)
    code, printed = example()
    code = code.replace('"http://127.0.0.1:8000/api/v1"', repr(f"{live_server.url}/api/v1"))
    code = code.replace('"admin", "portal-demo-2000"', repr("docs.admin") + ", " + repr(PASSWORD))
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, str(DOC), "exec"), {"__name__": "docs_example"})  # noqa: S102 (our own page's code)
    assert output.getvalue() == printed
