"""`make bench`: the platform's speed as ratios, each measured side by side in one run.

    .venv/bin/python bench/run.py [--requests 200] [--rounds 5] [--import-rows 100000]
        [--screen 150] [--scale-small 10000] [--scale-large 1000000] [--keep] [--output FILE]

Figures (A vs B = the platform vs its baseline; goal on A/B unless said otherwise):
1. API overhead: `GET /api/v1/invoices/?page_size=50` (token, X-Organization, row-level security)
   vs a bare Django view returning the same 50 rows with JsonResponse (bench/views.py), both
   served by the same gunicorn workers. Requests per second; goal >= 0.35.
2. Row-level security cost: the same endpoint served as the application role vs as a role with
   BYPASSRLS (`scf_bench_bypass`), everything else equal. Goal >= 0.90.
3. Screening pipeline: submitted requests screened per second by a real Celery worker vs no-op
   tasks through the same broker and worker. Goal >= 0.30.
4. Bulk import: invoices per second landed by `invoices_import` from a CSV (1% duplicate numbers,
   which must all be caught) vs PostgreSQL COPY of the same CSV into a plain table. Goal >= 0.20.
   Also measured and printed: the invoice rows alone (COPY to a staging table, one INSERT ...
   SELECT into the invoice table), the most any import writing those rows could reach.
5. Scale shape: the invoice list and the approval queue with --scale-large invoices vs
   --scale-small, across 100 organizations (the measured tenant's share grows with the table):
   median time per request may grow at most 1.5x; and the number of queries per request at 100
   rows a page equals that at 10 (the invoice list, the approval queue, and the request list as
   the bank and as the supplier read it).

A and B run in alternating rounds (--rounds) and each side's figure is its best round: on a
machine shared with other work, noise only ever slows a round down; every round is in the JSON.

Everything runs on this machine: PostgreSQL databases `scf_bench` and `scf_bench_large` (created
and migrated by the owner role, dropped at the end unless --keep), Redis database 14
(BENCH_REDIS_URL), gunicorn on loopback ports, the load generator (bench/loadgen.py) in a
separate process. Sizes are parameters, so that CI can run a smoke version. Results go to
bench/results/latest.json.
"""

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
LOGS = ROOT / "var" / "bench" / os.environ.get("BENCH_DATABASE", "scf_bench")

OWNER_URL = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
    "DATABASE_URL", "postgres://scf_owner@127.0.0.1:5432/scf"
)
SUPERUSER = os.environ.get("BENCH_SUPERUSER", "postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# BENCH_DATABASE names the bench's throwaway databases, so that two runs can share a machine.
DB_SMALL = os.environ.get("BENCH_DATABASE", "scf_bench")
DB_LARGE = f"{DB_SMALL}_large"
BYPASS_ROLE = "scf_bench_bypass"

os.environ["DATABASE_URL"] = OWNER_URL
os.environ["TEST_DATABASE_NAME"] = DB_SMALL
os.environ["REDIS_URL"] = REDIS_URL
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-any-deployment-0123456789")

N_BANKS, N_CORES, N_SUPPLIERS = 4, 16, 80  # 100 organizations
REQUEST_EVERY = 20  # one invoice in 20 is held by a request waiting in a bank's queue


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


# Results ---------------------------------------------------------------------------------------


@dataclass
class Item:
    key: str
    title: str
    a_label: str
    a: float
    b_label: str
    b: float
    unit: str
    goal: str
    passed: bool
    ratio: float | None = None
    details: dict = field(default_factory=dict)

    def row(self) -> list[str]:
        ratio = "" if self.ratio is None else f"{self.ratio:.3f}"
        return [
            self.title,
            f"{self.a_label}: {self.a:,.1f} {self.unit}",
            f"{self.b_label}: {self.b:,.1f} {self.unit}",
            ratio,
            self.goal,
            "PASS" if self.passed else "FAIL",
        ]


def print_table(items: list[Item]) -> None:
    header = ["item", "figure A", "figure B", "ratio", "goal", "result"]
    rows = [header] + [item.row() for item in items]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    line = "+".join("-" * (w + 2) for w in widths)
    print(line)
    for index, row in enumerate(rows):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if index == 0:
            print(line)
    print(line)


# Databases -------------------------------------------------------------------------------------


def dsn(role: str, database: str) -> str:
    parts = urlsplit(OWNER_URL)
    return f"postgres://{role}@{parts.hostname or '127.0.0.1'}:{parts.port or 5432}/{database}"


def pg_connect(role: str, database: str, *, autocommit: bool = True):
    import psycopg2

    parts = urlsplit(OWNER_URL)
    conn = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=role,
        password=parts.password,
        dbname=database,
    )
    conn.autocommit = autocommit
    return conn


def owner_role() -> str:
    return urlsplit(OWNER_URL).username or "scf_owner"


def app_role() -> str:
    """The application's role (settings.DATABASE_APP_ROLE, which reads the same variable)."""
    return os.environ.get("DATABASE_APP_ROLE", "scf_app")


