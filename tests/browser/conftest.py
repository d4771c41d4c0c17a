"""Playwright fixtures for the browser tests: Debian's Chromium, one browser per test.

Playwright's download of its own browsers does not work everywhere, so the tests drive the
system Chromium (``apt-get install chromium``; CHROMIUM_PATH points elsewhere). Without it
the tests skip on a developer machine and fail in CI (``tests.conftest.require``).
"""

import os
from pathlib import Path

import pytest
from django.db import connections

from tests.conftest import require

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an event loop running in the test thread, and Django
    refuses ORM calls from a thread with a running loop. The test thread only sets up and
    checks data between browser steps, never concurrently, so allow it: for these tests only.
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 takes over a second per hash here; four of them would double the journey."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def browser():
    require(
        CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK),
        f"needs Chromium at {CHROMIUM} (apt-get install chromium)",
    )
    from playwright.sync_api import sync_playwright

    # Function scope on purpose: the event loop must stop before any non-browser test runs.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
            # While Playwright's loop runs, asgiref keeps Django's connections per context,
            # not per thread, so the test body got connections of its own. Close them
            # before the loop stops, or PostgreSQL refuses to drop the test database.
            connections.close_all()


@pytest.fixture
def new_context(browser):
    """Make an English, UTC, desktop-sized browser context (one per signed-in person)."""
    contexts = []

    def make():
        context = browser.new_context(
            locale="en-US", timezone_id="UTC", viewport={"width": 1366, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def artifacts_dir():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class PageProblems:
    """Everything a page got wrong on the way: failed requests, JS errors, CSP reports."""

    def __init__(self):
        self.items = []

    def watch(self, page):
        page.on("pageerror", lambda error: self.items.append(f"page error: {error}"))
        page.on("console", self._console)
        page.on(
            "response",
            lambda response: (
                self.items.append(f"HTTP {response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )
        page.on("requestfailed", self._request_failed)
        return page

    def _request_failed(self, request):
        # A navigation cancels what the page still had in flight (say an htmx poll): not a bug.
        if request.failure == "net::ERR_ABORTED":
            return
        self.items.append(f"request failed: {request.url} ({request.failure})")

    def _console(self, message):
        if message.type != "error":
            return
        url = message.location.get("url", "")
        self.items.append(f"console error: {message.text} ({url})")


@pytest.fixture
def page_problems():
    return PageProblems()


@pytest.fixture
def sign_in(live_server):
    """Sign a person in through the real login form; returns the page on their queue."""
    from playwright.sync_api import expect

    def do(page, username, password=PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{live_server.url}/tickets/")
        return page

    return do
