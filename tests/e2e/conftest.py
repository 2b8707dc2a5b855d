"""End-to-end set-up: Debian's Chromium driven by Playwright against pytest-django's live server;
data is committed (transactional_db) so that the server thread and the Celery worker see it."""

import os
import re
import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "correct-horse-battery"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls (setting up
# data, reading results) are plain synchronous code, so Django's async guard is told so.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class Person:
    """One user in a browser context of their own (their own cookies, language, session)."""

    def __init__(self, browser, base_url: str, user, *, width: int = 1280) -> None:
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, locale="en-US", base_url=base_url
        )
        self.context.set_default_timeout(15000)
        self.page = self.context.new_page()
        self.user = user

    def sign_in(self) -> "Person":
        page = self.page
        page.goto("/accounts/login/")
        page.fill("#id_username", self.user.username)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/portal/"))
        return self

    def go(self, path: str):
        return self.page.goto(path)

    def h1(self) -> str:
        return self.page.locator("h1").first.inner_text().strip()

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def person(browser, live_server):
    people: list[Person] = []

    def make(user, **kwargs) -> Person:
        someone = Person(browser, live_server.url, user, **kwargs)
        people.append(someone)
        return someone.sign_in()

    yield make
    for someone in people:
        someone.close()


def wait_until(check, *, timeout: float = 30.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False
