"""Array literals for multi-row statements: whatever the values, PostgreSQL reads back exactly
what was written."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from scf_platform.bulk_sql import array_literal, bytea_text

pytestmark = pytest.mark.django_db


def read_back(literal: str, array_type: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT unnest(%s::{array_type})", [literal])
        return [value for (value,) in cursor.fetchall()]


def test_text_comes_back_as_written():
    texts = [
        "plain",
        "",
        "NULL",
        'a "quoted" word',
        "back\\slash\\",
        "comma, {braces} and spaces  ",
        "货物已入库",
        '{"json":"\\n"}',
        None,
    ]
    assert read_back(array_literal(texts), "text[]") == texts


def test_numbers_dates_and_bytes_come_back_as_written():
    assert read_back(array_literal([0, -7, 2**62]), "bigint[]") == [0, -7, 2**62]
    amounts = [Decimal("1000.50"), Decimal("0.01")]
    assert read_back(array_literal(amounts), "numeric[]") == amounts
    days = [date(2025, 1, 10), date(2024, 2, 29)]
    assert read_back(array_literal(days), "date[]") == days
    blobs = [b"", b'\x00\xff\\"{}', "货".encode()]
    assert [bytes(b) for b in read_back(array_literal(map(bytea_text, blobs)), "bytea[]")] == blobs
