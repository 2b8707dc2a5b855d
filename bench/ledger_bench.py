"""Ledger benchmark: what a ledger leaf costs per business event, and how fast verification is.

    DATABASE_URL=postgres://scf_owner@127.0.0.1:5432/scf \\
        .venv/bin/python bench/ledger_bench.py [--events 2000] [--rounds 10] [--verify 20000]

Runs on PostgreSQL in a throwaway database (`<name>_ledger_bench`, created, migrated and dropped
again by the owner role in DATABASE_URL), as the application role, with row-level security on,
exactly as the platform runs. Not a test: it prints figures and the one ratio the ledger is held
to (appending with the leaf keeps at least 20% of the plain throughput).

1. Events: each event is one transaction in the seller's scope that writes an invoice's audit
   row (InvoiceEvent); "with ledger" also sends the business event, whose receiver appends the
   leaf (head locked, entry, parties, subtree nodes, head moved). The two run in alternating
   rounds so that drift in the machine's load hits both alike.
2. Verification: the ledger is filled to --verify entries, a checkpoint is signed, then
   `ledger_verify` (everything, from the database) and the standalone verifier (on an export)
   are timed.
"""

import argparse
import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scf_platform.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="events per mode (default 2000)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds (default 10)")
    parser.add_argument(
        "--verify", type=int, default=20000, help="entries to verify (default 20000)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to PostgreSQL as the owner role (see the top of this file)")
    os.environ.setdefault(
        "TEST_DATABASE_NAME",
        os.environ["DATABASE_URL"].rsplit("/", 1)[-1].split("?")[0] + "_ledger_bench",
    )

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.LEDGER_SIGNING_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
    owner = connection.settings_dict["USER"]
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        connection.close()
        connection.settings_dict["USER"] = settings.DATABASE_APP_ROLE
        print(f"database {name} as {settings.DATABASE_APP_ROLE}; {os.cpu_count()} CPUs\n")
        rows = bench_events(args.events, args.rounds)
        rows += bench_verify(args.verify)
    finally:
        connection.close()
        connection.settings_dict["USER"] = owner
        if not args.keep:
            connection.creation.destroy_test_db(name, verbosity=0)
    print_table(rows)
    return 0


def _setup_deal():
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from scf_platform.models import Membership, Organization, OrganizationKind, Role
    from scf_platform.tenancy import Scope, scope_activated
    from suppliers.services import invoice_create, trade_link_create

    with scope_activated(Scope.platform()):
        seller = Organization.objects.create(
            kind=OrganizationKind.ENTERPRISE,
            name="Bench Supplier",
            credit_code="91310000BENCH0001X",
        )
        buyer = Organization.objects.create(
            kind=OrganizationKind.ENTERPRISE, name="Bench Core", credit_code="91310000BENCH0002X"
        )
        user = get_user_model().objects.create_user("bench")
        # One person acts for both sides here: the buyer's admin links, the seller's maker uploads.
        Membership.objects.create(user=user, organization=buyer, role=Role.ADMIN)
        Membership.objects.create(user=user, organization=seller, role=Role.MAKER)
        trade_link_create(core_enterprise=buyer, counterparty=seller, role="supplier", actor=user)
        invoice = invoice_create(
            seller=seller,
            buyer=buyer,
            number="BENCH-1",
            issue_date=timezone.localdate(),
            due_date=timezone.localdate() + timedelta(days=90),
            currency="CNY",
            amount=Decimal("100000.00"),
            actor=user,
        )
    return seller, buyer, invoice


