"""Celery tasks of the ledger."""

from ledger.services import ledger_checkpoint_sign
from scf_platform.celery import tenant_task


@tenant_task()
def checkpoint_sign() -> int | None:
    """Beat, every 10 minutes (platform scope): sign the tree head if it has grown."""
    checkpoint = ledger_checkpoint_sign(only_if_grown=True)
    return checkpoint.tree_size if checkpoint else None
