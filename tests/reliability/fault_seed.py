"""Seeds the private database of the fault tests (tests/reliability/stack.py): one receivables
program, confirmed invoices, API tokens. Prints one JSON line with the ids and tokens."""

import json
import os

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scf_platform.settings")
    django.setup()
    from django.conf import settings
    from rest_framework.authtoken.models import Token

    from scf_platform.tenancy import Scope, scope_activated
    from tests.financing.factories import make_chain

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with scope_activated(Scope.platform()):
        chain = make_chain(credit_limit="1000000.00", threshold="900000.00")
        invoices = [chain.invoice("100000.00").pk for _ in range(12)]

        def token(user) -> str:
            return Token.objects.create(user=user).key

        seed = {
            "bank": chain.bank.pk,
            "core": chain.core.pk,
            "supplier": chain.supplier.pk,
            "program": chain.program.pk,
            "invoices": invoices,
            "supplier_maker": token(chain.supplier_maker),
            "bank_checker": token(chain.bank_checker),
            "bank_maker": token(chain.bank_maker),
            "core_maker": token(chain.core_maker),
        }
    print(json.dumps(seed))


if __name__ == "__main__":
    main()
