"""The sweeper that makes a lost screening task harmless: requests still `submitted` after a while
are queued again (the broker keeps nothing on disk, the database keeps the submit). The end-to-end
proof, with Redis restarted under a real worker, is in test_faults.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from financing.models import FinancingRequest
from financing.services import periodic, screening
from financing.services.screening import SCREEN_TASK
from financing.tasks import requests_requeue_stale
from tests.financing.factories import make_chain
from tests.reliability.world import request_in

pytestmark = pytest.mark.django_db


def test_only_requests_submitted_long_ago_are_queued_again(monkeypatch):
    sent = []
    monkeypatch.setattr(screening.app, "send_task", lambda name, **kw: sent.append((name, kw)))
    chain = make_chain()
    # Screened first: screening takes the applicant's waiting requests with it.
    screened = request_in(chain, "in_review")
    stale = request_in(chain, "submitted")
    fresh = request_in(chain, "submitted")
    long_ago = timezone.now() - timedelta(minutes=6)
    FinancingRequest.objects.filter(pk__in=[stale.pk, screened.pk]).update(submitted_at=long_ago)
    sent.clear()

    assert periodic.requests_requeue_stale() == 1
    assert sent == [
        (
            SCREEN_TASK,
            {
                "args": [stale.pk],
                "kwargs": {"scope": {"organization_id": chain.supplier.pk}},
                "ignore_result": True,
            },
        )
    ]
    # The beat task, with a shorter wait, takes the fresh one too.
    assert requests_requeue_stale(older_than_seconds=0, scope={"system": True}) == 2
    assert {kw["args"][0] for _, kw in sent[1:]} == {stale.pk, fresh.pk}


def test_a_requeued_request_already_screened_is_left_alone():
    chain = make_chain()
    request = request_in(chain, "in_review")
    events = request.events.count()
    assert screening.financing_request_screen(request_id=request.pk).status == "in_review"
    assert request.events.count() == events
