"""Who may call what, generated from the URL configuration: every `/api/v1/` route and method,
called by every role of every kind of organization (the program's bank, core enterprise and
supplier, an outsider enterprise, an outsider bank, the operator) and by no one signed in, must
answer what the table below says; and no answer may carry a row of a third organization.

A route that is not in the table fails the test: adding an endpoint means saying here who may
call it. The hand-written cases of tests/financing/test_api_matrix.py check the effects (nothing
written on a refusal); this one checks that nothing is forgotten.

Each call runs in a savepoint that is rolled back, so every cell starts from the same world.
"""

import json
import re
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from scf_platform import policy
from scf_platform.models import Role
from tests.conftest import ActingClient
from tests.factories import make_credit_code
from tests.financing.factories import today
from tests.reliability.world import KIND_OF, PARTIES, ROLES, THIRD_MARK, World, build_world

pytestmark = pytest.mark.django_db

ALL = PARTIES
TENANTS = ("bank", "core", "supplier", "outsider", "outsider_bank")
PROGRAM_PARTIES = ("bank", "core", "supplier")
ENTERPRISE = ("enterprise",)
BANK = ("bank",)
ANYONE = ROLES


@dataclass(frozen=True)
class Expect:
    """What one route and method answers.

    The checks come in the order the API makes them: the view's role check (`kinds`, `roles`:
    403 whatever the object), then visibility (a party outside `sees`: 404, never 403), then the
    service (a party outside `acts`: `otherwise`), else `ok`. `path` names objects of the world
    in braces."""

    path: str
    ok: int = 200
    body: dict | None = None
    kinds: tuple = ()  # organization kinds the view admits; () = any acting organization
    roles: tuple = ANYONE
    sees: tuple = ALL
    acts: tuple | None = None  # parties, or "party:role"; default: whoever sees
    otherwise: int = 403
    anonymous: int = 401
    multipart: bool = False

    def expected(self, party: str, role: str) -> int:
        if (self.kinds and KIND_OF[party] not in self.kinds) or role not in self.roles:
            return 403
        if party not in self.sees:
            return 404
        acts = self.acts if self.acts is not None else self.sees
        if party not in acts and f"{party}:{role}" not in acts:
            return self.otherwise
        return self.ok


def _today() -> str:
    return today().isoformat()  # the business date, as the services see it


