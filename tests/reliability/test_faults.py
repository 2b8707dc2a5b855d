"""Faults, injected into a private copy of the services (tests/reliability/stack.py): Redis
restarted while screening tasks wait in its queue, PostgreSQL restarted between two steps of the
flow. After recovery: every request in a valid state, money conserved (the program's `utilized`
is what the active requests reserve), nothing screened twice (one screening event a request),
and the ledger verifies (`manage.py ledger_verify`).

What survives a Redis restart: nothing that was in Redis. It runs with `--save "" --appendonly
no` (scripts/ensure-services), so queued tasks are lost. What is not lost is the submit: it is
committed in PostgreSQL before its task is sent. The beat task
`financing.tasks.requests_requeue_stale` queues the screening again for requests still
`submitted` after a while; a duplicate finds its request screened and does nothing. A submit made
while Redis is down stands too (the send after commit is robust) and is picked up the same way.

A worker killed mid-task is proved in tests/financing/test_guarantees.py.
"""

from decimal import Decimal

import pytest

from tests.reliability.stack import Stack, wait_until

pytestmark = pytest.mark.reliability

ACTIVE = ("submitted", "in_review", "approved", "disbursed", "overdue", "defaulted")
VALID = {"draft", "submitted", "in_review", "rejected", "approved", "disbursed", "withdrawn"}


@pytest.fixture
def stack():
    stack = Stack()
    try:
        yield stack.up()
    finally:
        stack.down()


def create_and_submit(stack: Stack, invoice: int, amount: str = "50000.00") -> int:
    seed = stack.seed
    as_supplier = {"token": seed["supplier_maker"], "organization": seed["supplier"]}
    status, body = stack.api(
        "POST",
        "/api/v1/financing-requests/",
        body={
            "product": "receivables",
            "program": seed["program"],
            "requested_amount": amount,
            "invoices": [invoice],
        },
        **as_supplier,
    )
    assert status == 201, body
    status, submitted = stack.api(
        "POST", f"/api/v1/financing-requests/{body['id']}/submit/", **as_supplier
    )
    assert status == 200, submitted
    return body["id"]


def statuses(stack: Stack, ids: list[int]) -> dict[int, str]:
    rows = stack.postgres.query(
        "SELECT id, status FROM financing_financingrequest WHERE id = ANY(%s)", [ids]
    )
    return dict(rows)


def assert_recovered(stack: Stack) -> None:
    """Every request in a valid state, screened at most once, money conserved, ledger intact."""
    query = stack.postgres.query
    states = dict(query("SELECT id, status FROM financing_financingrequest"))
    assert set(states.values()) <= VALID, states
    screenings = dict(
        query(
            "SELECT request_id, count(*) FROM financing_requestevent"
            " WHERE from_status = 'submitted' GROUP BY request_id"
        )
    )
    assert all(count == 1 for count in screenings.values()), screenings
    for request_id, status in states.items():
        if status not in ("draft", "submitted"):
            assert screenings.get(request_id) == 1 or status == "withdrawn", (request_id, status)
    ((utilized, reserved),) = query(
        "SELECT p.utilized, coalesce(sum(r.reserved_amount) FILTER"
        " (WHERE r.status = ANY(%s)), 0) FROM financing_program p"
        " LEFT JOIN financing_financingrequest r ON r.program_id = p.id"
        " WHERE p.id = %s GROUP BY p.id",
        [list(ACTIVE), stack.seed["program"]],
    )
    assert utilized == reserved, (utilized, reserved)
    stray = query(
        "SELECT id FROM financing_financingrequest WHERE NOT (status = ANY(%s))"
        " AND reserved_amount <> 0",
        [list(ACTIVE)],
    )
    assert not stray, stray
    verified = stack.manage("ledger_verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_redis_restarted_with_screening_queued_loses_no_request(stack):
    seed = stack.seed
    stack.start_web()
    # No worker yet: the screening tasks wait in Redis.
    queued = [create_and_submit(stack, invoice) for invoice in seed["invoices"][:4]]
    assert int(stack.redis.cli("llen", "celery")) == len(queued)

    stack.redis.shutdown_nosave()
    # Redis down: a submit still stands (committed), its task cannot be sent.
    during = create_and_submit(stack, seed["invoices"][4])
    stack.redis.start()
    assert int(stack.redis.cli("llen", "celery")) == 0, "Redis kept its queue"
    ids = [*queued, during]
    assert set(statuses(stack, ids).values()) == {"submitted"}

    stack.start_worker()
    # What beat does every two minutes, sent twice at once: duplicates are harmless.
    stack.send_task("financing.tasks.requests_requeue_stale", scope={"system": True},
                    older_than_seconds=0)  # fmt: skip
    stack.send_task("financing.tasks.requests_requeue_stale", scope={"system": True},
                    older_than_seconds=0)  # fmt: skip
    wait_until(
        lambda: set(statuses(stack, ids).values()) == {"in_review"},
        seconds=120,
        what="every request to be screened after the restart",
    )
    wait_until(
        lambda: int(stack.redis.cli("llen", "celery")) == 0,
        seconds=60,
        what="the duplicate screenings to be consumed",
    )
    assert_recovered(stack)
    ((utilized,),) = stack.postgres.query(
        "SELECT utilized FROM financing_program WHERE id = %s", [seed["program"]]
    )
    assert utilized == Decimal("50000.00") * len(ids)


def test_postgres_restarted_between_two_steps_of_the_flow(stack):
    seed = stack.seed
    stack.start_web()
    stack.start_worker()
    as_bank = {"token": seed["bank_checker"], "organization": seed["bank"]}
    as_bank_maker = {"token": seed["bank_maker"], "organization": seed["bank"]}
    first = create_and_submit(stack, seed["invoices"][0])
    wait_until(
        lambda: statuses(stack, [first]) == {first: "in_review"},
        seconds=60,
        what="the first request to be screened",
    )

    stack.postgres.restart()  # every connection of gunicorn and the worker is cut

    # The next steps, right after the restart: a decision, a new submit, a disbursement.
    status, body = stack.api("POST", f"/api/v1/financing-requests/{first}/approve/", **as_bank)
    assert status == 200, body
    assert body["status"] == "approved"
    second = create_and_submit(stack, seed["invoices"][1])
    status, body = stack.api(
        "POST", f"/api/v1/financing-requests/{first}/disburse/", body={}, **as_bank_maker
    )
    assert status == 200, body
    wait_until(
        lambda: statuses(stack, [second]) == {second: "in_review"},
        seconds=120,
        what="the request submitted after the restart to be screened",
    )
    assert statuses(stack, [first]) == {first: "disbursed"}
    assert_recovered(stack)
