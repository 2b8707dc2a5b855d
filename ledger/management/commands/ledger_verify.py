"""Verify the whole ledger as stored; exit non-zero on any problem."""

import os

from django.core.management.base import BaseCommand, CommandError

from ledger.signing import public_key_b64, signing_key
from ledger.verification import consistent_snapshot, ledger_verify
from ledger.verifier import parse_public_key
from scf_platform.tenancy import Scope, scope_activated


class Command(BaseCommand):
    help = (
        "Recompute every leaf hash, the tree at every checkpoint's size and the node cache; check "
        "that indexes are gapless and every checkpoint's signature and consistency with the one "
        "before. Prints each problem with its index; exits 1 if there is any."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--public-key",
            action="append",
            default=[],
            metavar="KEY",
            help="also trust this Ed25519 public key (base64, hex, PEM, or a file holding one), "
            "e.g. the key before a rotation; the configured signing key is always trusted",
        )

    def handle(self, *args, public_key: list[str], **options) -> None:
        trusted = []
        for text in public_key:
            try:
                if os.path.isfile(text):
                    with open(text, encoding="utf-8") as handle:
                        text = handle.read()
                trusted.append(parse_public_key(text))
            except (OSError, ValueError) as error:
                raise CommandError(f"--public-key: {error}") from None
        configured = signing_key(create=False)
        if configured is not None:
            trusted.append(parse_public_key(public_key_b64(configured)))
        with consistent_snapshot(), scope_activated(Scope.platform()):
            report = ledger_verify(trusted_keys=trusted)
        for note in report.notes:
            self.stdout.write(f"note: {note}")
        for problem in report.problems():
            self.stdout.write(f"problem: {problem}")
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))
