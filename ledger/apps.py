"""The tamper-evident event log: Merkle tree, signed checkpoints, proofs, verification."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LedgerConfig(AppConfig):
    name = "ledger"

    def ready(self) -> None:
        from ledger.privileges import revoke_rewrites
        from ledger.receivers import (
            business_event_append,
            business_events_append,
            business_transaction_lock,
        )
        from scf_platform.business_events import (
            business_event,
            business_events,
            business_transaction_started,
        )

        business_event.connect(business_event_append, dispatch_uid="ledger_append")
        business_events.connect(business_events_append, dispatch_uid="ledger_append_many")
        business_transaction_started.connect(business_transaction_lock, dispatch_uid="ledger_lock")
        # Sent for this app after scf_platform's, whose handler grants every table first.
        post_migrate.connect(revoke_rewrites, sender=self, dispatch_uid="ledger_revoke_rewrites")
