"""Money against trade documents: programs, limits, requests, approvals, repayment."""

from django.apps import AppConfig

# Whether the acting organization is the bank of a request that holds the invoice. A PL/pgSQL
# function, not an EXISTS in the policy: PostgreSQL plans a policy's subquery for every mention
# of the table in every statement (four for a page of the invoice list, most of what the policy
# cost), a function's query once a session and only when the policy gets that far (never for
# the seller or the buyer). It reads the holds as the caller, under their own policy, as the
# subquery did. Parallel restricted and costed as a query, like the subquery: the planner then
# still reads a page through the list's index in order and counts from the index alone, where
# a cheap-looking policy had it fetch every invoice of the organization from the table.
# Its names are resolved when it runs, not when the policy is made: they are schema-qualified,
# and pg_temp comes last, so that a session's temporary table of the same name cannot stand in
# for the holds (PostgreSQL searches pg_temp first unless told otherwise).
INVOICE_HELD_BY_CURRENT_BANK_SQL = """
CREATE OR REPLACE FUNCTION financing_invoice_held_by_current_bank(held_invoice_id bigint)
    RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED COST 1000
    SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    RETURN EXISTS (
        SELECT 1 FROM public.financing_collateralhold h
        WHERE h.invoice_id = held_invoice_id AND h.bank_id = public.scf_current_organization()
    );
END
$$;
"""


class FinancingConfig(AppConfig):
    name = "financing"

    def ready(self) -> None:
        from financing import portal_nav  # noqa: F401 - registers the portal's sections
        from financing.document_tasks import document_queue_on_event, documents_queue_on_events
        from financing.selectors import program_counterparty_ids
        from scf_platform.business_events import business_event, business_events
        from scf_platform.models import register_counterparties
        from scf_platform.rls import register_visibility

        register_counterparties(program_counterparty_ids)
        # A bank sees the invoices held as collateral in its requests.
        register_visibility(
            "suppliers.Invoice",
            "financing_invoice_held_by_current_bank(suppliers_invoice.id)",
            functions_sql=INVOICE_HELD_BY_CURRENT_BANK_SQL,
        )
        # And their events: the bank that disburses against an invoice writes its `financed`.
        register_visibility(
            "suppliers.InvoiceEvent",
            "financing_invoice_held_by_current_bank(suppliers_invoiceevent.invoice_id)",
        )
        # Confirmations, approvals, disbursements and settlements issue their documents.
        business_event.connect(document_queue_on_event, dispatch_uid="financing_documents")
        business_events.connect(documents_queue_on_events, dispatch_uid="financing_documents")
