"""The ledger as the platform writes it: one leaf per business event, in the event's transaction,
strictly ordered without gaps; rows no one can rewrite; checkpoints signed with the right key."""

import base64
import hashlib
import json
import threading
from decimal import Decimal

import psycopg2
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import (
    IntegrityError,
    ProgrammingError,
    close_old_connections,
    connection,
    transaction,
)
from django.utils import timezone

from financing.services import decisions, drafting, money, screening
from ledger import verifier
from ledger.merkle import root_from_leaves
from ledger.models import (
    LedgerCheckpoint,
    LedgerEntry,
    LedgerEntryParty,
    LedgerHead,
    LedgerNode,
    node_id,
)
from ledger.selectors import ledger_size, root_at
from ledger.services import ledger_append, ledger_checkpoint_sign
from ledger.signing import SigningKeyMissing, signing_key
from ledger.tasks import checkpoint_sign
from ledger.verification import ledger_verify
from scf_platform.celery import app
from scf_platform.tenancy import Scope, scope_activated
from tests.factories import OrganizationFactory
from tests.financing.factories import make_chain, today
from tests.ledger.conftest import LEDGER_TABLES, append_events


def _flow(chain):
    """A receivables deal from upload to settlement, as the services run it."""
    invoice = chain.invoice("80000.00", days=60)
    request = drafting.financing_request_create(
        applicant=chain.supplier,
        actor=chain.supplier_maker,
        product="receivables",
        program=chain.program,
        requested_amount=Decimal("70000.00"),
        invoices=[invoice.pk],
    )
    drafting.financing_request_submit(
        request_id=request.pk, applicant=chain.supplier, actor=chain.supplier_maker
    )
    screening.financing_request_screen(request_id=request.pk)
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    money.financing_request_disburse(request_id=request.pk, bank=chain.bank, actor=chain.bank_maker)
    return invoice, request


def _events(entries):
    return [json.loads(bytes(e.leaf)) for e in entries]


@pytest.mark.django_db
def test_a_receivables_flow_appends_its_events_in_order_with_no_gaps():
    chain = make_chain()
    before = ledger_size()
    invoice, request = _flow(chain)
    money.financing_request_repay(
        request_id=request.pk,
        payer=chain.core,
        actor=chain.core_maker,
        amount=Decimal("70000.00"),
        paid_on=today(),
    )
    entries = list(LedgerEntry.objects.order_by("index"))
    assert [e.index for e in entries] == list(range(len(entries)))
    assert LedgerHead.objects.get().size == len(entries)
    kinds = [e.kind for e in entries if e.index >= before]
    assert kinds[:2] == ["invoice.uploaded", "invoice.confirmed"]
    for kind in ("request.submitted", "collateral.held", "request.in_review"):
        assert kind in kinds
    assert kinds.index("request.approved") < kinds.index("request.disbursed")
    assert kinds.index("request.disbursed") < kinds.index("request.repaid")
    assert kinds[-2:] == ["collateral.released", "request.settled"]
    # Each leaf is its canonical bytes, knows its own index, and hashes as RFC 9162 says.
    for entry, event in zip(entries, _events(entries), strict=True):
        assert event["index"] == entry.index
        assert bytes(entry.leaf_hash) == hashlib.sha256(b"\x00" + bytes(entry.leaf)).digest()
    repaid = next(e for e in entries if e.kind == "request.repaid")
    event = json.loads(bytes(repaid.leaf))
    assert event["payload"]["amount"] == "70000.00"
    assert event["parties"] == sorted([chain.supplier.pk, chain.bank.pk, chain.core.pk])
    # The head's root is the tree of exactly these leaves, and the node cache agrees with it.
    root = root_from_leaves([bytes(e.leaf_hash) for e in entries])
    assert root_at(len(entries)) == root
    n = len(entries)
    assert LedgerNode.objects.count() == 2 * n - bin(n).count("1")
    assert bytes(LedgerNode.objects.get(pk=node_id(0, 3)).hash) == bytes(entries[3].leaf_hash)


@pytest.mark.django_db
def test_a_part_repayment_appends_one_leaf_named_for_what_happened():
    # A repayment that leaves something owing keeps the request's status; its history row is no
    # approval, and the ledger names it once: "request.repaid" (it was also appended as
    # "request.approval_recorded", the kind of a first approval of two).
    chain = make_chain()
    _, request = _flow(chain)
    size = ledger_size()
    money.financing_request_repay(
        request_id=request.pk,
        payer=chain.core,
        actor=chain.core_maker,
        amount=Decimal("1000.00"),
        paid_on=today(),
    )
    kinds = list(
        LedgerEntry.objects.filter(index__gte=size).order_by("index").values_list("kind", flat=True)
    )
    assert kinds == ["request.repaid"]


