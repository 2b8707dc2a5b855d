"""What a financing product tells the request lifecycle, and the errors it may raise."""

from abc import ABC, abstractmethod
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from scf_platform.errors import DomainError

if TYPE_CHECKING:
    from financing.models import FinancingRequest, Program
    from financing.pricing import Quote
    from scf_platform.models import Organization


class AlreadyFinanced(DomainError):
    code = "already_financed"


def check(checks: list[dict], code: str, passed: bool, message: str) -> None:
    """Record one screening check: its code, whether it passed, and what it says."""
    checks.append({"code": code, "passed": bool(passed), "message": str(message)})


class FinancingProduct(ABC):
    """One product. The lifecycle (financing.services) calls these, in this order over a
    request's life, and names no collateral itself; a product names no status of the request.

    Collateral is what the applicant names in its request (for receivables, `invoices`); it is
    passed through as keyword arguments, validated by the product, and kept in the product's
    own hold table. The abstract methods are what every product must say: a product that leaves
    one out cannot be instantiated, so it cannot be registered."""

    code: str
    # The documents its requests issue (financing.documents.DocumentKind values).
    documents: tuple[str, ...] = ()

    # Drafting ---------------------------------------------------------------------------------
    @abstractmethod
    def draft_errors(
        self,
        *,
        applicant: "Organization",
        program: "Program",
        requested_amount: Decimal,
        today: date,
        **collateral,
    ) -> dict[str, list[str]]:
        """What is wrong with the collateral named, as field errors (all of them)."""

    @abstractmethod
    def collateral_attach(self, *, request: "FinancingRequest", **collateral) -> None:
        """Write the draft's collateral, not yet held (submit holds it); AlreadyFinanced when
        another active request holds it now."""

    # Submit, release ---------------------------------------------------------------------------
    @abstractmethod
    def collateral_hold(self, *, request: "FinancingRequest", at) -> None:
        """Hold the request's collateral (the database decides races: AlreadyFinanced)."""

    @abstractmethod
    def collateral_release(self, *, request: "FinancingRequest") -> None:
        """Free what the request holds, with its business event."""

    @abstractmethod
    def collateral_payload(self, request: "FinancingRequest", collateral=None) -> dict:
        """The collateral as the request's business events name it; `collateral` when the
        caller has it already read (screening's `screening_read`)."""

    # Screening and the quote -----------------------------------------------------------------
    @abstractmethod
    def screening_read(self, requests: list["FinancingRequest"]) -> dict:
        """The collateral of many requests at once, by request pk, for screening_checks."""

    @abstractmethod
    def screening_checks(
        self, *, request: "FinancingRequest", collateral, today: date
    ) -> tuple[list[dict], "Quote"]:
        """The product's checks of a request and the quote of today. Reads nothing."""

    @abstractmethod
    def quote(self, request: "FinancingRequest", *, value_date: date) -> "Quote | None":
        """The quote as of `value_date`, before disbursement (None: nothing to price yet)."""

    # Money -------------------------------------------------------------------------------------
    @abstractmethod
    def payee(self, request: "FinancingRequest") -> "Organization":
        """Who is paid the proceeds."""

    @abstractmethod
    def repayer(self, request: "FinancingRequest") -> "Organization":
        """Who repays."""

    @abstractmethod
    def on_disbursed(self, *, request: "FinancingRequest", actor, organization) -> None:
        """What disbursement does to the collateral, in its transaction (receivables: the invoices
        become financed)."""

    @abstractmethod
    def on_settled(self, *, request: "FinancingRequest", actor, organization) -> None:
        """What settlement does to the collateral, in its transaction (before its release)."""
