"""Input fields and the JSON parser of the trade and financing APIs: amounts arrive exactly as
written, and a buyer or a program is found only among those the acting organization may see."""

import codecs
import json
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers
from rest_framework.exceptions import APIException, ParseError

from scf_platform.api.parsers import DepthLimitedJSONParser, json_nesting_check
from scf_platform.money import parse_money

# Zero written plainly: "0", "0.00", "0.", ".0" (at least one digit, at most two decimals).
_ZERO = re.compile(r"(?=.*\d)0*(\.0{0,2})?")
# The largest id a bigint primary key holds: a larger number is refused before it reaches SQL.
MAX_ID = 2**63 - 1


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number")


class RequestBodyTooLarge(APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class ExactJSONParser(DepthLimitedJSONParser):
    """JSON with its numbers kept as written: `1000.005` reaches the serializer as
    Decimal("1000.005") (and is refused there), not as a float rounded to 1000.0; NaN and
    Infinity are refused outright. A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused (413)
    before it is parsed: DRF reads the stream itself, past Django's own check of that limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise RequestBodyTooLarge()
        try:
            text = codecs.decode(body, encoding)
            json_nesting_check(text)
            return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None


class MoneyField(serializers.DecimalField):
    """An amount: a JSON string or number written plainly with at most two decimals
    ("1234.50", 1234.5); exponents, signs, NaN and Infinity are refused with a 400. Positive,
    unless `allow_zero`."""

    default_error_messages = {
        "invalid_amount": "{reason}.",
        "not_positive": "An amount must be positive.",
        "negative": "An amount cannot be negative.",
    }

    def __init__(self, *, allow_zero: bool = False, **kwargs) -> None:
        self.allow_zero = allow_zero
        super().__init__(max_digits=18, decimal_places=2, **kwargs)

    def to_internal_value(self, data) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int | float | Decimal):
            self.fail("invalid")
        # A float only arrives from a parser other than ExactJSONParser; its shortest repr keeps
        # the decimals a client wrote (1000.005 stays "1000.005") and shows exponents as such.
        text = (repr(data) if isinstance(data, float) else str(data)).strip()
        if text.startswith("-"):
            self.fail("negative" if self.allow_zero else "not_positive")
        if _ZERO.fullmatch(text):
            if self.allow_zero:
                return Decimal("0.00")
            self.fail("not_positive")
        try:
            return parse_money(text)
        except ValueError as error:
            # Zero and signs were answered above: what is left is the form or the size.
            self.fail("invalid_amount", reason=error)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """An id of a row the acting organization may see (`.visible_to()`); any other id, existing
    or not, answers the same "unknown" error, so that the answer does not tell them apart."""

    default_error_messages = {
        "does_not_exist": "Unknown {label} {pk_value}.",
        "incorrect_type": "Give the {label}'s id (an integer).",
    }

    def __init__(self, *, label_text: str, **kwargs) -> None:
        self.label_text = label_text
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        acting = getattr(request, "acting", None)
        return super().get_queryset().visible_to(acting.organization if acting else None)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not (
            isinstance(data, int) or (isinstance(data, str) and data.isascii() and data.isdigit())
        ):
            self.fail("incorrect_type", label=self.label_text)
        pk = int(data)
        if not 0 < pk <= MAX_ID:
            self.fail("does_not_exist", label=self.label_text, pk_value=data)
        try:
            return self.get_queryset().get(pk=pk)
        except ObjectDoesNotExist:
            self.fail("does_not_exist", label=self.label_text, pk_value=data)