def ensure_bypass_role(member_of: str) -> None:
    """A login role with BYPASSRLS and the application role's privileges (it is a member of it):
    the only difference from the application role is that row-level security does not apply."""
    conn = pg_connect(SUPERUSER, "postgres")
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [BYPASS_ROLE])
        if cursor.fetchone() is None:
            cursor.execute(
                f'CREATE ROLE {BYPASS_ROLE} LOGIN BYPASSRLS NOSUPERUSER IN ROLE "{member_of}"'
            )
    conn.close()


def drop_database(name: str) -> None:
    conn = pg_connect(owner_role(), "postgres")
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def copy_database(source: str, target: str) -> None:
    drop_database(target)
    conn = pg_connect(owner_role(), "postgres")
    with conn.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}" OWNER "{owner_role()}"')
    conn.close()


@contextmanager
def system_sql(database: str):
    """An owner connection that sees every row (the platform scope, for the whole session):
    bulk data goes in with set-based SQL, not through the services."""
    conn = pg_connect(owner_role(), database, autocommit=False)
    with conn.cursor() as cursor:
        cursor.execute("SELECT set_config('scf.system', 'on', false)")
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


# The world: 100 organizations, their programs, the people the bench acts as ------------------


@dataclass
class World:
    banks: list[int]
    cores: list[int]
    suppliers: list[int]
    core_of: dict[int, int]  # supplier -> core
    program_of: dict[int, int]  # core -> program
    bank_of: dict[int, int]  # core -> bank
    actor_id: int
    supplier_token: str
    bank_token: str
    screen_supplier: int
    screen_maker_id: int
    import_seller: int
    import_maker_id: int
    import_buyer_code: str

    @property
    def supplier(self) -> int:
        return self.suppliers[0]

    @property
    def bank(self) -> int:
        return self.banks[0]


def credit_code(serial: int) -> str:
    from scf_platform.credit_code import credit_code_check_digit

    first17 = f"91440000{serial:09d}"
    return first17 + credit_code_check_digit(first17)


def seed_world() -> World:
    """Organizations, members with API tokens, one program per core enterprise with its
    suppliers onboarded: through the services, in the platform scope, as the application role."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from financing.services.programs import participant_add, program_create
    from scf_platform.models import Membership, Organization, OrganizationKind, Role
    from scf_platform.tenancy import Scope, scope_activated
    from suppliers.services import trade_link_create

    User = get_user_model()
    serial = iter(range(1, 10_000))

    def orgs(kind: str, prefix: str, count: int) -> list:
        return Organization.objects.bulk_create(
            Organization(kind=kind, name=f"{prefix} {i:03d}", credit_code=credit_code(next(serial)))
            for i in range(count)
        )

    def user(name: str, organization, role: str):
        # No password: the bench signs in with tokens (and hashing one costs ~0.3 s).
        person = User.objects.create_user(username=name, password=None)
        Membership.objects.create(user=person, organization=organization, role=role)
        return person

    with scope_activated(Scope.platform()):
        banks = orgs(OrganizationKind.BANK, "Bench Bank", N_BANKS)
        cores = orgs(OrganizationKind.ENTERPRISE, "Bench Core", N_CORES)
        suppliers = orgs(OrganizationKind.ENTERPRISE, "Bench Supplier", N_SUPPLIERS)
        (import_seller,) = orgs(OrganizationKind.ENTERPRISE, "Bench Importer", 1)
        bank_admins = [user(f"bank{i}-admin", b, Role.ADMIN) for i, b in enumerate(banks)]
        core_admins = [user(f"core{i}-admin", c, Role.ADMIN) for i, c in enumerate(cores)]
        programs, bank_of = {}, {}
        for index, core in enumerate(cores):
            bank = banks[index % N_BANKS]
            bank_of[core.pk] = bank.pk
            programs[core.pk] = program_create(
                bank=bank,
                actor=bank_admins[index % N_BANKS],
                name=f"Bench Program {index:02d}",
                core_enterprise=core,
                currency="CNY",
                credit_limit=Decimal("90000000000000.00"),
                advance_rate=Decimal("0.90"),
                annual_rate=Decimal("0.0435"),
                max_tenor_days=180,
                dual_approval_threshold=Decimal("90000000000000.00"),
                products=["receivables"],
            ).pk
        core_of = {}
        for index, supplier in enumerate(suppliers):
            core = cores[index % N_CORES]
            core_of[supplier.pk] = core.pk
            participant_add(
                program=_program(programs[core.pk]),
                core_enterprise=core,
                actor=core_admins[index % N_CORES],
                organization=supplier,
                role="supplier",
            )
        supplier_maker = user("supplier0-maker", suppliers[0], Role.MAKER)
        bank_checker = user("bank0-checker", banks[0], Role.CHECKER)
        # The screening figure's applicant: a supplier of core 1 (bank 1), outside the measured
        # tenants of the scale figure.
        screen_maker = user("supplier1-maker", suppliers[1], Role.MAKER)
        import_maker = user("import-maker", import_seller, Role.MAKER)
        trade_link_create(
            core_enterprise=cores[0],
            counterparty=import_seller,
            role="supplier",
            actor=core_admins[0],
        )
        return World(
            banks=[b.pk for b in banks],
            cores=[c.pk for c in cores],
            suppliers=[s.pk for s in suppliers],
            core_of=core_of,
            program_of=programs,
            bank_of=bank_of,
            actor_id=supplier_maker.pk,
            supplier_token=Token.objects.create(user=supplier_maker).key,
            bank_token=Token.objects.create(user=bank_checker).key,
            screen_supplier=suppliers[1].pk,
            screen_maker_id=screen_maker.pk,
            import_seller=import_seller.pk,
            import_maker_id=import_maker.pk,
            import_buyer_code=cores[0].credit_code,
        )


def _program(pk: int):
    from financing.models import Program

    return Program.objects.get(pk=pk)


FILL_INVOICES = """
WITH pairs AS (
    SELECT * FROM unnest(%(sellers)s::bigint[], %(buyers)s::bigint[])
        WITH ORDINALITY AS p(seller, buyer, k)
)
INSERT INTO suppliers_invoice (seller_id, buyer_id, number, issue_date, due_date, currency,
    amount, status, source, created_by_id, created_at, confirmed_by_id, confirmed_at,
    dispute_reason)
