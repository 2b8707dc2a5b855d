"""Ledger test set-up: a fixed signing key, and a connection as the database owner (the only
role that can even try to rewrite the ledger) for the tamper tests."""

import base64
import os
from contextlib import contextmanager

import dj_database_url
import psycopg2
import pytest
from django.db import connection

from ledger.services import ledger_append, ledger_checkpoint_sign
from scf_platform.tenancy import Scope, scope_activated
from tests.factories import OrganizationFactory
from tests.financing.factories import make_chain

SIGNING_KEY_RAW = bytes(range(1, 33))
LEDGER_TABLES = (
    "ledger_ledgerentry",
    "ledger_ledgerentryparty",
    "ledger_ledgernode",
    "ledger_ledgercheckpoint",
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # make_chain() creates a dozen users; PBKDF2 would spend seconds on each test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def ledger_signing_key(settings):
    settings.LEDGER_SIGNING_KEY = base64.b64encode(SIGNING_KEY_RAW).decode()
    return SIGNING_KEY_RAW


class Owner:
    """psycopg2 autocommit connection as the owner role to the test database. It sees only what
    is committed, so tests using it commit their data (transactional_db)."""

    def __init__(self) -> None:
        owner = dj_database_url.parse(os.environ["DATABASE_URL"])
        db = connection.settings_dict
        self.conn = psycopg2.connect(
            dbname=db["NAME"],
            user=owner["USER"],
            password=owner.get("PASSWORD") or None,
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
        )
        self.conn.autocommit = True
        # Row-level security is forced on the owner too; an attacker would first step around it.
        self.execute("SELECT set_config('scf.system', 'on', false)")

    def execute(self, sql: str, params=None) -> list[tuple]:
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    @contextmanager
    def transaction(self):
        """Several statements as one transaction (deferred foreign keys checked at the end)."""
        self.conn.autocommit = False
        try:
            with self.conn:
                yield self
        finally:
            self.conn.autocommit = True

    @contextmanager
    def triggers_disabled(self):
        """What an attacker with the owner's password would do first."""
        for table in LEDGER_TABLES:
            self.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            yield self
        finally:
            for table in LEDGER_TABLES:
                self.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def owner(transactional_db):
    handle = Owner()
    yield handle
    handle.close()


def append_events(count: int, parties: list[int], *, kind: str = "test.event") -> None:
    for n in range(count):
        ledger_append(
            kind=kind,
            subject=f"test:{n}",
            parties=parties,
            payload={"n": n, "amount": f"{n * 1000}.00", "note": "货物已入库"},
        )


@pytest.fixture
def committed_ledger(transactional_db):
    """A committed ledger: a real receivables chain's events and synthetic ones between two
    other organizations (about 45 entries), with checkpoints along the way, the first empty."""
    sizes = []
    with scope_activated(Scope.platform()):
        sizes.append(ledger_checkpoint_sign().tree_size)
        chain = make_chain()
        chain.invoice("50000.00")
        other_a, other_b = OrganizationFactory(), OrganizationFactory()
        sizes.append(ledger_checkpoint_sign().tree_size)
    for count in (4, 12, 25):
        with scope_activated(Scope.platform()):
            append_events(count, [other_a.pk, other_b.pk])
            sizes.append(ledger_checkpoint_sign().tree_size)
    return {"chain": chain, "others": (other_a, other_b), "sizes": sizes}
