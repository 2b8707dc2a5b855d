"""Fixtures of the reliability suite: a ledger signing key (checkpoints are signed in the world it
builds)."""

import base64

import pytest


@pytest.fixture(autouse=True)
def _ledger_signing_key(settings):
    settings.LEDGER_SIGNING_KEY = base64.b64encode(bytes(range(101, 133))).decode()


@pytest.fixture
def quiet_broker(monkeypatch):
    """Tests that commit (transactional) without a worker: what the services queue (screening,
    documents) is recorded, not sent, so nothing is left in a queue for anyone else."""
    from scf_platform.celery import app

    sent: list[tuple] = []
    monkeypatch.setattr(app, "send_task", lambda name, *a, **k: sent.append((name, a, k)))
    return sent