# (route name, method) -> Expect. Route names are those of scf_platform/urls.py ("api:...").
EXPECTED: dict[tuple[str, str], Expect] = {
    ("api:api-root", "get"): Expect("/api/v1/"),
    ("api:token", "post"): Expect(
        "/api/v1/auth/token/",
        body={"username": "supplier-maker", "password": "correct-horse-battery"},
        anonymous=200,
    ),
    ("api:me", "get"): Expect("/api/v1/me/"),
    # The ledger: public to anyone signed in; an entry's content only to its parties.
    ("api:ledger:public-key", "get"): Expect("/api/v1/ledger/public-key/"),
    ("api:ledger:checkpoints", "get"): Expect("/api/v1/ledger/checkpoints/"),
    ("api:ledger:checkpoints", "post"): Expect(
        "/api/v1/ledger/checkpoints/",
        ok=201,
        # The view decides: the operator's or a bank's admin (a viewer only reads).
        acts=("operator:admin", "bank:admin", "outsider_bank:admin"),
    ),
    ("api:ledger:checkpoint-latest", "get"): Expect("/api/v1/ledger/checkpoints/latest/"),
    ("api:ledger:entry", "get"): Expect("/api/v1/ledger/entries/{ledger_entry}/"),
    ("api:ledger:consistency", "get"): Expect("/api/v1/ledger/consistency/?first=1&second=2"),
    # Organizations: a directory of counterparties; the operator sees and creates all.
    ("api:organization-list", "get"): Expect("/api/v1/organizations/"),
    ("api:organization-list", "post"): Expect(
        "/api/v1/organizations/",
        ok=201,
        body={"name": "Brand New Co", "kind": "enterprise", "credit_code": "{new_credit_code}"},
        acts=("operator:admin",),
    ),
    ("api:organization-detail", "get"): Expect(
        "/api/v1/organizations/{supplier}/", sees=(*PROGRAM_PARTIES, "operator")
    ),
    ("api:organization-members", "get"): Expect(
        "/api/v1/organizations/{supplier}/members/",
        sees=(*PROGRAM_PARTIES, "operator"),
        acts=("supplier", "operator"),
    ),
    ("api:organization-members", "post"): Expect(
        "/api/v1/organizations/{supplier}/members/",
        ok=201,
        body={
            "username": "new-person",
            "email": "new@example.com",
            "password": "a-long-enough-passphrase-9",
            "role": "viewer",
        },
        sees=(*PROGRAM_PARTIES, "operator"),
        acts=("operator:admin", "supplier:admin"),
    ),
    # Invoices.
    ("api:invoice-list", "get"): Expect("/api/v1/invoices/"),
    ("api:invoice-list", "post"): Expect(
        "/api/v1/invoices/",
        ok=201,
        body={
            "number": "MATRIX-1",
            "buyer": "{core}",
            "issue_date": "{today}",
            "due_date": "{today}",
            "currency": "CNY",
            "amount": "1000.00",
        },
        kinds=ENTERPRISE,
        roles=(Role.MAKER, Role.ADMIN),
        acts=("supplier",),
        otherwise=400,  # the core enterprise or the outsider is no supplier of the buyer
    ),
    ("api:invoice-import", "post"): Expect(
        "/api/v1/invoices/import/",
        body={"file": "{import_file}"},
        multipart=True,
        kinds=ENTERPRISE,
        roles=(Role.MAKER, Role.ADMIN),
    ),
    ("api:invoice-detail", "get"): Expect(
        "/api/v1/invoices/{invoice_confirmed}/", sees=("core", "supplier")
    ),
    ("api:invoice-confirm", "post"): Expect(
        "/api/v1/invoices/{invoice_uploaded}/confirm/",
        kinds=ENTERPRISE,
        roles=(Role.CHECKER, Role.ADMIN),
        sees=("core", "supplier"),
        acts=("core",),
    ),
    ("api:invoice-dispute", "post"): Expect(
        "/api/v1/invoices/{invoice_uploaded}/dispute/",
        body={"reason": "not delivered"},
        kinds=ENTERPRISE,
        roles=(Role.CHECKER, Role.ADMIN),
        sees=("core", "supplier"),
        acts=("core",),
    ),
    ("api:trade-link-list", "get"): Expect("/api/v1/trade-links/"),
    ("api:trade-link-list", "post"): Expect(
        "/api/v1/trade-links/",
        ok=201,
        body={"organization": "{newco}", "role": "supplier"},
        kinds=ENTERPRISE,
        roles=(Role.ADMIN, Role.MAKER),
    ),
    # Programs.
    ("api:program-list", "get"): Expect("/api/v1/programs/"),
    ("api:program-list", "post"): Expect(
        "/api/v1/programs/",
        ok=201,
        body={
            "name": "Matrix Program",
            "core_enterprise": "{core}",
            "currency": "CNY",
            "credit_limit": "1000000.00",
            "advance_rate": "0.80",
            "annual_rate": "0.05",
            "day_count": "ACT/360",
            "max_tenor_days": 180,
            "dual_approval_threshold": "500000.00",
            "products": ["receivables"],
        },
        kinds=BANK,
        roles=(Role.ADMIN, Role.CHECKER),
    ),
    ("api:program-detail", "get"): Expect("/api/v1/programs/{program}/", sees=PROGRAM_PARTIES),
    ("api:program-participants", "get"): Expect(
        "/api/v1/programs/{program}/participants/", sees=PROGRAM_PARTIES
    ),
    ("api:program-participants", "post"): Expect(
        "/api/v1/programs/{program}/participants/",
        ok=201,
        body={"organization": "{newco}", "role": "supplier"},
        kinds=ENTERPRISE,
        roles=(Role.ADMIN, Role.MAKER),
        sees=PROGRAM_PARTIES,
        acts=("core",),
    ),
    # Financing requests and their workflow.
    ("api:financing-request-list", "get"): Expect("/api/v1/financing-requests/"),
    ("api:financing-request-list", "post"): Expect(
        "/api/v1/financing-requests/",
        ok=201,
        body={
            "product": "receivables",
            "program": "{program}",
            "requested_amount": "50000.00",
            "invoices": ["{invoice_confirmed}"],
        },
        kinds=ENTERPRISE,
        roles=(Role.MAKER, Role.ADMIN),
        acts=("supplier",),
        otherwise=400,  # the invoice is not theirs, or the program not visible
    ),
    ("api:financing-request-detail", "get"): Expect(
        "/api/v1/financing-requests/{in_review}/", sees=PROGRAM_PARTIES
    ),
    ("api:financing-request-submit", "post"): Expect(
        "/api/v1/financing-requests/{draft}/submit/",
        kinds=ENTERPRISE,
        roles=(Role.MAKER, Role.ADMIN),
        sees=("supplier",),  # a draft is its applicant's alone
        acts=("supplier",),
    ),
    ("api:financing-request-withdraw", "post"): Expect(
        "/api/v1/financing-requests/{in_review}/withdraw/",
        kinds=ENTERPRISE,
        roles=(Role.MAKER, Role.ADMIN),
        sees=("core", "supplier"),
        acts=("supplier",),
    ),
    ("api:financing-request-approve", "post"): Expect(
        "/api/v1/financing-requests/{in_review}/approve/",
        body={"comment": "fine"},
        kinds=BANK,
        roles=(Role.CHECKER,),
        sees=("bank",),
    ),
    ("api:financing-request-reject", "post"): Expect(
        "/api/v1/financing-requests/{in_review}/reject/",
        body={"reason": "too risky"},
        kinds=BANK,
        roles=(Role.CHECKER,),
        sees=("bank",),
    ),
    ("api:financing-request-disburse", "post"): Expect(
        "/api/v1/financing-requests/{approved}/disburse/",
        body={},
        kinds=BANK,
        roles=(Role.MAKER, Role.CHECKER, Role.ADMIN),
        sees=("bank",),
    ),
    ("api:financing-request-default", "post"): Expect(
        "/api/v1/financing-requests/{overdue}/default/",
        body={"reason": "never paid"},
        kinds=BANK,
        roles=(Role.ADMIN, Role.CHECKER),
        sees=("bank",),
    ),
    ("api:financing-request-repayments", "get"): Expect(
        "/api/v1/financing-requests/{disbursed}/repayments/", sees=PROGRAM_PARTIES
    ),
    ("api:financing-request-repayments", "post"): Expect(
        "/api/v1/financing-requests/{disbursed}/repayments/",
        ok=201,
        body={"amount": "1000.00", "paid_on": "{today}"},
        kinds=ENTERPRISE,
        roles=(Role.MAKER, Role.CHECKER, Role.ADMIN),
        sees=("core", "supplier"),
        acts=("core",),
    ),
    ("api:financing-request-agreement", "get"): Expect(
        "/api/v1/financing-requests/{disbursed}/agreement.pdf", sees=PROGRAM_PARTIES
    ),
    ("api:approval-queue-list", "get"): Expect("/api/v1/approval-queue/", kinds=BANK),
    # Issued documents.
    ("api:document-detail", "get"): Expect("/api/v1/documents/{agreement}/", sees=PROGRAM_PARTIES),
    ("api:document-download", "get"): Expect(
        "/api/v1/documents/{agreement}/download/", sees=PROGRAM_PARTIES
    ),
}


