"""Export the ledger, up to the latest checkpoint, for the standalone verifier."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ledger.export import ledger_export
from ledger.selectors import latest_checkpoint
from ledger.signing import key_id, public_key_pem, signing_key
from ledger.verifier import PINNED_KEY_FILE, parse_public_key
from scf_platform.tenancy import Scope, scope_activated


class Command(BaseCommand):
    help = (
        "Write the ledger's entries up to the latest checkpoint as JSON Lines (and the checkpoint "
        f"as JSON), and the platform's public key as {PINNED_KEY_FILE} next to them, for "
        "`python ledger/verifier.py OUT.jsonl CHECKPOINT.json` (which trusts that key file; "
        "check its key id against the published key out of band)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("out", help="where to write the export (JSON Lines)")
        parser.add_argument("--checkpoint", help="where to write the latest checkpoint (JSON)")

    def handle(self, *args, out: str, checkpoint: str | None, **options) -> None:
        # The configured key, never the checkpoint's own: a forged checkpoint row must not
        # bring its own key into the file the verifier trusts.
        key = signing_key(create=False)
        if key is None:
            raise CommandError(
                "No signing key configured (LEDGER_SIGNING_KEY): there is no public key to pin."
            )
        with scope_activated(Scope.platform()):
            signed = latest_checkpoint()
            if signed is None:
                raise CommandError(
                    "No checkpoint yet: sign one with `manage.py ledger_checkpoint`."
                )
            with Path(out).open("w", encoding="utf-8") as handle:
                written = ledger_export(handle, tree_size=signed.tree_size)
        if checkpoint:
            Path(checkpoint).write_text(json.dumps(signed.as_json(), indent=2) + "\n")
        pem = public_key_pem(key)
        pinned = Path(out).resolve().parent / PINNED_KEY_FILE
        pinned.write_text(pem)
        self.stdout.write(
            f"Exported {written} entries (checkpoint size {signed.tree_size}, root "
            f"{signed.root_hash}) to {out}"
            + (f"; checkpoint to {checkpoint}" if checkpoint else "")
            + f"; public key {key_id(parse_public_key(pem))} to {pinned}"
        )
