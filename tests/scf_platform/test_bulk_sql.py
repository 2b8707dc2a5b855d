"""Array literals for multi-row statements: whatever the values, PostgreSQL reads back exactly
what was written."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from scf_platform.bulk_sql import array_literal, bytea_array_literal

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
    assert [bytes(b) for b in read_back(bytea_array_literal(blobs), "bytea[]")] == blobs
    assert read_back(bytea_array_literal([]), "bytea[]") == []
    assert read_back(array_literal([]), "text[]") == []


def test_null_quotes_and_mixed_types_read_back():
    assert read_back(array_literal(["A-1", "B 2", "货"]), "text[]") == ["A-1", "B 2", "货"]
    assert read_back(array_literal(["A-1", 'B"2']), "text[]") == ["A-1", 'B"2']
    assert read_back(array_literal([1, None, 3]), "bigint[]") == [1, None, 3]
    assert read_back(array_literal([1, "2"]), "bigint[]") == [1, 2]


# PostgreSQL text cannot hold NUL; everything else must survive.
texts = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(texts, st.none()), max_size=8))
def test_any_texts_come_back_as_written(values):
    assert read_back(array_literal(values), "text[]") == values