# The routes, from the URL configuration -------------------------------------------------------


def api_routes() -> set[tuple[str, str]]:
    """(route name, method) of every view under /api/v1/; format-suffix twins are the same."""
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
                continue
            assert isinstance(pattern, URLPattern)
            route = prefix + str(pattern.pattern)
            if not route.startswith("api/v1/") or "<format>" in route or "format>" in route:
                continue
            name = f"{namespace}:{pattern.name}" if pattern.name else f"<unnamed {route}>"
            callback = pattern.callback
            actions = getattr(callback, "actions", None)
            view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            if actions:
                # DRF adds `head` (as `get`) to a viewset's actions once it has served a GET.
                methods = set(actions) - {"head", "options"}
            elif view_class is not None:
                methods = {
                    m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)
                }
            else:
                methods = {"get", "post"}
            found.update((name, method) for method in methods)

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_api_route_is_in_the_table():
    routes = api_routes()
    missing = sorted(routes - set(EXPECTED))
    assert not missing, (
        "These API routes are not in the authorization matrix of "
        f"tests/reliability/test_authorization_matrix.py; add who may call them: {missing}"
    )
    gone = sorted(set(EXPECTED) - routes)
    assert not gone, f"The matrix names routes that no longer exist: {gone}"


def api_rules() -> dict[tuple[str, str], str]:
    """(route name, method) -> the policy's action whose rule the API view's permission asks."""
    found: dict[tuple[str, str], str] = {}

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, inner)
                continue
            view_class = getattr(pattern.callback, "cls", None)
            if view_class is None or not pattern.name:
                continue
            actions = getattr(pattern.callback, "actions", None) or {"post": "post"}
            for method, action in actions.items():
                if method in ("head", "options"):
                    continue  # DRF adds `head` once the viewset has served a GET
                by_action = getattr(view_class, "roles_by_action", {})
                classes = [by_action[action]] if action in by_action else []
                if not by_action and method == "post":
                    classes = view_class.permission_classes
                for permission in classes:
                    if permission.__name__.startswith("Allowed_"):
                        found[f"{namespace}:{pattern.name}", method] = permission.__name__[8:]

    walk(get_resolver().url_patterns, "")
    return found


