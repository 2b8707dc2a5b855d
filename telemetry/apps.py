"""IoT evidence: devices bound to goods, their readings, rules and alerts."""

from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "telemetry"