@pytest.mark.django_db
def test_an_action_that_fails_after_its_event_leaves_no_entry(monkeypatch):
    chain = make_chain()
    _, request = _flow(chain)
    size = ledger_size()

    def broken_notice(*args, **kwargs):
        raise RuntimeError("mail server on fire")

    # Repaying appends "request.repaid", then fails while telling the parties: all rolls back.
    monkeypatch.setattr(money, "_tell", broken_notice)
    with pytest.raises(RuntimeError):
        money.financing_request_repay(
            request_id=request.pk,
            payer=chain.core,
            actor=chain.core_maker,
            amount=Decimal("1000.00"),
            paid_on=today(),
        )
    assert ledger_size() == size
    assert not LedgerEntry.objects.filter(index__gte=size).exists()
    assert not LedgerNode.objects.filter(pk=node_id(0, size)).exists()
    # The next event takes the index the rolled-back one would have had: no gap.
    monkeypatch.undo()
    money.financing_request_repay(
        request_id=request.pk,
        payer=chain.core,
        actor=chain.core_maker,
        amount=Decimal("1000.00"),
        paid_on=today(),
    )
    assert LedgerEntry.objects.get(index=size).kind == "request.repaid"


@pytest.mark.django_db
def test_a_rolled_back_transaction_takes_its_entries_with_it():
    chain = make_chain()
    size = ledger_size()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        chain.invoice("1000.00")
        assert ledger_size() == size + 2  # uploaded and confirmed, inside the transaction
        _ = 1 / 0
    assert ledger_size() == size
    assert LedgerEntry.objects.count() == size


@pytest.mark.django_db
def test_only_parties_read_an_entry_and_everyone_reads_the_hashes():
    chain = make_chain()
    invoice = chain.invoice("1000.00")
    outsider = OrganizationFactory()
    mine = LedgerEntry.objects.filter(subject=f"invoice:{invoice.pk}")
    assert mine.count() == 2
    indexes = list(mine.values_list("index", flat=True))
    with scope_activated(Scope(organization_id=chain.supplier.pk)):
        assert LedgerEntry.objects.filter(index__in=indexes).count() == 2
        assert set(indexes) <= set(
            LedgerEntry.objects.visible_to(chain.supplier).values_list("index", flat=True)
        )
    with scope_activated(Scope(organization_id=outsider.pk)):
        # No visible_to() here: row-level security alone keeps the content from the outsider,
        assert LedgerEntry.objects.filter(index__in=indexes).count() == 0
        assert LedgerEntryParty.objects.count() == 0
        assert LedgerEntry.objects.visible_to(outsider).count() == 0
        # while the hashes a proof is made of are there for anyone.
        assert LedgerNode.objects.filter(pk__in=[node_id(0, i) for i in indexes]).count() == 2
        assert ledger_size() > 0