def test_the_api_table_says_what_the_role_policy_says():
    """The API's permissions are the policy's rules: the kinds and roles this table expects of
    each route are the ones its rule names (one policy, not two that disagree)."""
    rules = api_rules()
    assert rules, "no API view asks the role policy"
    for route, action in sorted(rules.items()):
        spec, rule = EXPECTED[route], policy.RULES[action]
        assert set(spec.kinds) == set(rule.kinds), (route, action)
        assert set(spec.roles) == set(rule.roles), (route, action)


# Calling them --------------------------------------------------------------------------------


def fill(template, world: World):
    """Put the world's ids (and fresh values) into a path or a body."""
    objects = world.objects
    values = {
        "core": world.chain.core.pk,
        "supplier": world.chain.supplier.pk,
        "program": world.chain.program.pk,
        "today": _today(),
        "new_credit_code": make_credit_code(),
        "ledger_entry": 0,
        **{name: getattr(obj, "pk", obj) for name, obj in objects.items()},
    }
    if isinstance(template, str):
        whole = re.fullmatch(r"\{(\w+)\}", template)
        if whole and template != "{import_file}":
            return values[whole.group(1)]
        if template == "{import_file}":
            return import_file(world)
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)
    if isinstance(template, dict):
        return {key: fill(value, world) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, world) for value in template]
    return template


def import_file(world: World):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = (
        "number,buyer_credit_code,issue_date,due_date,currency,amount\n"
        f"MATRIX-IMPORT-1,{world.chain.core.credit_code},{_today()},{_today()},CNY,100.00\n"
    )
    return SimpleUploadedFile("invoices.csv", content.encode(), content_type="text/csv")


def call(client: APIClient, method: str, spec: Expect, world: World):
    path = fill(spec.path, world)
    if method == "get":
        return client.get(path)
    body = fill(spec.body or {}, world)
    if spec.multipart:
        return client.post(path, body, format="multipart")
    return client.post(path, body, format="json")


def in_savepoint(function):
    """Run `function` and undo whatever it wrote, whatever it answered."""
    with transaction.atomic():
        result = function()
        transaction.set_rollback(True)
    return result


# What must never be seen ---------------------------------------------------------------------

ORGANIZATION_FIELDS = {
    "seller",
    "buyer",
    "applicant",
    "bank",
    "core_enterprise",
    "organization",
    "counterparty",
    "payer",
    "actor_organization",
}


def leaks(response, world: World) -> list[str]:
    """What of the third program shows in a JSON answer: its mark, its credit codes, its
    organization ids in an organization field."""
    if "json" not in response.get("Content-Type", ""):
        return []
    text = response.content.decode()
    found = []
    if THIRD_MARK.lower() in text.lower():
        found.append(f"the mark {THIRD_MARK!r}")
    found += [f"credit code {o.credit_code}" for o in world.third_orgs if o.credit_code in text]
    third_ids = {o.pk for o in world.third_orgs}

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ORGANIZATION_FIELDS and (
                    (isinstance(item, int) and item in third_ids)
                    or (isinstance(item, dict) and item.get("id") in third_ids)
                ):
                    found.append(f"{key}={item}")
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(text) if text else None)
    return found


# The matrix ----------------------------------------------------------------------------------


