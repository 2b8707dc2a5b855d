"""Sign a checkpoint of the ledger now and print it."""

import json

from django.core.management.base import BaseCommand, CommandError

from ledger.services import ledger_checkpoint_sign
from ledger.signing import SigningKeyMissing
from scf_platform.tenancy import Scope, scope_activated


class Command(BaseCommand):
    help = "Sign the ledger's current tree head (size, root hash, time) and print the checkpoint."

    def handle(self, *args, **options) -> None:
        try:
            with scope_activated(Scope.platform()):
                checkpoint = ledger_checkpoint_sign()
        except SigningKeyMissing as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(checkpoint.as_json(), indent=2))
