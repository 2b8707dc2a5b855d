"""The supply chain: who trades with whom, and the documents of that trade."""

from django.apps import AppConfig


class SuppliersConfig(AppConfig):
    name = "suppliers"