@pytest.fixture
def world() -> World:
    world = build_world()
    for party in PARTIES:
        for role in ROLES:
            world.user(party, role)
    return world


def test_every_route_answers_every_role_as_the_table_says_and_leaks_nothing(world):
    wrong: list[str] = []
    leaked: list[str] = []
    for (name, method), spec in sorted(EXPECTED.items()):
        anonymous = in_savepoint(lambda: call(APIClient(), method, spec, world))  # noqa: B023
        if anonymous.status_code != spec.anonymous:
            wrong.append(f"{method.upper()} {name} anonymous: {anonymous.status_code}")
        for party in PARTIES:
            for role in ROLES:
                user = world.user(party, role)
                client = ActingClient(user, world.orgs[party])
                response = in_savepoint(lambda: call(client, method, spec, world))  # noqa: B023
                expected = spec.expected(party, role)
                if response.status_code != expected:
                    body = response.content[:200].decode(errors="replace")
                    wrong.append(
                        f"{method.upper()} {name} as {party} {role}: "
                        f"{response.status_code}, expected {expected} ({body})"
                    )
                # The operator's directory of organizations is the platform's, by design.
                directory = party == "operator" and name.startswith("api:organization")
                if not directory and (found := leaks(response, world)):
                    leaked.append(f"{method.upper()} {name} as {party} {role}: {found}")
    assert not leaked, "rows of a third organization were answered:\n" + "\n".join(leaked)
    assert not wrong, f"{len(wrong)} cells differ from the table:\n" + "\n".join(wrong)


# The portal ----------------------------------------------------------------------------------
#
# Every portal route, GET and (for the pages that act) POST, by every role of every party; the
# expected answer is derived from the role policy (scf_platform.policy), the one table the
# services, the API and the portal read: a page of another kind of organization, or an object
# the party is not a party to, is not found (404); a member the policy refuses gets 403 (on
# the form as on its POST); else the page (200) or, after an action, a redirect (302).


@dataclass(frozen=True)
class Page:
    """One portal route. `kinds`: the organization kinds whose portal has the page (others:
    404); `sees`: the parties that see its object (others: 404); `may`: the policy's rule that
    guards it (GET and POST), asked about the world's object `obj` ("own": the member's own
    organization); `may_post`: a rule that guards its POST only (a list that also offers a
    form); `post`: the body of its POST (None: the page does not act); `checked`: the view asks
    the policy before it looks the object up (a list of ids to confirm)."""

    path: str
    kinds: tuple = ()
    sees: tuple = ALL
    may: object = None
    may_post: object = None
    obj: str | None = None
    post: dict | None = None
    checked: bool = False

    def rule(self, method: str):
        return self.may or (self.may_post if method == "post" else None)

    def expected(self, party: str, member, world: World, method: str) -> set[int]:
        if self.kinds and KIND_OF[party] not in self.kinds:
            return {404}
        if not self.checked and party not in self.sees:
            return {404}
        if (may := self.rule(method)) is not None:
            obj = None
            if self.obj == "own":
                obj = member.organization
            elif self.obj is not None:
                obj = world.objects.get(self.obj) or getattr(world.chain, self.obj)
            if not may(member, obj):
                return {403}
        if party not in self.sees:
            return {404}
        return {200} if method == "get" else {200, 302}


OPERATOR_ONLY = ("operator",)
BANKS = ("bank",)
ENTERPRISES = ("enterprise",)
CONFIRMED = {"confirmed": "1"}

