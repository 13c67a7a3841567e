"""A failing browser test leaves a screenshot of its last page in test-artifacts/; a passing one leaves none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

INNER_TESTS = """
def test_fails_on_its_last_page(page):
    page.set_content("<h1>The first page</h1>")
    page.set_content("<h1>The last page of the journey</h1>")
    assert page.inner_text("h1") == "something else"


def test_passes(page):
    page.set_content("<h1>Fine</h1>")
    assert page.inner_text("h1") == "Fine"
"""


def test_a_failing_browser_test_saves_its_last_page(tmp_path: Path, chromium_installed: None):
    # The suite's own browser fixtures and hook, run on two tests of their own in a separate pytest
    # (with no Chromium, both would be skipped there: this test is skipped here instead).
    (tmp_path / "conftest.py").write_text((Path(__file__).parent / "conftest.py").read_text())
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:django", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout, run.stdout
    shots = sorted((tmp_path / "test-artifacts").glob("*.png"))
    assert [shot.name for shot in shots] == ["test-inner.py-test-fails-on-its-last-page-chromium.png"]
    image = shots[0].read_bytes()
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 1000