@pytest.mark.django_db
def test_any_organization_appends_an_event_about_others():
    a, b = OrganizationFactory(), OrganizationFactory()
    with scope_activated(Scope(organization_id=a.pk)):
        entry = ledger_append(kind="test.notice", subject="x:1", parties=[b.pk], payload={})
        # A wrote it, but is not a party: the content is B's to read.
        assert not LedgerEntry.objects.filter(index=entry.index).exists()
    with scope_activated(Scope(organization_id=b.pk)):
        assert LedgerEntry.objects.get(index=entry.index).kind == "test.notice"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table", "update"),
    [
        ("ledger_ledgerentry", "kind = 'forged'"),
        ("ledger_ledgerentryparty", "organization_id = organization_id"),
        ("ledger_ledgernode", "hash = hash"),
        ("ledger_ledgercheckpoint", "root_hash = root_hash"),
    ],
)
def test_the_application_role_may_not_update_or_delete_ledger_rows(table, update):
    chain = make_chain()
    chain.invoice("1000.00")
    ledger_checkpoint_sign()
    for statement in (f"UPDATE {table} SET {update}", f"DELETE FROM {table}"):
        with (
            pytest.raises(ProgrammingError, match="permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    # The head moves forward with each append, but is never removed.
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM ledger_ledgerhead")


_FORGED_CHECKPOINT = (
    "INSERT INTO ledger_ledgercheckpoint"
    " (tree_size, root_hash, timestamp, signature, public_key, key_id, created_at)"
    " VALUES (1, repeat('ab', 32), '2026-01-01T00:00:00Z', 'x', 'y', 'z', now())"
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        # Rewinding the head (what the attacker did), and moving it by hand at all.
        "UPDATE ledger_ledgerhead SET size = 0, frontier = '[]'",
        "INSERT INTO ledger_ledgerhead (id, size, frontier) VALUES (1, 0, '[]')"
        " ON CONFLICT (id) DO UPDATE SET size = 0",
        # A node of a forged subtree, a forged checkpoint.
        "INSERT INTO ledger_ledgernode (id, hash) VALUES (10000001, sha256('forged'))",
        _FORGED_CHECKPOINT,
    ],
    ids=["head-update", "head-upsert", "node-insert", "checkpoint-insert"],
)
def test_the_application_role_may_not_write_the_tree(statement, settings):
    chain = make_chain()
    chain.invoice("1000.00")
    ledger_checkpoint_sign()
    size, checkpoints = ledger_size(), LedgerCheckpoint.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == settings.DATABASE_APP_ROLE
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert (ledger_size(), LedgerCheckpoint.objects.count()) == (size, checkpoints)
    # The platform's own appends and checkpoints go on as before, and the ledger verifies.
    chain.invoice("2000.00")
    ledger_checkpoint_sign()
    assert ledger_size() == size + 2
    report = ledger_verify()
    assert report.ok, report.problems()


def _raw_entry(index: int, leaf: bytes, digest: bytes | None = None) -> list:
    digest = hashlib.sha256(b"\x00" + leaf).digest() if digest is None else digest
    return [index, "test.raw", "raw:1", leaf, digest, timezone.now()]


_RAW_INSERT = (
    "INSERT INTO ledger_ledgerentry (index, kind, subject, leaf, leaf_hash, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)


@pytest.mark.django_db
def test_entries_the_application_role_inserts_itself_move_the_tree_only_in_order():
    """The app role may insert entries, but the tree follows them only at the head's size and
    with their true leaf hash: no gap, no overwrite of a place, no forged hash."""
    append_events(3, [OrganizationFactory().pk])
    size = ledger_size()
    for values, message in (
        (_raw_entry(size + 5, b"{}"), f"entry {size + 5} appended where the tree has {size}"),
        (_raw_entry(size, b"{}", b"\x11" * 32), "leaf_hash that is not the hash of its leaf"),
    ):
        with (
            pytest.raises(IntegrityError, match=message),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(_RAW_INSERT, values)
    assert ledger_size() == size
    # In order and with its true hash, the database itself saves its node and moves the head.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_RAW_INSERT, _raw_entry(size, b"{}"))
    assert ledger_size() == size + 1
    assert LedgerNode.objects.filter(pk=node_id(0, size)).exists()
    assert root_at(size + 1) == root_from_leaves(
        [
            bytes(h)
            for h in LedgerEntry.objects.order_by("index").values_list("leaf_hash", flat=True)
        ]
    )


@pytest.mark.django_db
def test_a_checkpoint_is_recorded_only_for_the_head_the_database_holds():
    append_events(3, [OrganizationFactory().pk])
    genuine = ledger_checkpoint_sign()
    for size, root in ((genuine.tree_size, "ab" * 32), (genuine.tree_size - 1, genuine.root_hash)):
        with (
            pytest.raises(IntegrityError, match="a checkpoint must sign the tree head"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "SELECT ledger_checkpoint_record(%s, %s, %s, %s, %s, %s)",
                [size, root, genuine.timestamp, genuine.signature, genuine.public_key, "k"],
            )
    assert LedgerCheckpoint.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_even_the_owner_is_refused_by_the_trigger(owner):
    with scope_activated(Scope.platform()):
        chain = make_chain()
        chain.invoice("1000.00")
        ledger_checkpoint_sign()
    statements = {
        "ledger_ledgerentry": "UPDATE ledger_ledgerentry SET kind = 'forged'",
        "ledger_ledgerentryparty": "UPDATE ledger_ledgerentryparty SET organization_id ="
        " organization_id",
        "ledger_ledgernode": "UPDATE ledger_ledgernode SET hash = hash",
        "ledger_ledgercheckpoint": "UPDATE ledger_ledgercheckpoint SET root_hash = root_hash",
    }
    assert set(statements) == set(LEDGER_TABLES)
    for table, update in statements.items():
        with pytest.raises(psycopg2.Error, match="append-only: UPDATE"):
            owner.execute(update)
        with pytest.raises(psycopg2.Error, match="append-only: DELETE"):
            owner.execute(f"DELETE FROM {table}")
    counts = {t: owner.execute(f"SELECT count(*) FROM {t}")[0][0] for t in LEDGER_TABLES}
    assert all(counts.values())
    assert owner.execute("SELECT count(*) FROM ledger_ledgerentry WHERE kind = 'forged'") == [(0,)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_queue_on_the_head_and_leave_no_gap():
    with scope_activated(Scope.platform()):
        a, b = OrganizationFactory(), OrganizationFactory()
    errors = []
    per_thread, threads = 15, 4
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with scope_activated(Scope(organization_id=a.pk)):
                    ledger_append(
                        kind="test.concurrent",
                        subject=f"t{n}:{i}",
                        parties=[a.pk, b.pk],
                        payload={"thread": n, "i": i},
                    )
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    with scope_activated(Scope.platform()):
        indexes = list(LedgerEntry.objects.order_by("index").values_list("index", flat=True))
        assert indexes == list(range(per_thread * threads))
        # Each thread's own events kept their order.
        for n in range(threads):
            mine = LedgerEntry.objects.filter(subject__startswith=f"t{n}:").order_by("index")
            assert list(mine.values_list("subject", flat=True)) == [
                f"t{n}:{i}" for i in range(per_thread)
            ]
        ledger_checkpoint_sign()
        assert ledger_verify().ok


@pytest.mark.django_db
def test_a_checkpoint_signs_size_root_and_time_as_the_standalone_verifier_reads_them():
    a = OrganizationFactory()
    append_events(5, [a.pk])
    checkpoint = ledger_checkpoint_sign()
    assert checkpoint.tree_size == 5
    assert checkpoint.root_hash == root_at(5).hex()
    data = checkpoint.as_json()
    assert set(data) == {"tree_size", "root_hash", "timestamp", "signature", "public_key", "key_id"}
    public = base64.b64decode(data["public_key"])
    message = verifier.signed_bytes(5, data["root_hash"], data["timestamp"])
    assert verifier.ed25519_verify(public, message, base64.b64decode(data["signature"]))
    assert not verifier.ed25519_verify(
        public,
        verifier.signed_bytes(6, data["root_hash"], data["timestamp"]),
        base64.b64decode(data["signature"]),
    )


@pytest.mark.django_db
def test_the_beat_task_signs_only_when_the_tree_has_grown():
    entry = app.conf.beat_schedule["ledger-checkpoint"]
    assert entry["task"] == checkpoint_sign.name
    assert entry["schedule"] == 600.0
    assert entry["kwargs"] == {"scope": {"system": True}}
    a = OrganizationFactory()
    append_events(3, [a.pk])
    assert checkpoint_sign(scope={"system": True}) == 3
    assert checkpoint_sign(scope={"system": True}) is None
    append_events(1, [a.pk])
    assert checkpoint_sign(scope={"system": True}) == 4
    assert list(LedgerCheckpoint.objects.order_by("id").values_list("tree_size", flat=True)) == [
        3,
        4,
    ]


@pytest.mark.django_db
def test_manage_ledger_checkpoint_prints_the_signed_checkpoint(capsys):
    append_events(2, [OrganizationFactory().pk])
    call_command("ledger_checkpoint")
    printed = json.loads(capsys.readouterr().out)
    assert printed == LedgerCheckpoint.objects.get().as_json()
    assert printed["tree_size"] == 2


def test_production_refuses_to_sign_without_a_key(settings, tmp_path):
    settings.DEBUG = False
    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_SIGNING_KEY_FILE = tmp_path / "key"
    with pytest.raises(SigningKeyMissing):
        signing_key()
    assert signing_key(create=False) is None
    assert not (tmp_path / "key").exists()


def test_development_generates_a_key_once_and_reuses_it(settings, tmp_path):
    settings.DEBUG = True
    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_SIGNING_KEY_FILE = tmp_path / "var" / "ledger_signing_key"
    assert signing_key(create=False) is None
    first = signing_key().private_bytes_raw()
    assert settings.LEDGER_SIGNING_KEY_FILE.stat().st_mode & 0o777 == 0o600
    assert signing_key().private_bytes_raw() == first
    assert base64.b64decode(settings.LEDGER_SIGNING_KEY_FILE.read_text()) == first


def test_the_configured_key_is_used_and_a_malformed_one_is_refused(settings, ledger_signing_key):
    assert signing_key().private_bytes_raw() == ledger_signing_key
    settings.LEDGER_SIGNING_KEY = base64.b64encode(b"short").decode()
    with pytest.raises(ImproperlyConfigured, match="32 raw bytes"):
        signing_key()
    settings.LEDGER_SIGNING_KEY = "not base64!"
    with pytest.raises(ImproperlyConfigured, match="base64"):
        signing_key()