PORTAL: dict[str, Page] = {
    "portal:home": Page("/portal/"),
    "portal:choose": Page("/portal/choose/"),
    "portal:notifications": Page("/portal/notifications/", post={}),
    "portal:members": Page(
        "/portal/members/", may_post=policy.may_manage_members, obj="own", post={}
    ),
    "portal:organizations": Page(
        "/portal/organizations/",
        kinds=OPERATOR_ONLY,
        may_post=policy.may_create_organization,
        post={},
    ),
    # The supply chain.
    "portal:invoices": Page("/portal/invoices/", kinds=ENTERPRISES),
    "portal:invoice_add": Page(
        "/portal/invoices/new/", kinds=ENTERPRISES, may=policy.may_upload_invoices, post={}
    ),
    "portal:invoice_upload": Page(
        "/portal/invoices/upload/", kinds=ENTERPRISES, may=policy.may_upload_invoices, post={}
    ),
    "portal:invoice_detail": Page(
        "/portal/invoices/{invoice_uploaded}/", sees=("core", "supplier")
    ),
    "portal:invoice_dispute": Page(
        "/portal/invoices/{invoice_uploaded}/dispute/",
        kinds=ENTERPRISES,
        sees=("core", "supplier"),
        may=policy.may_dispute_invoice,
        obj="invoice_uploaded",
        post={"reason": "Not delivered."},
    ),
    "portal:payables": Page("/portal/payables/", kinds=ENTERPRISES),
    "portal:payables_confirm": Page(
        "/portal/payables/confirm/?invoice={invoice_uploaded}",
        kinds=ENTERPRISES,
        sees=("core",),
        may=policy.may_confirm_invoice,
        post={"invoice": "{invoice_uploaded}", **CONFIRMED},
        checked=True,
    ),
    # Financing: the applicant.
    "portal:apply": Page("/portal/apply/", kinds=ENTERPRISES),
    "portal:apply_quote": Page("/portal/apply/quote/", kinds=ENTERPRISES),
    "portal:apply_confirm": Page(
        "/portal/apply/confirm/", kinds=ENTERPRISES, may=policy.may_create_request, post={}
    ),
    "portal:requests": Page("/portal/requests/"),
    "portal:request_detail": Page("/portal/requests/{in_review}/", sees=PROGRAM_PARTIES),
    "portal:request_submit": Page(
        "/portal/requests/{draft}/submit/",
        kinds=ENTERPRISES,
        # A draft is its applicant's alone: the core enterprise is not told it exists.
        sees=("supplier",),
        may=policy.may_submit_request,
        obj="draft",
        post=CONFIRMED,
    ),
    "portal:request_withdraw": Page(
        "/portal/requests/{in_review}/withdraw/",
        kinds=ENTERPRISES,
        sees=("core", "supplier"),
        may=policy.may_withdraw_request,
        obj="in_review",
        post=CONFIRMED,
    ),
    # Financing: the bank.
    "portal:request_approve": Page(
        "/portal/requests/{in_review}/approve/",
        kinds=BANKS,
        sees=("bank",),
        may=policy.may_approve_request,
        obj="in_review",
        post={"comment": "Fine."},
    ),
    "portal:request_reject": Page(
        "/portal/requests/{in_review}/reject/",
        kinds=BANKS,
        sees=("bank",),
        may=policy.may_reject_request,
        obj="in_review",
        post={"reason": "Too risky."},
    ),
    "portal:request_disburse": Page(
        "/portal/requests/{approved}/disburse/",
        kinds=BANKS,
        sees=("bank",),
        may=policy.may_disburse_request,
        obj="approved",
        post={"value_date": "{today}", **CONFIRMED},
    ),
    "portal:approval_queue": Page("/portal/queue/", kinds=BANKS),
    "portal:programs": Page("/portal/programs/"),
    "portal:program_add": Page(
        "/portal/programs/new/", kinds=BANKS, may=policy.may_create_program, post={}
    ),
    "portal:program_detail": Page("/portal/programs/{program}/", sees=PROGRAM_PARTIES),
    "portal:portfolio": Page("/portal/portfolio/", kinds=BANKS),
    # Financing: the core enterprise.
    "portal:participants": Page("/portal/participants/", kinds=(*ENTERPRISES, *BANKS)),
    "portal:participant_add": Page(
        "/portal/participants/new/", kinds=ENTERPRISES, may=policy.may_add_participant, post={}
    ),
    "portal:network": Page("/portal/network/", kinds=ENTERPRISES),
    "portal:request_repay": Page(
        "/portal/requests/{disbursed}/repay/",
        kinds=ENTERPRISES,
        sees=("core", "supplier"),
        may=policy.may_record_repayment,
        obj="disbursed",
        post={"amount": "1000.00", "paid_on": "{today}", **CONFIRMED},
    ),
    # Issued documents.
    "portal:document": Page("/portal/documents/{agreement}.pdf", sees=PROGRAM_PARTIES),
    "portal:request_document": Page(
        "/portal/requests/{disbursed}/documents/financing_agreement.pdf", sees=PROGRAM_PARTIES
    ),
}


