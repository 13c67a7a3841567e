"""
Browser tests: Playwright drives the system Chromium against a live server.

Playwright's sync API runs an event loop on the test thread, and Django refuses ORM calls
under a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The browser and that setting
are scoped to this package, not the session: both end with the last browser test, so no
other test runs under either.

When a test fails, its last page is saved as test-artifacts/<test>.png (git ignores it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Keep each phase's report on the test, so the page fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package", autouse=True)
def _orm_allowed_under_playwright() -> Iterator[None]:
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if saved is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture(scope="package")
def chromium_installed() -> None:
    """Skip the test unless the system Chromium is installed, saying how to install it; in CI,
    where the browser tests must run, fail instead."""
    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium is not installed at {CHROMIUM}: install it (apt-get install chromium)"
            " or point CHROMIUM at one to run the browser tests."
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="package")
def chromium(chromium_installed: None, _orm_allowed_under_playwright: None):
    """The system Chromium (Playwright cannot download browsers here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def artifact_name(nodeid: str) -> str:
    """A file name for a test: its node id with anything but letters, digits, dots and dashes as dashes."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", nodeid).strip("-")[:180] + ".png"


@pytest.fixture
def page(chromium, request: pytest.FixtureRequest):
    """A fresh browser page at laptop width; on failure, the last page is saved as a screenshot."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and context.pages:
        folder = request.config.rootpath / ARTIFACTS
        folder.mkdir(exist_ok=True)
        context.pages[-1].screenshot(path=str(folder / artifact_name(request.node.nodeid)), full_page=True)
    context.close()
