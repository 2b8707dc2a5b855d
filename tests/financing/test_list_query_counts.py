"""Every list, of the API and of the portal, takes as many queries for ten rows as for two: no
query per row (N+1). Each list is read with two rows of everything, then with ten."""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from financing.services import decisions, money
from financing.services.programs import participant_add, program_create
from scf_platform.models import OrganizationKind, Role
from scf_platform.notifications import notify
from tests.factories import OrganizationFactory, member
from tests.financing.factories import make_chain, submit_request
from tests.portal.conftest import client_for

pytestmark = pytest.mark.django_db


@dataclass
class World:
    """A chain whose lists all grow by one row at each `grow()`: invoices (confirmed, and
    uploaded awaiting the core), requests in review, programs, participants with their trade
    links, members, notifications, repayments of one disbursed request."""

    chain: object
    disbursed: object
    operator: object
    operator_organization: object
    rows: int = 0
    extra: list = field(default_factory=list)

    def grow(self, to: int) -> None:
        chain = self.chain
        while self.rows < to:
            self.rows += 1
            n = self.rows
            submit_request(chain, [chain.invoice("1000.00")], "900.00")
            chain.invoice("500.00", confirm=False)
            program_create(
                bank=chain.bank,
                actor=chain.bank_admin,
                name=f"Line {n}",
                core_enterprise=chain.core,
                currency="USD" if n % 2 else "CNY",
                credit_limit=Decimal("1000000.00"),
                advance_rate=Decimal("0.8"),
                annual_rate=Decimal("0.05"),
                max_tenor_days=180,
                dual_approval_threshold=Decimal("100000.00"),
                products=["receivables"],
            )
            participant_add(
                program=chain.program,
                core_enterprise=chain.core,
                actor=chain.core_maker,
                organization=OrganizationFactory(
                    kind=OrganizationKind.ENTERPRISE, name=f"Supplier {n}"
                ),
                role="supplier",
                limit=Decimal("50000.00"),
            )
            member(chain.supplier, Role.VIEWER)
            notify(organization=chain.supplier, subject=lambda n=n: f"Notice {n}", link="/")
            money.financing_request_repay(
                request_id=self.disbursed.pk,
                payer=chain.core,
                actor=chain.core_maker,
                amount=Decimal("1.00"),
                paid_on=self.disbursed.value_date,
            )


@pytest.fixture
def world():
    chain = make_chain()
    request = submit_request(chain, [chain.invoice("100000.00")], "90000.00")
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    disbursed = money.financing_request_disburse(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_maker
    )
    operator = OrganizationFactory(kind=OrganizationKind.OPERATOR, name="Platform")
    return World(
        chain=chain,
        disbursed=disbursed,
        operator=member(operator, Role.ADMIN),
        operator_organization=operator,
    )


def _supplier(w):
    return w.chain.supplier_admin, w.chain.supplier


def _core(w):
    return w.chain.core_maker, w.chain.core


def _bank(w):
    return w.chain.bank_checker, w.chain.bank


def _operator(w):
    return w.operator, w.operator_organization


# (who reads, the path)
API_LISTS = {
    "invoices": (_supplier, "/api/v1/invoices/"),
    "invoices (buyer)": (_core, "/api/v1/invoices/"),
    "trade links": (_core, "/api/v1/trade-links/"),
    "programs": (_bank, "/api/v1/programs/"),
    "participants": (_core, "/api/v1/programs/{program}/participants/"),
    "requests (applicant)": (_supplier, "/api/v1/financing-requests/"),
    "requests (bank)": (_bank, "/api/v1/financing-requests/"),
    "approval queue": (_bank, "/api/v1/approval-queue/"),
    "repayments": (_core, "/api/v1/financing-requests/{disbursed}/repayments/"),
    "organizations": (_core, "/api/v1/organizations/"),
}

PORTAL_LISTS = {
    "invoices": (_supplier, "/portal/invoices/"),
    "payables": (_core, "/portal/payables/"),
    "requests (applicant)": (_supplier, "/portal/requests/"),
    "requests (bank)": (_bank, "/portal/requests/"),
    "approval queue": (_bank, "/portal/queue/"),
    "programs": (_bank, "/portal/programs/"),
    "program page (participants)": (_bank, "/portal/programs/{program}/"),
    "participants": (_core, "/portal/participants/"),
    "network": (_core, "/portal/network/"),
    "notifications": (_supplier, "/portal/notifications/"),
    "members": (_supplier, "/portal/members/"),
    "organizations": (_operator, "/portal/organizations/"),
    "portfolio": (_bank, "/portal/portfolio/"),
    "home (dashboard of the bank)": (_bank, "/portal/"),
    "home (dashboard of the core)": (_core, "/portal/"),
    "home (dashboard of the supplier)": (_supplier, "/portal/"),
}


def _path(w, path):
    return path.format(program=w.chain.program.pk, disbursed=w.disbursed.pk)


def _count(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    return len(queries)


@pytest.mark.parametrize("name", API_LISTS)
def test_an_api_list_takes_as_many_queries_for_ten_rows_as_for_two(world, api_as, name):
    who, path = API_LISTS[name]
    counts = []
    for rows in (2, 10):
        world.grow(rows)
        user, organization = who(world)
        client = api_as(user, organization)
        client.get(_path(world, path))  # the first read warms what is cached once a process
        counts.append(_count(client, _path(world, path)))
    assert counts[0] == counts[1], f"{name}: {counts[0]} queries for 2 rows, {counts[1]} for 10"


@pytest.mark.parametrize("name", PORTAL_LISTS)
def test_a_portal_list_takes_as_many_queries_for_ten_rows_as_for_two(world, name):
    who, path = PORTAL_LISTS[name]
    counts = []
    for rows in (2, 10):
        world.grow(rows)
        user, _organization = who(world)
        client = client_for(user)
        client.get(_path(world, path))
        counts.append(_count(client, _path(world, path)))
    assert counts[0] == counts[1], f"{name}: {counts[0]} queries for 2 rows, {counts[1]} for 10"
