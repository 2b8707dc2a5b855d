"""Writes of financing, split by subject: programs, requests (the receivables workflow)."""
