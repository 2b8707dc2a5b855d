"""Password guessing (issue 12, item 1): failures count per username and per real client
address, with a wait that doubles past the free ones, on the API token endpoint, the portal's
sign-in and /admin/login/; no header the client writes changes the count."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from scf_platform.throttle import client_address, login_delay
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's


class Clock:
    """time.time() under the test's control, for the throttle and the in-process cache alike."""

    def __init__(self, monkeypatch) -> None:
        self.now = time.time()
        monkeypatch.setattr(time, "time", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _token(username: str, password: str, address: str = "198.51.100.7", forwarded: str = ""):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, **extra
    )


def test_forty_guesses_with_varying_forwarded_for_then_the_right_password_give_no_token():
    member(OrganizationFactory(), username="alice")
    for n in range(40):
        _token("alice", f"guess-{n}", forwarded=f"203.0.113.{n}")
    response = _token("alice", PASSWORD, forwarded="203.0.113.250")
    assert response.status_code == 429, response.content
    assert "token" not in response.json()


def test_guesses_from_many_addresses_slow_down_the_account_not_only_the_address(settings):
    member(OrganizationFactory(), username="alice")
    for n in range(settings.LOGIN_FREE_FAILURES):
        assert _token("alice", "wrong", address=f"192.0.2.{n}").status_code == 400
    refused = _token("alice", PASSWORD, address="192.0.2.200")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == settings.LOGIN_DELAY_BASE


def test_the_wait_doubles_and_is_not_a_lockout(monkeypatch, settings):
    clock = Clock(monkeypatch)
    member(OrganizationFactory(), username="alice")
    free, base = settings.LOGIN_FREE_FAILURES, settings.LOGIN_DELAY_BASE
    for n in range(free):
        _token("alice", "wrong", address=f"192.0.2.{n}")
    clock.advance(base + 1)
    # One more wrong password after the wait: the next wait is twice as long.
    assert _token("alice", "wrong", address="192.0.2.100").status_code == 400
    clock.advance(base + 1)
    assert _token("alice", PASSWORD).status_code == 429
    clock.advance(base)
    response = _token("alice", PASSWORD)
    assert response.status_code == 200, response.content
    assert response.json()["token"]
    # A success starts the count again: the free failures are free again.
    for _ in range(free - 1):
        _token("alice", "wrong")
    assert _token("alice", PASSWORD).status_code == 200


def test_one_address_guessing_many_usernames_is_slowed_down(settings):
    settings.LOGIN_ADDRESS_FREE_FAILURES = 8
    member(OrganizationFactory(), username="alice")
    for n in range(8):
        _token(f"user-{n}", "wrong", address="198.51.100.9")
    assert _token("alice", PASSWORD, address="198.51.100.9").status_code == 429
    assert _token("alice", PASSWORD, address="198.51.100.10").status_code == 200


def test_the_portal_sign_in_counts_per_username_across_addresses(settings):
    member(OrganizationFactory(), username="alice")
    for n in range(settings.LOGIN_FREE_FAILURES):
        Client(REMOTE_ADDR=f"192.0.2.{n}").post(
            "/accounts/login/", {"username": "alice", "password": "wrong"}
        )
    response = Client(REMOTE_ADDR="192.0.2.99").post(
        "/accounts/login/", {"username": "Alice ", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert b"Too many failed sign-ins" in response.content


def test_admin_login_has_the_same_limits(settings):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    for n in range(settings.LOGIN_FREE_FAILURES):
        Client(REMOTE_ADDR=f"192.0.2.{n}").post(
            "/admin/login/", {"username": "root", "password": "wrong"}
        )
    response = Client().post(
        "/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD}
    )
    assert response.status_code == 200  # the form again, not the redirect into the admin
    assert b"Too many failed sign-ins" in response.content


def test_the_client_address_trusts_only_the_configured_proxies(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.1"  # the header is the client's to write
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "2.2.2.2"  # what our one proxy saw
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == "1.1.1.1"
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0  # DRF's throttles read it the same way


def test_the_delay_grows_from_the_free_failures_to_its_cap(settings):
    settings.LOGIN_DELAY_BASE, settings.LOGIN_DELAY_MAX = 30, 3600
    assert [login_delay(n, free=5) for n in (0, 4, 5, 6, 7, 8, 20)] == [
        0,
        0,
        30,
        60,
        120,
        240,
        3600,
    ]
