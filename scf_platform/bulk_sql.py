"""Many rows in one PostgreSQL statement: each column goes as one array literal, and
`unnest(%s::bigint[], %s::text[], ...)` turns the arrays back into rows.

psycopg2 sends a Python list as `ARRAY[v1, v2, ...]`, one literal per value that the server
parses, coerces and folds one by one: at thousands of values that costs more than the insert
itself. One literal per column is read by the array type's input function in a single pass.
(COPY would be faster still, but PostgreSQL refuses COPY FROM on tables under row-level
security.)
"""

from collections.abc import Iterable


def array_literal(values: Iterable[object]) -> str:
    """`{1,"text",NULL}`, for a parameter cast to an array type: ints as digits, None as NULL,
    anything else as its text in double quotes, `"` and `\\` escaped as the array syntax
    wants. Dates and Decimals give their usual text; bytes go through
    bytea_array_literal."""
    return "{" + ",".join(map(_element, values)) + "}"


def _element(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "NULL"
    text = str(value)
    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text + '"'


def bytea_array_literal(values: Iterable[bytes]) -> str:
    """An array literal for a parameter cast to bytea[]: each value in bytea's hex format, the
    whole column joined at once."""
    values = list(values)
    if not values:
        return "{}"
    # Inside the array's quotes the backslash of bytea's `\x` is itself escaped.
    return '{"\\\\x' + '","\\\\x'.join(map(bytes.hex, values)) + '"}'
