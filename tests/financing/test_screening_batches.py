"""Screening takes the applicant's other waiting requests with it: each is screened exactly as
if alone, in the order submitted, and nothing of another applicant is touched."""

from decimal import Decimal

import pytest

from financing.models import FinancingRequest, Program, ProgramParticipant, RequestEvent
from financing.models import RequestStatus as S
from financing.services import screening
from ledger.models import LedgerEntry
from scf_platform.models import Notification
from scf_platform.tenancy import Scope, scope_activated
from tests.financing.factories import make_chain, submit_request

pytestmark = pytest.mark.django_db


def waiting(chain, amounts: list[str]) -> list[FinancingRequest]:
    return [
        submit_request(chain, [chain.invoice("100000.00")], amount, screen=False)
        for amount in amounts
    ]


def screen_as_applicant(chain, request: FinancingRequest) -> FinancingRequest:
    with scope_activated(Scope(organization_id=chain.supplier.pk)):
        return screening.financing_request_screen(request_id=request.pk)


def statuses(requests) -> list[str]:
    return [FinancingRequest.objects.get(pk=r.pk).status for r in requests]


def test_one_task_screens_the_waiting_requests_in_order_each_as_if_alone():
    # Room for two of the three 40,000.00 advances: the newest is the one refused.
    chain = make_chain(credit_limit="90000.00")
    first, second, third = waiting(chain, ["40000.00", "40000.00", "40000.00"])

    screened = screen_as_applicant(chain, second)

    assert screened.pk == second.pk and screened.status == S.IN_REVIEW
    assert statuses([first, second, third]) == [S.IN_REVIEW, S.IN_REVIEW, S.REJECTED]
    third = FinancingRequest.objects.get(pk=third.pk)
    assert third.events.last().reason == "program_limit"
    assert not third.receivable_holds.filter(active=True).exists()
    assert Program.objects.get(pk=chain.program.pk).utilized == Decimal("80000.00")
    participant = ProgramParticipant.objects.get(program=chain.program, organization=chain.supplier)
    assert participant.utilized == Decimal("80000.00")
    for request in (first, second):
        request = FinancingRequest.objects.get(pk=request.pk)
        assert request.reserved_amount == request.advance_amount == Decimal("40000.00")
        assert request.screening["passed"] is True
    # One screening event each, one ledger entry each in the order screened (the rejected one's
    # collateral released just before its rejection), one notice each.
    assert RequestEvent.objects.filter(from_status=S.SUBMITTED).count() == 3
    subjects = list(
        LedgerEntry.objects.filter(
            kind__in=["request.in_review", "request.rejected", "collateral.released"]
        )
        .order_by("index")
        .values_list("kind", "subject")
    )
    assert subjects == [
        ("request.in_review", f"request:{second.pk}"),
        ("request.in_review", f"request:{first.pk}"),
        ("collateral.released", f"request:{third.pk}"),
        ("request.rejected", f"request:{third.pk}"),
    ]
    assert Notification.objects.filter(organization=chain.bank).count() == 2
    assert Notification.objects.filter(
        organization=chain.supplier, subject__contains="rejected"
    ).exists()


def test_a_request_already_screened_is_left_alone_and_nothing_is_written():
    chain = make_chain()
    (request,) = waiting(chain, ["40000.00"])
    screen_as_applicant(chain, request)
    events, entries = RequestEvent.objects.count(), LedgerEntry.objects.count()

    again = screen_as_applicant(chain, request)

    assert again.status == S.IN_REVIEW
    assert (RequestEvent.objects.count(), LedgerEntry.objects.count()) == (events, entries)
    assert Program.objects.get(pk=chain.program.pk).utilized == Decimal("40000.00")


def test_another_applicants_waiting_requests_are_not_taken():
    ours, theirs = make_chain(prefix="A "), make_chain(prefix="B ")
    (mine,) = waiting(ours, ["40000.00"])
    (other,) = waiting(theirs, ["40000.00"])

    screen_as_applicant(ours, mine)

    assert statuses([mine, other]) == [S.IN_REVIEW, S.SUBMITTED]


def test_a_batch_takes_at_most_the_configured_number(settings):
    settings.SCREENING_BATCH_SIZE = 2
    chain = make_chain()
    requests = waiting(chain, ["1000.00"] * 4)

    screen_as_applicant(chain, requests[3])

    # The named request first, then the oldest waiting.
    assert statuses(requests) == [S.IN_REVIEW, S.SUBMITTED, S.SUBMITTED, S.IN_REVIEW]