def bench_events(events: int, rounds: int) -> list[tuple[str, str, str]]:
    from scf_platform.business_events import business_event_record
    from scf_platform.tenancy import Scope, scope_activated
    from suppliers.models import InvoiceEvent
    from suppliers.services import invoice_payload

    seller, buyer, invoice = _setup_deal()
    scope = Scope(organization_id=seller.pk)
    payload = invoice_payload(invoice)

    def one(n: int, *, ledger: bool) -> None:
        with scope_activated(scope):
            InvoiceEvent.objects.create(
                invoice=invoice,
                seller_id=seller.pk,
                buyer_id=buyer.pk,
                actor_organization=seller,
                from_status="uploaded",
                to_status="uploaded",
                reason=f"bench {n}",
            )
            if ledger:
                business_event_record(
                    kind="invoice.noted",
                    subject=f"invoice:{invoice.pk}",
                    parties=[seller.pk, buyer.pk],
                    payload={**payload, "from": "uploaded", "reason": f"bench {n}"},
                )

    for n in range(50):  # warm up connections, caches and plans
        one(n, ledger=False)
        one(n, ledger=True)
    spent = {False: 0.0, True: 0.0}
    per_round = max(1, events // rounds)
    for r in range(rounds):
        for ledger in (False, True) if r % 2 == 0 else (True, False):
            start = time.perf_counter()
            for n in range(per_round):
                one(n, ledger=ledger)
            spent[ledger] += time.perf_counter() - start
    done = per_round * rounds
    plain, with_ledger = done / spent[False], done / spent[True]
    ratio = with_ledger / plain
    verdict = "meets" if ratio >= 0.20 else "MISSES"
    return [
        ("events without ledger", f"{done} events", f"{plain:,.0f} events/s"),
        ("events with ledger leaf", f"{done} events", f"{with_ledger:,.0f} events/s"),
        ("ratio (goal >= 0.20)", "", f"{ratio:.2f} ({verdict} the goal)"),
    ]


def bench_verify(entries: int) -> list[tuple[str, str, str]]:
    from ledger.export import ledger_export
    from ledger.selectors import latest_checkpoint, ledger_size
    from ledger.services import ledger_append, ledger_checkpoint_sign
    from ledger.verification import ledger_verify
    from scf_platform.models import Organization
    from scf_platform.tenancy import Scope, scope_activated

    parties = list(Organization.objects.values_list("pk", flat=True)[:2])
    missing = max(0, entries - ledger_size())
    start = time.perf_counter()
    batch = 500
    for first in range(0, missing, batch):
        with scope_activated(Scope.platform()):
            for n in range(first, min(missing, first + batch)):
                ledger_append(
                    kind="bench.filled",
                    subject=f"bench:{n}",
                    parties=parties,
                    payload={"n": n, "amount": f"{n}.00", "note": "货物已入库"},
                )
    fill = time.perf_counter() - start
    with scope_activated(Scope.platform()):
        size = ledger_checkpoint_sign().tree_size
    rows = [
        ("append (500 per transaction)", f"{missing} entries", f"{missing / fill:,.0f} entries/s")
    ]

    start = time.perf_counter()
    with scope_activated(Scope.platform()):
        report = ledger_verify()
    spent = time.perf_counter() - start
    status = "ok" if report.ok else "FAILED"
    rows.append(
        (
            f"ledger_verify ({status})",
            f"{size} entries in {spent:.2f} s",
            f"{size / spent:,.0f} entries/s",
        )
    )

    with tempfile.TemporaryDirectory() as folder:
        export, checkpoint = Path(folder) / "ledger.jsonl", Path(folder) / "checkpoint.json"
        with scope_activated(Scope.platform()):
            signed = latest_checkpoint()
            start = time.perf_counter()
            with export.open("w") as handle:
                ledger_export(handle, tree_size=signed.tree_size)
            exported = time.perf_counter() - start
        checkpoint.write_text(json.dumps(signed.as_json()))
        start = time.perf_counter()
        result = subprocess.run(
            [
                *(sys.executable, str(ROOT / "ledger" / "verifier.py"), str(export)),
                *(str(checkpoint), "--public-key", signed.public_key),
            ],
            capture_output=True,
            text=True,
        )
        standalone = time.perf_counter() - start
    status = "ok" if result.returncode == 0 else "FAILED"
    rows.append(("export", f"{size} entries in {exported:.2f} s", f"{size / exported:,.0f}/s"))
    rows.append(
        (
            f"standalone verifier ({status})",
            f"{size} entries in {standalone:.2f} s",
            f"{size / standalone:,.0f} entries/s",
        )
    )
    return rows


def print_table(rows: list[tuple[str, str, str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    line = "+".join("-" * (w + 2) for w in widths)
    print(line)
    for row in rows:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print(line)


if __name__ == "__main__":
    sys.exit(main())
