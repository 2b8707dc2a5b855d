"""The receivables guarantees under real concurrency, against PostgreSQL: a program's limit holds
however many requests race, an invoice is financed once whoever the banks are, an approval
happens once, and a worker killed mid-screening loses nothing and repeats nothing.

Each racing call runs in its own thread, so on its own database connection, and the threads are
released together by a barrier. Data is committed (transactional tests) so that the other
connections and the real Celery worker see it.
"""

import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from financing.models import (
    Approval,
    FinancingRequest,
    Program,
    ProgramParticipant,
    RequestEvent,
    RequestStatus,
)
from financing.products.base import AlreadyFinanced
from financing.products.receivables.models import ReceivableHold
from financing.services import decisions, drafting, screening
from financing.services.programs import participant_add, program_create
from scf_platform.celery import app
from scf_platform.errors import IllegalTransition
from scf_platform.models import OrganizationKind, Role
from scf_platform.tenancy import Scope, scope_activated
from tests.conftest import WorkerProcess, _worker_env
from tests.factories import OrganizationFactory, member
from tests.financing.factories import make_chain

S = RequestStatus
ACTIVE = (S.SUBMITTED, S.IN_REVIEW, S.APPROVED, S.DISBURSED, S.OVERDUE, S.DEFAULTED)


# Helpers ---------------------------------------------------------------------------------------


def platform():
    return scope_activated(Scope.platform())


def race(calls: list[Callable[[], object]]) -> list[tuple[str, object]]:
    """Run each call in its own thread (its own connection), all released at once by a barrier.
    Returns, in order, ("ok", result) or ("error", exception) per call."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, object] | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            # Connect before the barrier, so that the calls start together, not the connects.
            connection.ensure_connection()
            barrier.wait(timeout=60)
            outcomes[index] = ("ok", call())
        except Exception as error:  # the outcome is what the test inspects
            outcomes[index] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing call never finished"
    return outcomes  # type: ignore[return-value]


def wait_until(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up after {seconds} s waiting for {what}")


def new_log(worker: WorkerProcess, offset: int) -> str:
    with worker.log.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def log_size(worker: WorkerProcess) -> int:
    return worker.log.stat().st_size if worker.log.exists() else 0


def assert_no_task_failed(log: str) -> None:
    """A task that raised (a CHECK violation, an illegal transition) would leave its request
    stuck or half-done: say so at once, with the worker's words."""
    if "raised unexpected" in log:
        start = log.index("raised unexpected")
        raise AssertionError(f"a task failed in the worker:\n{log[start - 200 : start + 2500]}")


def draft(chain, invoice, amount="90000.00", *, program=None) -> FinancingRequest:
    return drafting.financing_request_create(
        applicant=chain.supplier,
        actor=chain.supplier_maker,
        product="receivables",
        program=program or chain.program,
        requested_amount=Decimal(amount),
        invoices=[invoice.pk],
    )


def in_review(chain, invoice, amount) -> FinancingRequest:
    """A request screened into the bank's queue, in-process (no worker involved)."""
    request = draft(chain, invoice, amount)
    drafting.financing_request_submit(
        request_id=request.pk, applicant=chain.supplier, actor=chain.supplier_maker
    )
    request = screening.financing_request_screen(request_id=request.pk)
    assert request.status == S.IN_REVIEW, request.screening
    return request


def applicant_scope(chain) -> Scope:
    return Scope(organization_id=chain.supplier.pk, user_id=chain.supplier_maker.pk)


def failed_checks(request: FinancingRequest) -> set[str]:
    return {check["code"] for check in request.screening["checks"] if not check["passed"]}


