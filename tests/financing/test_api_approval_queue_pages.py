"""The approval queue in pages: `?page_size=` is honoured, the pages walk the queue oldest first
exactly once, and the number of queries does not depend on the page size."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from financing.models import FinancingRequest, RequestStatus
from scf_platform.models import Role
from tests.factories import member
from tests.financing.factories import make_chain, submit_request

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/approval-queue/"


def test_the_queue_in_pages_of_the_size_asked(api_as):
    chain = make_chain()
    queued = [
        submit_request(chain, [chain.invoice("1000.00", number=f"Q-{n:02d}")], "500.00").pk
        for n in range(12)
    ]
    assert FinancingRequest.objects.filter(status=RequestStatus.IN_REVIEW).count() == 12
    now = timezone.now()
    for age, pk in enumerate(queued):
        FinancingRequest.objects.filter(pk=pk).update(queued_at=now - timedelta(minutes=age))
    client = api_as(member(chain.bank, Role.VIEWER), chain.bank)

    seen, response = [], client.get(QUEUE, {"page_size": 5})
    while True:
        body = response.json()
        assert body["count"] == 12
        assert len(body["results"]) <= 5
        seen += [item["id"] for item in body["results"]]
        if body["next"] is None:
            break
        response = client.get(body["next"])
    assert seen == list(reversed(queued))

    counted = {}
    for size in (3, 10):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(QUEUE, {"page_size": size}).json()
        assert len(body["results"]) == size
        counted[size] = len(queries)
    assert counted[3] == counted[10]
