"""The tamper-evident event log: Merkle tree, signed checkpoints, proofs, verification."""

from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