SELECT p.seller, p.buyer, %(prefix)s || g, current_date - 10, current_date + 30 + (g %% 120),
    'CNY', 1000 + (g %% 5000) * 10, 'confirmed', 'api', %(actor)s,
    now() - make_interval(secs => g), %(actor)s, now() - make_interval(secs => g), ''
FROM generate_series(1, %(count)s) AS g
JOIN pairs p ON p.k = (g %% %(pairs)s) + 1
"""

FILL_REQUESTS = """
WITH pairs AS (
    SELECT * FROM unnest(%(sellers)s::bigint[], %(programs)s::bigint[], %(banks)s::bigint[])
        AS p(seller, program, bank)
)
INSERT INTO financing_financingrequest (product, program_id, applicant_id, bank_id,
    core_enterprise_id, currency, requested_amount, status, advance_amount, day_count,
    maturity_date, reserved_amount, principal_outstanding, repaid_amount, late_interest_exact,
    late_interest_paid, screening, created_by_id, created_at, submitted_by_id, submitted_at,
    screened_at, queued_at)
SELECT 'receivables', p.program, i.seller_id, p.bank, i.buyer_id, 'CNY',
    round(i.amount * 0.9, 2), 'in_review', round(i.amount * 0.9, 2), '', i.due_date,
    round(i.amount * 0.9, 2), 0, 0, 0, 0, jsonb_build_object('bench_invoice', i.id),
    %(actor)s, i.created_at, %(actor)s, i.created_at, i.created_at, i.created_at
FROM suppliers_invoice i JOIN pairs p ON p.seller = i.seller_id
WHERE i.number LIKE %(like)s AND abs(hashint8(i.id)) %% %(every)s = 0
"""

FILL_HOLDS = """
INSERT INTO receivables_receivablehold (request_id, invoice_id, applicant_id, bank_id,
    core_enterprise_id, active, held_at)
SELECT r.id, (r.screening->>'bench_invoice')::bigint, r.applicant_id, r.bank_id,
    r.core_enterprise_id, true, r.submitted_at
FROM financing_financingrequest r WHERE r.screening ? 'bench_invoice'
"""


def fill(database: str, world: World, invoices: int) -> dict:
    """`invoices` confirmed invoices spread evenly over the 80 suppliers (sold to their core
    enterprises), one in 20 (by a hash of the id, so every bank gets its share) held by a request
    in its bank's queue; then VACUUM ANALYZE."""
    began = time.perf_counter()
    sellers = world.suppliers
    with system_sql(database) as conn, conn.cursor() as cursor:
        cursor.execute(
            FILL_INVOICES,
            {
                "sellers": sellers,
                "buyers": [world.core_of[s] for s in sellers],
                "prefix": "G",
                "actor": world.actor_id,
                "count": invoices,
                "pairs": len(sellers),
            },
        )
        cursor.execute(
            FILL_REQUESTS,
            {
                "sellers": sellers,
                "programs": [world.program_of[world.core_of[s]] for s in sellers],
                "banks": [world.bank_of[world.core_of[s]] for s in sellers],
                "actor": world.actor_id,
                "like": "G%",
                "every": REQUEST_EVERY,
            },
        )
        requests = cursor.rowcount
        cursor.execute(FILL_HOLDS)
    conn = pg_connect(owner_role(), database)
    with conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    conn.close()
    return {"invoices": invoices, "requests": requests, "seconds": time.perf_counter() - began}


# Processes: gunicorn, the Celery worker, the load generator -----------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(role: str, database: str) -> dict:
    env = dict(os.environ)
    env["DATABASE_URL"] = dsn(role, database)
    env["PYTHONPATH"] = str(ROOT)
    env.pop("TEST_DATABASE_NAME", None)
    return env


