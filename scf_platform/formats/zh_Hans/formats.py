"""Simplified Chinese as banks write amounts: 1,234,567.89 (Django's default has no separator)."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
