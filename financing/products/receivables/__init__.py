"""Receivables financing (应收账款融资): a supplier's confirmed invoices, owed by the program's
core enterprise, are its collateral; the supplier is paid, the core enterprise repays."""
