"""Portal test helpers: a signed-in browser-like client per user, a receivables chain, requests
brought to a given state through the services."""

import html
import re

import pytest
from django.test import Client

from financing.services import decisions, money
from tests.financing.factories import make_chain
from tests.financing.factories import submit_request as submitted


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Portal tests make many users; a fast hasher keeps them quick (sign-in is not under test)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


@pytest.fixture
def as_user():
    return client_for


@pytest.fixture
def chain(db):
    return make_chain(threshold="500000.00")


@pytest.fixture
def other_chain(db):
    """Another bank, core enterprise and supplier who share nothing with `chain`."""
    return make_chain(prefix="Other ")


def approved(chain, amount="90000.00"):
    request = submitted(chain, [chain.invoice("100000.00")], amount)
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    request.refresh_from_db()
    return request


def disbursed(chain, amount="90000.00"):
    request = approved(chain, amount)
    money.financing_request_disburse(request_id=request.pk, bank=chain.bank, actor=chain.bank_maker)
    request.refresh_from_db()
    return request


def text(response) -> str:
    """The page's visible text, whitespace collapsed (tags dropped)."""
    body = response.content.decode()
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def h1(response) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S)
    return re.sub(r"\s+", " ", match.group(1)).strip()
