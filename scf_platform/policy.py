"""Who may do what: the one role policy, read by the services (which enforce it), the API's
permissions and the portal's pages (which ask it which buttons to show).

A rule looks at the member (anything with `user`, `organization` and `role`: a Membership, or
the request's Acting), the kind of its organization, and, given the object acted on, whether
that organization stands on the object's side that acts (its `bank_id`, `buyer_id`, ...) and
whether the user prepared it. It never names another room's models: the object is read by its
attributes only. What the object's state allows (a draft is submitted, an approved request
disbursed) is the service's business, not the policy's.

    admin    manages the organization's members; does the maker's and the checker's work,
             except deciding on a financing request
    maker    prepares and submits
    checker  approves and confirms; never what the same user prepared
    viewer   reads, never acts
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from scf_platform.errors import NotPermitted
from scf_platform.models import Membership, OrganizationKind, Role

ADMIN, MAKER, CHECKER = Role.ADMIN, Role.MAKER, Role.CHECKER
OPERATOR = OrganizationKind.OPERATOR

NOT_YOUR_ROLE = _("Your role in this organization may not do this.")
NOT_THE_PREPARER = _("Whoever prepared or submitted it never approves or confirms it.")


@dataclass(frozen=True)
class Rule:
    """Members with one of `roles`, in an organization of one of `kinds`; given an object, only
    the organization its `party` attribute names ("pk": the object is the organization), and
    never the user one of its `not_by` attributes names (who prepared it)."""

    kinds: frozenset
    roles: frozenset
    party: str | None = None
    not_by: tuple[str, ...] = ()
    # The platform operator's admin may do it for any organization.
    operator_too: bool = False


# Organization kinds.
ANY_KIND = frozenset(OrganizationKind.values)
BANKS = frozenset({OrganizationKind.BANK})
ENTERPRISES = frozenset({OrganizationKind.ENTERPRISE})
OPERATORS = frozenset({OPERATOR})
OPERATORS_AND_BANKS = OPERATORS | BANKS
# Roles.
EVERYONE = frozenset(Role.values)
ADMINS = frozenset({ADMIN})
ACTORS = frozenset({ADMIN, MAKER, CHECKER})
PREPARERS = frozenset({ADMIN, MAKER})
CONFIRMERS = frozenset({ADMIN, CHECKER})
# Decisions on a financing request are the checkers' alone: the four-eyes rule counts checkers.
DECIDERS = frozenset({CHECKER})
# Who prepared an object: never the one who approves or confirms it.
PREPARED = ("created_by_id", "submitted_by_id")
UPLOADED = ("created_by_id",)

# The table: who may do what. An object's state (a draft is submitted, an approved request
# disbursed) and the four-eyes count are the services' checks, not the policy's.
# fmt: off
RULES: dict[str, Rule] = {
    # action               organizations         roles       the object's party    never by
    "manage_members":      Rule(ANY_KIND,            ADMINS,     "pk", operator_too=True),
    "create_organization": Rule(OPERATORS,           ADMINS),
    "sign_checkpoint":     Rule(OPERATORS_AND_BANKS, ADMINS),
    # The supply chain.
    "create_trade_link":   Rule(ENTERPRISES,         PREPARERS),
    "upload_invoices":     Rule(ENTERPRISES,         PREPARERS,  "seller_id"),
    "confirm_invoice":     Rule(ENTERPRISES,         CONFIRMERS, "buyer_id",           UPLOADED),
    "dispute_invoice":     Rule(ENTERPRISES,         CONFIRMERS, "buyer_id",           UPLOADED),
    # Financing.
    "create_program":      Rule(BANKS,               CONFIRMERS, "bank_id"),
    "add_participant":     Rule(ENTERPRISES,         PREPARERS,  "core_enterprise_id"),
    "view_approval_queue": Rule(BANKS,               EVERYONE),
    "create_request":      Rule(ENTERPRISES,         PREPARERS,  "applicant_id"),
    "submit_request":      Rule(ENTERPRISES,         PREPARERS,  "applicant_id"),
    "withdraw_request":    Rule(ENTERPRISES,         PREPARERS,  "applicant_id"),
    "approve_request":     Rule(BANKS,               DECIDERS,   "bank_id",            PREPARED),
    "reject_request":      Rule(BANKS,               DECIDERS,   "bank_id",            PREPARED),
    "disburse_request":    Rule(BANKS,               ACTORS,     "bank_id"),
    "record_repayment":    Rule(ENTERPRISES,         ACTORS,     "core_enterprise_id"),
    "declare_default":     Rule(BANKS,               CONFIRMERS, "bank_id"),
}
# fmt: on

# What a member is told when its organization is not the object's party that acts.
REFUSALS = {
    "manage_members": _("Only the organization's admin or the operator adds members."),
    "upload_invoices": _("Only the seller uploads its invoices."),
    "confirm_invoice": _("Only the buyer confirms or disputes an invoice."),
    "dispute_invoice": _("Only the buyer confirms or disputes an invoice."),
    "create_program": _("A bank sets up its own programs only."),
    "add_participant": _("Only the program's core enterprise onboards participants."),
    "create_request": _("Only the applicant prepares its request."),
    "submit_request": _("Only the applicant submits its request."),
    "withdraw_request": _("Only the applicant withdraws its request."),
    "approve_request": _("Only the request's bank decides on it."),
    "reject_request": _("Only the request's bank decides on it."),
    "disburse_request": _("Only the request's bank disburses."),
    "record_repayment": _("The core enterprise repays a receivables financing."),
    "declare_default": _("Only the request's bank declares a default."),
}
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """Who acts where no Membership row says so: a Django superuser, the platform operator."""

    user: object
    organization: object = None
    role: str | None = None


def _is_superuser(member) -> bool:
    return bool(getattr(member.user, "is_superuser", False))


def _role(member) -> str | None:
    # A superuser without a membership is the operator, with an admin's powers (as in Acting).
    return member.role or (ADMIN if _is_superuser(member) else None)


def _kind(member) -> str | None:
    if member.organization is not None:
        return member.organization.kind
    return OPERATOR if _is_superuser(member) else None


def _is_operator_admin(member) -> bool:
    return _kind(member) == OPERATOR and _role(member) == ADMIN


def _is_party(member, obj, party: str) -> bool:
    return member.organization is not None and getattr(obj, party) == member.organization.pk


def refusal(action: str, member, obj=None) -> str | None:
    """Why `member` may not take `action` (on `obj`), or None when it may."""
    rule = RULES[action]
    if member is None:
        return NOT_YOUR_ROLE
    if rule.operator_too and _is_operator_admin(member):
        return None
    if _kind(member) not in rule.kinds or _role(member) not in rule.roles:
        return NOT_YOUR_ROLE
    if obj is not None and rule.party is not None and not _is_party(member, obj, rule.party):
        return REFUSALS[action]
    if obj is not None and member.user.pk in {getattr(obj, name) for name in rule.not_by}:
        return NOT_THE_PREPARER
    return None


def _may(action: str):
    def may(member, obj=None) -> bool:
        return refusal(action, member, obj) is None

    may.__name__ = may.__qualname__ = f"may_{action}"
    may.__doc__ = f"Whether `member` may {action.replace('_', ' ')} (`obj`): RULES[{action!r}]."
    may.action = action
    return may


may_manage_members = _may("manage_members")
may_create_organization = _may("create_organization")
may_sign_checkpoint = _may("sign_checkpoint")
may_create_trade_link = _may("create_trade_link")
may_upload_invoices = _may("upload_invoices")
may_confirm_invoice = _may("confirm_invoice")
may_dispute_invoice = _may("dispute_invoice")
may_create_program = _may("create_program")
may_add_participant = _may("add_participant")
may_view_approval_queue = _may("view_approval_queue")
may_create_request = _may("create_request")
may_submit_request = _may("submit_request")
may_withdraw_request = _may("withdraw_request")
may_approve_request = _may("approve_request")
may_reject_request = _may("reject_request")
may_disburse_request = _may("disburse_request")
may_record_repayment = _may("record_repayment")
may_declare_default = _may("declare_default")


def require(may, member, obj=None) -> None:
    """Raise NotPermitted (403 in the API and in the portal) unless `may(member, obj)`."""
    reason = refusal(may.action, member, obj)
    if reason is not None:
        raise NotPermitted(str(reason))


def membership_of(user, organization):
    """What the policy reads of `user` acting for `organization` (None: the platform itself, as
    a superuser acts): its Membership, or None when it has none there."""
    if organization is None:
        return Member(user=user) if getattr(user, "is_superuser", False) else None
    membership = Membership.objects.filter(user=user, organization=organization).first()
    if membership is not None:
        membership.organization = organization  # spare the query of reading it again
    return membership