def portal_routes() -> dict[str, str]:
    """Route name -> pattern of every portal page, from the URL configuration."""
    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif (prefix + str(pattern.pattern)).startswith("portal/"):
                found[f"{namespace}:{pattern.name}"] = prefix + str(pattern.pattern)

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_portal_route_is_in_the_table():
    routes = set(portal_routes())
    missing = sorted(routes - set(PORTAL))
    assert not missing, (
        "These portal routes are not in the portal's authorization matrix of "
        f"tests/reliability/test_authorization_matrix.py; add who may use them: {missing}"
    )
    assert not sorted(set(PORTAL) - routes), "the portal matrix names routes that are gone"


def test_every_pages_guard_is_a_rule_of_the_policy():
    for name, page in PORTAL.items():
        for may in (page.may, page.may_post):
            assert may is None or getattr(policy, f"may_{may.action}") is may, name


def portal_call(client: Client, method: str, page: Page, world: World):
    path = fill(page.path, world)
    if method == "get":
        return client.get(path)
    return client.post(path, fill(page.post, world))


def test_every_portal_page_answers_every_role_as_the_policy_says(world):
    """A bank admin does not approve, a viewer acts nowhere, an outsider sees nothing: for every
    portal route and method, every role of every party answers what the policy derives."""
    wrong: list[str] = []
    leaked: list[str] = []
    calls = [
        (name, method, page)
        for name, page in sorted(PORTAL.items())
        for method in ("get", "post")
        if method == "get" or page.post is not None
    ]
    for name, method, page in calls:
        anonymous = in_savepoint(lambda: portal_call(Client(), method, page, world))  # noqa: B023
        if anonymous.status_code != 302 or "/accounts/login/" not in anonymous["Location"]:
            wrong.append(f"{method.upper()} {name} anonymous: {anonymous.status_code}")
    for party in PARTIES:
        for role in ROLES:
            user = world.user(party, role)
            member = policy.membership_of(user, world.orgs[party])
            client = Client()
            client.force_login(user)
            for name, method, page in calls:
                response = in_savepoint(lambda: portal_call(client, method, page, world))  # noqa: B023
                expected = page.expected(party, member, world, method)
                if response.status_code not in expected:
                    wrong.append(
                        f"{method.upper()} {name} as {party} {role}: "
                        f"{response.status_code}, expected {sorted(expected)}"
                    )
                directory = party == "operator" and name == "portal:organizations"
                body = b"" if response.streaming else response.content
                if not directory and THIRD_MARK.encode() in body:
                    leaked.append(f"{method.upper()} {name} as {party} {role}")
    assert not leaked, "a third organization's data was shown:\n" + "\n".join(leaked)
    assert not wrong, f"{len(wrong)} portal cells differ from the policy:\n" + "\n".join(wrong)


def _route_regex(pattern: str) -> str:
    parts = re.split(r"(<[^>]+>)", pattern)
    return "/" + "".join(
        (r"\d+" if part.startswith("<int:") else r"[^/\"']+")
        if part.startswith("<")
        else re.escape(part)
        for part in parts
    )


# The POST forms every page has (switch organization, language, sign out); the pages of
# choosing an organization and of marking notifications read change nothing of the business.
PERSONAL_FORMS = re.compile(r'action="/(portal/choose/|i18n/setlang/|accounts/logout/)"')


def test_a_viewer_sees_no_action_anywhere(world):
    """No page shown to a viewer links, posts or submits to an action, nor offers a form that
    posts (beyond the personal ones every page has)."""
    routes = portal_routes()
    actions = re.compile(
        "|".join(_route_regex(routes[name]) for name, page in PORTAL.items() if page.may)
    )
    offered: list[str] = []
    for party in ("bank", "core", "supplier", "operator"):
        client = Client()
        client.force_login(world.user(party, Role.VIEWER))
        for name, page in sorted(PORTAL.items()):
            response = client.get(fill(page.path, world))
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            body = response.content.decode()
            if found := sorted(set(actions.findall(body))):
                offered.append(f"{name} as the {party}'s viewer links to {found}")
            forms = [
                form
                for form in re.findall(r"<form[^>]*>", body)
                if 'method="post"' in form and not PERSONAL_FORMS.search(form)
            ]
            if forms and name not in ("portal:notifications", "portal:choose"):
                offered.append(f"{name} as the {party}'s viewer offers {forms}")
    assert not offered, "\n".join(offered)