class Server:
    """gunicorn serving bench.settings on a loopback port, as `role` on `database`."""

    def __init__(self, name: str, role: str, database: str, workers: int) -> None:
        self.name, self.port = name, free_port()
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = LOGS / f"gunicorn-{name}.log"
        self.process = subprocess.Popen(  # noqa: S603
            [
                str(BIN / "gunicorn"),
                "scf_platform.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                # Sync workers (gunicorn's default): a keep-alive connection would stick to one
                # worker, and two load threads on one worker halve the throughput at random.
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=child_env(role, database),
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        import http.client

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited:\n{self.log.read_text()[-3000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.name} did not answer in 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def load(server: Server, path: str, headers: dict, args) -> dict:
    command = [
        sys.executable,
        str(ROOT / "bench" / "loadgen.py"),
        "--port",
        str(server.port),
        "--path",
        path,
        "--threads",
        str(args.threads),
        "--requests",
        str(args.requests),
        "--seconds",
        str(args.seconds),
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    result = json.loads(output)
    if result["ok"] != result["requests"] or result["ok"] == 0:
        raise RuntimeError(f"{server.name} {path}: not every request succeeded: {result}")
    return result


def side_by_side(a: tuple, b: tuple, args) -> tuple[dict, dict]:
    """Alternate rounds of A and B, so that drift in the machine's load hits both alike. Each
    side's figure is its best round (highest throughput, lowest median latency): on a shared
    machine, noise only ever slows a round down. Every round is kept in the details."""
    runs: dict[str, list[dict]] = {"a": [], "b": []}
    for _ in range(args.rounds):
        for key, (server, path, headers) in (("a", a), ("b", b)):
            runs[key].append(load(server, path, headers, args))

    def summary(results: list[dict]) -> dict:
        return {
            "requests": sum(r["ok"] for r in results),
            "rps": max(r["rps"] for r in results),
            "latency_median_ms": min(r["latency_median_ms"] for r in results),
            "latency_p95_ms": max(r["latency_p95_ms"] for r in results),
            "rows": results[0]["rows"],
            "rounds": results,
        }

    return summary(runs["a"]), summary(runs["b"])


class Worker:
    """A real `celery worker` (prefork, as in production) on its own queue, with the bench's
    no-op task and finished-task counter loaded."""

    def __init__(self, role: str, database: str, concurrency: int) -> None:
        self.queue = f"bench-{uuid.uuid4().hex[:10]}"
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = LOGS / "worker.log"
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "scf_platform",
                "worker",
                "-Q",
                self.queue,
                "--concurrency",
                str(concurrency),
                "--include",
                "bench.tasks",
                "--loglevel",
                os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{self.queue}@%h",
            ],
            cwd=ROOT,
            env=child_env(role, database),
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, redis_client) -> None:
        from bench.tasks import DONE_KEY

        # Ready when it has run a task: the no-op, sent before the clock starts.
        redis_client.delete(DONE_KEY)
        send("bench.tasks.noop", [], {}, self.queue)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log.read_text()[-3000:]}")
            if int(redis_client.get(DONE_KEY) or 0) >= 1:
                return
            time.sleep(0.1)
        raise RuntimeError("the Celery worker ran nothing in 90 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def send(name: str, args: list, kwargs: dict, queue: str, **options) -> None:
    from scf_platform.celery import app

    app.send_task(name, args=args, kwargs=kwargs, queue=queue, **options)


# 1, 2, 5: the HTTP figures ---------------------------------------------------------------------


def api_headers(token: str, organization: int) -> dict:
    return {"Authorization": f"Token {token}", "X-Organization": str(organization)}


INVOICES = "/api/v1/invoices/?page_size=50"


def api_overhead_item(world: World, servers: dict, args) -> Item:
    supplier = api_headers(world.supplier_token, world.supplier)
    bare = f"/bench/bare/invoices/?organization={world.supplier}&limit=50"
    say("1. API overhead: the invoice list vs a bare Django view, same gunicorn")
    api, plain = side_by_side(
        (servers["app"], INVOICES, supplier), (servers["app"], bare, {}), args
    )
    expected = min(50, args.scale_small // N_SUPPLIERS)
    if api["rows"] != expected or plain["rows"] != expected:
        raise RuntimeError(f"expected {expected} rows, got {api['rows']} and {plain['rows']}")
    ratio = api["rps"] / plain["rps"]
    return Item(
        "api_overhead",
        "1. API overhead (invoice list, 50 rows)",
        "API",
        api["rps"],
        "bare view",
        plain["rps"],
        "req/s",
        ">= 0.35",
        ratio >= 0.35,
        ratio,
        {"api": api, "bare": plain},
    )


def rls_item(world: World, servers: dict, args) -> Item:
    supplier = api_headers(world.supplier_token, world.supplier)
    say("2. Row-level security: the application role vs a BYPASSRLS role")
    rls, bypass = side_by_side(
        (servers["app"], INVOICES, supplier), (servers["bypass"], INVOICES, supplier), args
    )
    ratio = rls["rps"] / bypass["rps"]
    return Item(
        "rls_cost",
        "2. RLS cost (invoice list)",
        "app role",
        rls["rps"],
        "BYPASSRLS",
        bypass["rps"],
        "req/s",
        ">= 0.90",
        ratio >= 0.90,
        ratio,
        {"app_role": rls, "bypassrls": bypass},
    )


def scale_items(world: World, servers: dict, args) -> list[Item]:
    items = []
    supplier = api_headers(world.supplier_token, world.supplier)
    bank = api_headers(world.bank_token, world.bank)
    for key, title, path, headers in (
        ("scale_invoices", "5a. Scale: invoice list", "/api/v1/invoices/", supplier),
        ("scale_queue", "5b. Scale: approval queue", "/api/v1/approval-queue/", bank),
    ):
        say(f"{title}: {args.scale_large:,} vs {args.scale_small:,} invoices")
        large, small = side_by_side(
            (servers["large"], path, headers), (servers["app"], path, headers), args
        )
        growth = large["latency_median_ms"] / small["latency_median_ms"]
        items.append(
            Item(
                key,
                title,
                f"{args.scale_large:,}",
                large["latency_median_ms"],
                f"{args.scale_small:,}",
                small["latency_median_ms"],
                "ms/req",
                "<= 1.5 (A/B)",
                growth <= 1.5,
                growth,
                {"large": large, "small": small},
            )
        )
    return items


def query_count_item(world: World) -> Item:
    """Queries per request at 10 and at 100 rows a page (`?page_size=`), counted in-process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    say("5c. Queries per request at 10 and 100 rows a page")
    counts: dict[str, dict[int, int]] = {}
    for name, path, token, organization in (
        ("invoices", "/api/v1/invoices/", world.supplier_token, world.supplier),
        ("approval_queue", "/api/v1/approval-queue/", world.bank_token, world.bank),
        ("requests_bank", "/api/v1/financing-requests/", world.bank_token, world.bank),
        ("requests_supplier", "/api/v1/financing-requests/", world.supplier_token, world.supplier),
    ):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}", HTTP_X_ORGANIZATION=organization)
        counts[name] = {}
        for size in (10, 100):
            client.get(f"{path}?page_size={size}")  # warm (content types, caches)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"{path}?page_size={size}")
            assert response.status_code == 200, response.content[:500]
            body = response.json()
            if len(body["results"]) != min(size, body["count"]):
                raise RuntimeError(f"{path}?page_size={size}: {len(body['results'])} rows")
            counts[name][size] = len(queries)
    equal = all(c[10] == c[100] for c in counts.values())
    return Item(
        "queries_per_page",
        "5c. Queries per request, 100 vs 10 rows",
        "100 rows",
        sum(c[100] for c in counts.values()),
        "10 rows",
        sum(c[10] for c in counts.values()),
        "queries",
        "equal",
        equal,
        None,
        {"counts": counts},
    )


# 3: the screening pipeline ---------------------------------------------------------------------


def prepare_submitted(world: World, count: int) -> list[tuple[list, dict, dict]]:
    """`count` requests submitted through the services, each against its own confirmed invoice;
    the screening tasks they queue are kept back, to be sent when the clock runs."""
    from financing.models import Program
    from financing.services import drafting, screening
    from scf_platform.models import Organization
    from scf_platform.tenancy import Scope, scope_activated
    from suppliers.models import Invoice

    tag = uuid.uuid4().hex[:6]
    supplier = world.screen_supplier
    with system_sql(DB_SMALL) as conn, conn.cursor() as cursor:
        cursor.execute(
            FILL_INVOICES,
            {
                "sellers": [supplier],
                "buyers": [world.core_of[supplier]],
                "prefix": f"S{tag}-",
                "actor": world.screen_maker_id,
                "count": count,
                "pairs": 1,
            },
        )
    kept: list[tuple[list, dict, dict]] = []
    original = screening.app.send_task
    # Kept with the options the platform sends them with; the no-op tasks get the same.
    screening.app.send_task = lambda name, args=None, kwargs=None, **options: kept.append(
        (args, kwargs, options)
    )
    try:
        from django.contrib.auth import get_user_model

        maker = get_user_model().objects.get(pk=world.screen_maker_id)
        with scope_activated(Scope(organization_id=supplier, user_id=maker.pk)):
            applicant = Organization.objects.get(pk=supplier)
            program = Program.objects.get(pk=world.program_of[world.core_of[supplier]])
            invoices = list(
                Invoice.objects.filter(number__startswith=f"S{tag}-").values_list("pk", "amount")
            )
        for invoice_id, amount in invoices:
            with scope_activated(Scope(organization_id=supplier, user_id=maker.pk)):
                request = drafting.financing_request_create(
                    applicant=applicant,
                    actor=maker,
                    product="receivables",
                    program=program,
                    requested_amount=(amount * Decimal("0.5")).quantize(Decimal("0.01")),
                    invoices=[invoice_id],
                )
            with scope_activated(Scope(organization_id=supplier, user_id=maker.pk)):
                drafting.financing_request_submit(
                    request_id=request.pk, applicant=applicant, actor=maker
                )
    finally:
        screening.app.send_task = original
    assert len(kept) == count, (len(kept), count)
    return kept


def run_tasks(redis_client, worker: Worker, tasks: list[tuple[str, list, dict, dict]]) -> float:
    """Send the tasks and wait until the worker has finished them all; seconds taken."""
    from bench.tasks import DONE_KEY

    redis_client.delete(DONE_KEY)
    began = time.perf_counter()
    for name, args, kwargs, options in tasks:
        send(name, args, kwargs, worker.queue, **options)
    deadline = began + 600
    while int(redis_client.get(DONE_KEY) or 0) < len(tasks):
        if time.perf_counter() > deadline:
            raise RuntimeError("the worker did not finish the tasks in 600 s")
        time.sleep(0.005)
    return time.perf_counter() - began


def screening_item(world: World, args) -> Item:
    import redis
    from django.db.models import Count

    from financing.models import FinancingRequest, RequestStatus
    from financing.services.screening import SCREEN_TASK
    from scf_platform.tenancy import Scope, scope_activated

    say(f"3. Screening pipeline: {args.screen} requests vs {args.screen} no-op tasks, x2 rounds")
    client = redis.Redis.from_url(REDIS_URL)
    batches = [prepare_submitted(world, args.screen) for _ in range(2)]
    worker = Worker(app_role(), DB_SMALL, args.workers)
    try:
        worker.wait_ready(client)
        times = {"noop": [], "screen": []}
        for batch in batches:
            noops = [("bench.tasks.noop", *task) for task in batch]
            times["noop"].append(run_tasks(client, worker, noops))
            screens = [(SCREEN_TASK, *task) for task in batch]
            times["screen"].append(run_tasks(client, worker, screens))
    finally:
        worker.stop()
    ids = [args_[0] for batch in batches for args_, _kwargs, _options in batch]
    with scope_activated(Scope.platform()):
        statuses = dict(
            FinancingRequest.objects.filter(pk__in=ids)
            .values_list("status")
            .annotate(n=Count("pk"))
        )
    if statuses != {RequestStatus.IN_REVIEW: len(ids)}:
        raise RuntimeError(f"screening did not put every request in review: {statuses}")
    total = len(ids)
    # Best round of each, as for the HTTP figures.
    screened = args.screen / min(times["screen"])
    noop = args.screen / min(times["noop"])
    ratio = screened / noop
    return Item(
        "screening",
        "3. Screening pipeline",
        "screened",
        screened,
        "no-op",
        noop,
        "tasks/s",
        ">= 0.30",
        ratio >= 0.30,
        ratio,
        {"seconds": times, "requests": total, "worker_concurrency": args.workers},
    )


# 4: bulk import --------------------------------------------------------------------------------


def import_csv(world: World, rows: int) -> tuple[bytes, int, list[str]]:
    """A CSV of `rows` invoices of which 1% repeat a number: half of them an earlier row of the
    file, half an invoice uploaded before. Returns the CSV, the duplicates, the numbers that
    must exist beforehand."""
    duplicates = max(2, rows // 100)
    in_file = duplicates // 2
    already = duplicates - in_file
    lines = ["number,buyer_credit_code,issue_date,due_date,currency,amount"]
    from django.utils import timezone

    today = timezone.localdate()
    issued, due = today - timedelta(days=5), today + timedelta(days=60)
    existing = [f"IMP-{i:07d}" for i in range(already)]
    numbers = existing + [f"IMP-{i:07d}" for i in range(already, rows - in_file)]
    step = max(1, len(numbers) // max(1, in_file))
    numbers += [numbers[already + i * step % (len(numbers) - already)] for i in range(in_file)]
    for index, number in enumerate(numbers):
        lines.append(
            f"{number},{world.import_buyer_code},{issued},{due},CNY,{1000 + index % 9000}.50"
        )
    return ("\n".join(lines) + "\n").encode(), duplicates, existing


# The invoice rows alone, as cheaply as PostgreSQL takes them: no parsing or rules in Python, no
# events, no ledger. COPY into a temporary table (COPY FROM is refused on a table under row-level
# security), then one INSERT ... SELECT into the invoice table with everything the platform keeps
# on it: primary and unique keys, the list indexes, checks, foreign keys (checked at commit) and
# the row-level security policy's WITH CHECK.
_FLOOR_STAGE = (
    "CREATE TEMPORARY TABLE bench_floor_stage (number text, buyer_credit_code text,"
    " issue_date date, due_date date, currency text, amount numeric(18, 2)) ON COMMIT DROP"
)
_FLOOR_LAND = """
INSERT INTO suppliers_invoice (seller_id, buyer_id, number, issue_date, due_date, currency,
    amount, status, source, created_by_id, created_at, dispute_reason)
SELECT %s, organization.id, 'FLR-' || stage.number, stage.issue_date, stage.due_date,
    stage.currency, stage.amount, 'uploaded', 'csv', %s, now(), ''
FROM bench_floor_stage AS stage
JOIN scf_platform_organization AS organization
    ON organization.credit_code = stage.buyer_credit_code
ON CONFLICT (seller_id, number) DO NOTHING
"""


def import_floor_seconds(world: World, content: bytes) -> float:
    """Seconds to land the file's invoice rows alone (see _FLOOR_LAND), as the application role
    in the seller's scope, committed; the best of three, each removed afterwards."""
    times = []
    for _ in range(3):
        conn = pg_connect(app_role(), DB_SMALL, autocommit=False)
        with conn.cursor() as cursor:
            began = time.perf_counter()
            cursor.execute(
                "SELECT set_config('scf.organization_id', %s, true),"
                " set_config('scf.user_id', %s, true)",
                [str(world.import_seller), str(world.import_maker_id)],
            )
            cursor.execute(_FLOOR_STAGE)
            cursor.copy_expert(
                "COPY bench_floor_stage FROM STDIN WITH (FORMAT csv, HEADER true)",
                io.BytesIO(content),
            )
            cursor.execute(_FLOOR_LAND, [world.import_seller, world.import_maker_id])
            landed = cursor.rowcount
            conn.commit()
            times.append(time.perf_counter() - began)
        conn.close()
        if landed <= 0:
            raise RuntimeError("the invoice rows alone: nothing landed")
        with system_sql(DB_SMALL) as conn, conn.cursor() as cursor:
            cursor.execute("DELETE FROM suppliers_invoice WHERE number LIKE 'FLR-%%'")
    # What the deletes left behind must not slow down whatever is measured next.
    conn = pg_connect(owner_role(), DB_SMALL)
    with conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE suppliers_invoice")
    conn.close()
    return min(times)


def import_item(world: World, args) -> Item:
    from django.contrib.auth import get_user_model

    from scf_platform.models import Organization
    from scf_platform.tenancy import Scope, scope_activated
    from suppliers.imports import invoices_import

    say(f"4. Bulk import: {args.import_rows:,} rows via invoices_import vs COPY")
    content, duplicates, existing = import_csv(world, args.import_rows)
    with system_sql(DB_SMALL) as conn, conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO suppliers_invoice (seller_id, buyer_id, number, issue_date, due_date,"
            " currency, amount, status, source, created_by_id, created_at, dispute_reason)"
            " SELECT %s, %s, n, current_date, current_date + 30, 'CNY', 100, 'uploaded', 'api',"
            " %s, now(), '' FROM unnest(%s::text[]) AS n",
            [world.import_seller, world.cores[0], world.import_maker_id, existing],
        )
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_copy_invoice (number text, buyer_credit_code text,"
            " issue_date date, due_date date, currency text, amount numeric(18, 2))"
        )
    # COPY: the same bytes into a plain table, three times (the best), each committed.
    copy_times = []
    for _ in range(3):
        conn = pg_connect(owner_role(), DB_SMALL, autocommit=False)
        with conn.cursor() as cursor:
            cursor.execute("TRUNCATE bench_copy_invoice")
            conn.commit()
            began = time.perf_counter()
            cursor.copy_expert(
                "COPY bench_copy_invoice FROM STDIN WITH (FORMAT csv, HEADER true)",
                io.BytesIO(content),
            )
            conn.commit()
            copy_times.append(time.perf_counter() - began)
            cursor.execute("SELECT count(*) FROM bench_copy_invoice")
            copied = cursor.fetchone()[0]
        conn.close()
    assert copied == args.import_rows, copied

    floor_seconds = import_floor_seconds(world, content)
    seller = Organization.objects.get(pk=world.import_seller)
    maker = get_user_model().objects.get(pk=world.import_maker_id)
    # A fifth of the file first, on its own numbers: how the rate holds as a file grows.
    fifth = max(10, args.import_rows // 5)
    small = import_csv(world, fifth)[0].replace(b"\nIMP-", b"\nIMS-")
    began = time.perf_counter()
    with scope_activated(Scope(organization_id=seller.pk, user_id=maker.pk)):
        invoices_import(seller=seller, actor=maker, filename="fifth.csv", content=small)
    fifth_rate = fifth / (time.perf_counter() - began)
    began = time.perf_counter()
    with scope_activated(Scope(organization_id=seller.pk, user_id=maker.pk)):
        report = invoices_import(seller=seller, actor=maker, filename="bench.csv", content=content)
    import_seconds = time.perf_counter() - began
    caught = len(report.rejected)
    if caught != duplicates or report.created != args.import_rows - duplicates:
        raise RuntimeError(
            f"import: {report.created} created, {caught} rejected; expected "
            f"{args.import_rows - duplicates} and {duplicates}: {report.rejected[:3]}"
        )
    imported = args.import_rows / import_seconds
    copied_rate = args.import_rows / min(copy_times)
    ratio = imported / copied_rate
    floor_rate = args.import_rows / floor_seconds
    say(
        f"   the invoice rows alone (COPY to a staging table, one INSERT ... SELECT): "
        f"{floor_rate:,.0f} rows/s, {floor_rate / copied_rate:.3f} of COPY: the most any import "
        f"writing these rows could reach; invoices_import reaches {imported / floor_rate:.2f} of it"
    )
    return Item(
        "bulk_import",
        f"4. Bulk import ({args.import_rows:,} rows, 1% dup.)",
        "invoices_import",
        imported,
        "COPY",
        copied_rate,
        "rows/s",
        ">= 0.20",
        ratio >= 0.20,
        ratio,
        {
            "rows": args.import_rows,
            "csv_bytes": len(content),
            "duplicates_caught": caught,
            f"rows_per_second_at_{fifth}_rows": fifth_rate,
            "import_seconds": import_seconds,
            "copy_seconds": copy_times,
            "invoice_rows_alone_seconds": floor_seconds,
            "invoice_rows_alone_ratio_to_copy": floor_rate / copied_rate,
            "import_ratio_to_invoice_rows_alone": imported / floor_rate,
        },
    )


# Main ------------------------------------------------------------------------------------------


def parse_args():
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=int(env("BENCH_REQUESTS", 200)))
    parser.add_argument("--seconds", type=float, default=float(env("BENCH_SECONDS", 15)))
    parser.add_argument("--rounds", type=int, default=int(env("BENCH_ROUNDS", 5)))
    parser.add_argument("--threads", type=int, default=int(env("BENCH_THREADS", 2)))
    parser.add_argument("--workers", type=int, default=int(env("BENCH_WORKERS", 2)))
    parser.add_argument("--screen", type=int, default=int(env("BENCH_SCREEN", 150)))
    parser.add_argument("--import-rows", type=int, default=int(env("BENCH_IMPORT_ROWS", 100_000)))
    parser.add_argument("--scale-small", type=int, default=int(env("BENCH_SCALE_SMALL", 10_000)))
    parser.add_argument("--scale-large", type=int, default=int(env("BENCH_SCALE_LARGE", 1_000_000)))
    parser.add_argument("--only", default=env("BENCH_ONLY", ""), help="e.g. 1,2,5 or 3 or 4")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument("--output", help="where to write the JSON (default bench/results/)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    only = {part.strip() for part in args.only.split(",") if part.strip()}

    def wanted(number: str) -> bool:
        return not only or number in only

    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.db import connection

    application_role = settings.DATABASE_APP_ROLE
    started = time.perf_counter()
    say(f"creating and migrating {DB_SMALL} as {owner_role()}")
    drop_database(DB_LARGE)
    drop_database(DB_SMALL)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    ensure_bypass_role(application_role)
    redis.Redis.from_url(REDIS_URL).flushdb()
    # From here on, this process is the application: the unprivileged role, as in production.
    connection.close()
    connection.settings_dict["USER"] = application_role
    servers: dict[str, Server] = {}
    items: list[Item] = []
    fills = {}
    try:
        world = seed_world()
        connection.close()
        if wanted("5"):
            say(f"copying the seeded database to {DB_LARGE}")
            copy_database(DB_SMALL, DB_LARGE)
        say(f"filling {DB_SMALL} with {args.scale_small:,} invoices")
        fills["small"] = fill(DB_SMALL, world, args.scale_small)
        if wanted("5"):
            say(f"filling {DB_LARGE} with {args.scale_large:,} invoices")
            fills["large"] = fill(DB_LARGE, world, args.scale_large)
        if wanted("1") or wanted("2") or wanted("5"):
            servers["app"] = Server("app", application_role, DB_SMALL, args.workers)
            if wanted("2"):
                servers["bypass"] = Server("bypass", BYPASS_ROLE, DB_SMALL, args.workers)
            if wanted("5"):
                servers["large"] = Server("large", application_role, DB_LARGE, args.workers)
            for server in servers.values():
                server.wait_ready()
            if wanted("1"):
                items.append(api_overhead_item(world, servers, args))
            if wanted("2"):
                items.append(rls_item(world, servers, args))
            if wanted("5"):
                items += scale_items(world, servers, args)
            for server in servers.values():
                server.stop()
            servers.clear()
        if wanted("5"):
            items.append(query_count_item(world))
        if wanted("3"):
            items.append(screening_item(world, args))
        if wanted("4"):
            items.append(import_item(world, args))
    finally:
        for server in servers.values():
            server.stop()
        connection.close()
        redis.Redis.from_url(REDIS_URL).flushdb()
        if not args.keep:
            drop_database(DB_LARGE)
            drop_database(DB_SMALL)

    print()
    print_table(items)
    passed = sum(item.passed for item in items)
    took = time.perf_counter() - started
    print(f"{passed} of {len(items)} figures meet their goal ({took:.0f} s)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "parameters": {k: v for k, v in vars(args).items() if k != "keep"},
        "fills": fills,
        "items": [
            {
                "key": i.key,
                "title": i.title,
                "a": {"label": i.a_label, "value": i.a},
                "b": {"label": i.b_label, "value": i.b},
                "unit": i.unit,
                "ratio": i.ratio,
                "goal": i.goal,
                "passed": i.passed,
                "details": i.details,
            }
            for i in items
        ],
    }
    # A partial run (--only) leaves the latest full run's figures alone.
    name = f"only-{'-'.join(sorted(only))}.json" if only else "latest.json"
    output = Path(args.output) if args.output else RESULTS / name
    output.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
