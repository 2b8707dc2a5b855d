"""Receivables financing, the first product of financing (see financing.products)."""

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
# (Also run by the migration that moved the holds here, so that it never names a dropped table.)
INVOICE_HELD_BY_CURRENT_BANK_SQL = """
CREATE OR REPLACE FUNCTION financing_invoice_held_by_current_bank(held_invoice_id bigint)
    RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED COST 1000
    SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    RETURN EXISTS (
        SELECT 1 FROM public.receivables_receivablehold h
        WHERE h.invoice_id = held_invoice_id AND h.bank_id = public.scf_current_organization()
            AND h.held_at IS NOT NULL
    );
END
$$;
"""


class ReceivablesConfig(AppConfig):
    name = "financing.products.receivables"
    label = "receivables"
    verbose_name = "Receivables financing"

    def ready(self) -> None:
        from scf_platform.rls import register_visibility

        # A bank sees the invoices held as collateral in its requests (once submitted: a
        # draft's invoices are its applicant's business).
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
