"""The world the reliability suite attacks: one receivables program with objects in every state an
endpoint acts on, an outsider enterprise, an outsider bank, the platform operator, and a third,
unrelated program whose data must never show up in anyone else's answers."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from rest_framework.authtoken.models import Token

from documents.services import document_issue
from financing.documents import DocumentKind
from financing.models import FinancingRequest
from financing.services import decisions, drafting, money, periodic, screening
from ledger.services import ledger_checkpoint_sign
from scf_platform.models import OrganizationKind, Role
from tests.factories import OrganizationFactory, member
from tests.financing.factories import Chain, make_chain

ROLES = (Role.ADMIN, Role.MAKER, Role.CHECKER, Role.VIEWER)
# Who acts: the three parties of the program, two outsiders, the operator.
PARTIES = ("bank", "core", "supplier", "outsider", "outsider_bank", "operator")
KIND_OF = {
    "bank": OrganizationKind.BANK,
    "core": OrganizationKind.ENTERPRISE,
    "supplier": OrganizationKind.ENTERPRISE,
    "outsider": OrganizationKind.ENTERPRISE,
    "outsider_bank": OrganizationKind.BANK,
    "operator": OrganizationKind.OPERATOR,
}
# What marks the third program's data: no answer to anyone outside it may contain these.
THIRD_MARK = "Zeta"


def request_in(chain: Chain, status: str, amount: str = "90000.00") -> FinancingRequest:
    """A request of `chain` brought to `status` through the services (screened in-process)."""
    invoice = chain.invoice()
    request = drafting.financing_request_create(
        applicant=chain.supplier,
        actor=chain.supplier_maker,
        product="receivables",
        program=chain.program,
        requested_amount=Decimal(amount),
        invoices=[invoice.pk],
    )
    steps = {
        "submitted": lambda: drafting.financing_request_submit(
            request_id=request.pk, applicant=chain.supplier, actor=chain.supplier_maker
        ),
        "in_review": lambda: screening.financing_request_screen(request_id=request.pk),
        "approved": lambda: decisions.financing_request_approve(
            request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
        ),
        "disbursed": lambda: money.financing_request_disburse(
            request_id=request.pk, bank=chain.bank, actor=chain.bank_maker
        ),
        "overdue": lambda: periodic.requests_mark_overdue(
            today=FinancingRequest.objects.get(pk=request.pk).maturity_date + timedelta(days=1)
        ),
    }
    order = ["draft", "submitted", "in_review", "approved", "disbursed", "overdue"]
    for name in order[1 : order.index(status) + 1]:
        steps[name]()
    request.refresh_from_db()
    assert request.status == status, request.screening
    return request


@dataclass
class World:
    chain: Chain
    third: Chain
    orgs: dict
    objects: dict = field(default_factory=dict)
    _users: dict = field(default_factory=dict)

    def user(self, party: str, role: str):
        if (party, role) not in self._users:
            self._users[party, role] = member(
                self.orgs[party], role, username=f"{party}-{role}".replace("_", "-")
            )
        return self._users[party, role]

    def token(self, party: str, role: str) -> str:
        return Token.objects.get_or_create(user=self.user(party, role))[0].key

    @property
    def third_orgs(self) -> list:
        return [self.third.bank, self.third.core, self.third.supplier]


def build_world(*, with_documents: bool = True) -> World:
    """Run in the platform scope (the test's), in one test transaction."""
    chain = make_chain(threshold="1000000.00")
    third = make_chain(prefix=f"{THIRD_MARK} ", threshold="1000000.00")
    orgs = {
        "bank": chain.bank,
        "core": chain.core,
        "supplier": chain.supplier,
        "outsider": OrganizationFactory(name="Outsider Co"),
        "outsider_bank": OrganizationFactory(kind=OrganizationKind.BANK, name="Outsider Bank"),
        "operator": OrganizationFactory(kind=OrganizationKind.OPERATOR, name="Platform Operator"),
    }
    world = World(chain=chain, third=third, orgs=orgs)
    # The third program has data in every state too, with numbers that carry the mark.
    for status in ("draft", "in_review", "disbursed"):
        request_in(third, status)
    third.invoice(number=f"{THIRD_MARK.upper()}-SECRET-1", confirm=False)
    objects = world.objects
    objects["newco"] = OrganizationFactory(name="Newco")
    objects["invoice_uploaded"] = chain.invoice(confirm=False)
    objects["invoice_confirmed"] = chain.invoice()
    for status in ("draft", "in_review", "approved", "disbursed", "overdue"):
        objects[status] = request_in(chain, status)
    if with_documents:
        objects["agreement"] = document_issue(
            kind=DocumentKind.FINANCING_AGREEMENT, subject=f"request:{objects['disbursed'].pk}"
        )
    ledger_checkpoint_sign()
    return world
