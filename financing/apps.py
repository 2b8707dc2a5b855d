"""Money against trade documents: programs, limits, requests, approvals, repayment."""

from django.apps import AppConfig


class FinancingConfig(AppConfig):
    name = "financing"