def assert_money_conserved(program_id: int) -> Program:
    """The program's and every participant's `utilized` are exactly what the active requests
    reserve; nothing else holds any reservation; and the limits hold."""
    with platform():
        program = Program.objects.get(pk=program_id)
        requests = FinancingRequest.objects.filter(program_id=program_id)
        reserved = requests.filter(status__in=ACTIVE).aggregate(t=Sum("reserved_amount"))["t"]
        assert program.utilized == (reserved or 0)
        assert 0 <= program.utilized <= program.credit_limit
        assert not requests.exclude(status__in=ACTIVE).exclude(reserved_amount=0).exists()
        for participant in ProgramParticipant.objects.filter(program_id=program_id):
            mine = requests.filter(status__in=ACTIVE, applicant_id=participant.organization_id)
            assert participant.utilized == (mine.aggregate(t=Sum("reserved_amount"))["t"] or 0)
            assert participant.limit is None or participant.utilized <= participant.limit
    return program


def assert_screened_once(request_ids: list[int]) -> None:
    """Every request left `submitted` exactly once, by the screening."""
    with platform():
        for request_id in request_ids:
            screenings = RequestEvent.objects.filter(request_id=request_id, from_status=S.SUBMITTED)
            assert list(screenings.values_list("to_status", flat=True)) in (
                [S.IN_REVIEW],
                [S.REJECTED],
            ), request_id
            status = FinancingRequest.objects.get(pk=request_id).status
            assert status == screenings.get().to_status


@pytest.fixture
def sent_tasks(monkeypatch):
    """Tasks the services queue, recorded instead of sent: the tests without a worker screen
    in-process and must leave nothing in the session's queue for a later worker."""
    sent: list[tuple[str, list, dict]] = []
    lock = threading.Lock()

    def record(name, args=None, kwargs=None, **options):
        with lock:
            sent.append((name, list(args or ()), dict(kwargs or {})))

    monkeypatch.setattr(screening.app, "send_task", record)
    return sent


# 1. The program limit, with a real worker ------------------------------------------------------

CREDIT_LIMIT = Decimal("1000000.00")
ADVANCE = Decimal("90000.00")


@pytest.mark.worker
def test_the_program_limit_holds_when_twenty_requests_race(celery_worker_process):
    log_offset = log_size(celery_worker_process)
    with platform():
        chain = make_chain(credit_limit=str(CREDIT_LIMIT), threshold="5000000.00")
        # 90% of 100,000 = 90,000: the whole requested amount is advanced.
        invoices = [chain.invoice("100000.00", days=90) for _ in range(20)]
    scope = applicant_scope(chain)

    def apply(invoice):
        # Create, then submit: two transactions, as the API's two calls are.
        def call():
            with scope_activated(scope):
                request = draft(chain, invoice, str(ADVANCE))
            with scope_activated(scope):
                drafting.financing_request_submit(
                    request_id=request.pk, applicant=chain.supplier, actor=chain.supplier_maker
                )
            return request.pk

        return call

    outcomes = race([apply(invoice) for invoice in invoices])
    assert [kind for kind, _ in outcomes] == ["ok"] * 20, outcomes
    request_ids = [request_id for _, request_id in outcomes]

    def all_screened() -> bool:
        assert_no_task_failed(new_log(celery_worker_process, log_offset))
        with platform():
            # Read while the worker screens: the limit is never passed, not even for a moment.
            program = Program.objects.get(pk=chain.program.pk)
            assert program.utilized <= program.credit_limit
            return not FinancingRequest.objects.filter(
                pk__in=request_ids, status=S.SUBMITTED
            ).exists()

    wait_until(all_screened, seconds=60, what="the worker to screen 20 requests")

    program = assert_money_conserved(chain.program.pk)
    with platform():
        requests = list(FinancingRequest.objects.filter(pk__in=request_ids))
    queued = [r for r in requests if r.status == S.IN_REVIEW]
    rejected = [r for r in requests if r.status == S.REJECTED]
    fits = int(CREDIT_LIMIT // ADVANCE)
    assert (len(queued), len(rejected)) == (fits, 20 - fits) == (11, 9)
    assert program.utilized == sum(r.advance_amount for r in queued) == fits * ADVANCE
    assert all(r.reserved_amount == ADVANCE for r in queued)
    # Rejected for the limit and for nothing else; their invoices are free again.
    assert all(failed_checks(r) == {"program_limit"} for r in rejected)
    with platform():
        held = set(ReceivableHold.objects.filter(active=True).values_list("request_id", flat=True))
    assert held == {r.pk for r in queued}
    assert_screened_once(request_ids)
    assert_no_task_failed(new_log(celery_worker_process, log_offset))


# 2. One invoice, two requests ------------------------------------------------------------------


def second_program_of_another_bank(chain) -> Program:
    bank = OrganizationFactory(kind=OrganizationKind.BANK, name="Other Bank")
    program = program_create(
        bank=bank,
        actor=member(bank, Role.ADMIN),
        name="Other Program",
        core_enterprise=chain.core,
        currency=chain.program.currency,
        credit_limit=Decimal("10000000.00"),
        advance_rate=Decimal("0.90"),
        annual_rate=Decimal("0.0400"),
        max_tenor_days=180,
        dual_approval_threshold=Decimal("500000.00"),
        products=["receivables"],
    )
    participant_add(
        program=program,
        core_enterprise=chain.core,
        actor=member(chain.core, Role.ADMIN),
        organization=chain.supplier,
        role="supplier",
    )
    return program


@pytest.mark.parametrize("banks", ["same program", "two banks"])
def test_an_invoice_is_financed_once_when_two_submits_race(transactional_db, sent_tasks, banks):
    with platform():
        chain = make_chain()
        invoice = chain.invoice("100000.00")
        other = chain.program if banks == "same program" else second_program_of_another_bank(chain)
        # Both drafts exist before either is submitted: nothing is held yet.
        first = draft(chain, invoice)
        second = draft(chain, invoice, program=other)
    scope = applicant_scope(chain)

    def submit(request):
        def call():
            with scope_activated(scope):
                return drafting.financing_request_submit(
                    request_id=request.pk, applicant=chain.supplier, actor=chain.supplier_maker
                ).pk

        return call

    outcomes = race([submit(first), submit(second)])

    winners = [value for kind, value in outcomes if kind == "ok"]
    errors = [value for kind, value in outcomes if kind == "error"]
    assert len(winners) == 1 and len(errors) == 1, outcomes
    assert isinstance(errors[0], AlreadyFinanced)
    assert errors[0].code == "already_financed"
    winner = winners[0]
    loser = second.pk if winner == first.pk else first.pk
    with platform():
        assert FinancingRequest.objects.get(pk=winner).status == S.SUBMITTED
        assert FinancingRequest.objects.get(pk=loser).status == S.DRAFT
        assert list(
            RequestEvent.objects.filter(request_id=loser).values_list("to_status", flat=True)
        ) == [S.DRAFT]
        holds = ReceivableHold.objects.filter(invoice=invoice, active=True)
        assert list(holds.values_list("request_id", flat=True)) == [winner]
    # Only the winner's screening was queued: the loser's transaction never committed.
    screenings = [args for name, args, _ in sent_tasks if name == screening.SCREEN_TASK]
    assert screenings == [[winner]]
    for program in {chain.program.pk, other.pk}:
        assert assert_money_conserved(program).utilized == 0


# 3. Approvals ----------------------------------------------------------------------------------


def approve_as(chain, request, checker):
    scope = Scope(organization_id=chain.bank.pk, user_id=checker.pk)

    def call():
        with scope_activated(scope):
            return decisions.financing_request_approve(
                request_id=request.pk, bank=chain.bank, actor=checker
            ).status

    return call


def approved_events(request) -> int:
    return RequestEvent.objects.filter(request=request, to_status=S.APPROVED).count()


@pytest.mark.parametrize("who", ["two checkers", "one checker twice"])
def test_a_single_approval_request_is_approved_once(transactional_db, sent_tasks, who):
    with platform():
        chain = make_chain(threshold="500000.00")
        request = in_review(chain, chain.invoice("100000.00"), "90000.00")
    second = chain.bank_checker2 if who == "two checkers" else chain.bank_checker

    outcomes = race(
        [approve_as(chain, request, chain.bank_checker), approve_as(chain, request, second)]
    )

    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    assert [value for kind, value in outcomes if kind == "ok"] == [S.APPROVED]
    assert all(isinstance(v, IllegalTransition) for kind, v in outcomes if kind == "error")
    with platform():
        request.refresh_from_db()
        assert request.status == S.APPROVED
        assert approved_events(request) == 1
        assert Approval.objects.filter(request=request).count() == 1
    assert assert_money_conserved(chain.program.pk).utilized == Decimal("90000.00")


def test_four_eyes_with_two_checkers_at_once_approves_once(transactional_db, sent_tasks):
    with platform():
        chain = make_chain(threshold="50000.00")
        request = in_review(chain, chain.invoice("100000.00"), "90000.00")

    outcomes = race(
        [
            approve_as(chain, request, chain.bank_checker),
            approve_as(chain, request, chain.bank_checker2),
        ]
    )

    # One call records the first approval, the other (whichever comes second) approves.
    assert sorted(value for _, value in outcomes) == [S.APPROVED, S.IN_REVIEW], outcomes
    with platform():
        request.refresh_from_db()
        assert request.status == S.APPROVED
        assert approved_events(request) == 1
        checkers = set(Approval.objects.filter(request=request).values_list("checker", flat=True))
        assert checkers == {chain.bank_checker.pk, chain.bank_checker2.pk}
    assert assert_money_conserved(chain.program.pk).utilized == Decimal("90000.00")


def test_four_eyes_cannot_be_met_by_one_checker_racing_himself(transactional_db, sent_tasks):
    with platform():
        chain = make_chain(threshold="50000.00")
        request = in_review(chain, chain.invoice("100000.00"), "90000.00")

    outcomes = race([approve_as(chain, request, chain.bank_checker)] * 2)

    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, IllegalTransition)
    assert error.code == "second_checker_required"
    with platform():
        request.refresh_from_db()
        assert request.status == S.IN_REVIEW
        assert approved_events(request) == 0
        assert Approval.objects.filter(request=request).count() == 1


# 4. A worker killed mid-screening --------------------------------------------------------------

# Seconds an unacknowledged task waits before Redis gives it to another worker (an hour in
# production: settings read CELERY_VISIBILITY_TIMEOUT, which only tests set).
VISIBILITY_TIMEOUT = 3


class ProgramRowLock(threading.Thread):
    """Holds `SELECT ... FOR UPDATE` on the program row in an open transaction of its own
    connection, until released: screening, which locks that row, waits inside its transaction."""

    def __init__(self, program_id: int) -> None:
        super().__init__(daemon=True)
        self.program_id = program_id
        self.locked = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        try:
            with platform():
                Program.objects.select_for_update().get(pk=self.program_id)
                self.locked.set()
                self.release.wait(timeout=120)
        finally:
            connection.close()


def blocked_backends() -> int:
    """Sessions of this (the test's own) database waiting for a lock. The first screening waits
    for the holder; the second waits behind the first, for the row's tuple lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0"
        )
        return cursor.fetchone()[0]


def task_ids(log: str, outcome: str) -> set[str]:
    """Ids of the screening tasks the worker log says were `received` or `succeeded`."""
    marker = f"Task {screening.SCREEN_TASK}["
    found = set()
    for line in log.splitlines():
        if marker in line:
            task_id, rest = line.split(marker, 1)[1].split("]", 1)
            if rest.split()[:1] == [outcome]:
                found.add(task_id)
    return found


def workflow_state(request_ids: list[int]) -> dict:
    with platform():
        return {
            "requests": sorted(
                FinancingRequest.objects.filter(pk__in=request_ids).values_list(
                    "pk", "status", "reserved_amount"
                )
            ),
            "events": RequestEvent.objects.filter(request_id__in=request_ids).count(),
            "holds": ReceivableHold.objects.filter(active=True).count(),
            "utilized": Program.objects.filter(
                pk=FinancingRequest.objects.get(pk=request_ids[0]).program_id
            ).values_list("utilized", flat=True)[0],
        }


@pytest.mark.worker
def test_a_worker_killed_while_screening_loses_nothing_and_repeats_nothing(
    transactional_db, celery_queue, tmp_path
):
    with platform():
        # Room for two of the five: the redelivered tasks must not reserve twice.
        chain = make_chain(credit_limit="250000.00", threshold="5000000.00")
        invoices = [chain.invoice("100000.00", days=90) for _ in range(5)]
    # Only this test's tasks in the queue (a failed earlier test may have left some behind).
    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge(celery_queue)
    request_ids = []
    for invoice in invoices:
        with scope_activated(applicant_scope(chain)):
            request = draft(chain, invoice, str(ADVANCE))
            drafting.financing_request_submit(
                request_id=request.pk, applicant=chain.supplier, actor=chain.supplier_maker
            )
        request_ids.append(request.pk)

    lock = ProgramRowLock(chain.program.pk)
    lock.start()
    first = WorkerProcess(celery_queue, _worker_env())  # production's hour-long visibility
    first.log = tmp_path / "first-worker.log"
    second = WorkerProcess(
        celery_queue, {**_worker_env(), "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    )
    second.log = tmp_path / "second-worker.log"
    try:
        assert lock.locked.wait(timeout=30), "could not lock the program row"
        first.start(concurrency=2)
        # Both pool processes are inside a screening transaction, waiting for the row.
        wait_until(
            lambda: blocked_backends() == 2,
            seconds=60,
            what="two screenings to block on the program row",
        )
        first.kill(9)
        in_flight = task_ids(first.log.read_text(errors="replace"), "received")
        # The two blocked, and any the worker had prefetched: all unacknowledged, all lost with it.
        assert len(in_flight) >= 2, in_flight
        lock.release.set()
        lock.join(timeout=30)
        with platform():
            # Nothing of the killed screenings was committed.
            assert (
                not FinancingRequest.objects.filter(pk__in=request_ids)
                .exclude(status=S.SUBMITTED)
                .exists()
            )
            assert Program.objects.get(pk=chain.program.pk).utilized == 0

        second.start(concurrency=2)

        def all_screened() -> bool:
            assert_no_task_failed(second.log.read_text(errors="replace"))
            with platform():
                return not FinancingRequest.objects.filter(
                    pk__in=request_ids, status=S.SUBMITTED
                ).exists()

        def redelivered() -> bool:
            return in_flight <= task_ids(second.log.read_text(errors="replace"), "received")

        # Every request screened, and the killed worker's tasks came back to the new worker (the
        # others it took fresh). A task may find its request screened already: screening takes
        # the applicant's other waiting requests with it.
        wait_until(
            lambda: all_screened() and redelivered(),
            seconds=60,
            what="the new worker to screen every request and receive the lost tasks again",
        )

        # A task is also delivered again when its worker dies after the commit but before the
        # acknowledgement, or when it outlives the visibility timeout: send every screening
        # once more; nothing may change.
        screened = workflow_state(request_ids)
        repeats = {
            app.send_task(
                screening.SCREEN_TASK,
                args=[request_id],
                kwargs={"scope": applicant_scope(chain).as_dict()},
            ).id
            for request_id in request_ids
        }

        def repeats_done() -> bool:
            log = second.log.read_text(errors="replace")
            assert_no_task_failed(log)
            return repeats <= task_ids(log, "succeeded")

        wait_until(repeats_done, seconds=60, what="the repeated screenings")
        assert workflow_state(request_ids) == screened
    finally:
        lock.release.set()
        first.kill(9)
        second.stop()

    assert_screened_once(request_ids)
    program = assert_money_conserved(chain.program.pk)
    with platform():
        requests = list(FinancingRequest.objects.filter(pk__in=request_ids))
    queued = [r for r in requests if r.status == S.IN_REVIEW]
    rejected = [r for r in requests if r.status == S.REJECTED]
    assert (len(queued), len(rejected)) == (2, 3)
    assert program.utilized == sum(r.reserved_amount for r in queued) == 2 * ADVANCE
    assert all(failed_checks(r) == {"program_limit"} for r in rejected)
