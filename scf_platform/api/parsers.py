"""JSON request bodies with a nesting limit. Python's json module recurses once per level, so a
body of a few kilobytes nested a thousand deep raises RecursionError (a 500) instead of a
parse error; every JSON parser of the API checks the depth first and answers 400."""

import codecs
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

# Far deeper than any request body of the API (a few levels), far below the interpreter's limit.
MAX_JSON_DEPTH = 32

# A JSON string literal (escapes included): its brackets are text, not structure.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_nesting_check(text: str, *, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise ParseError (400) when `text` nests arrays and objects deeper than `limit`. One pass
    over the text; malformed JSON is left for the parser to refuse."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                raise ParseError(f"JSON parse error - nested deeper than {limit} levels")
        else:
            depth -= 1


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than MAX_JSON_DEPTH (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(stream.read(), encoding)
            json_nesting_check(text)
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as error:  # UnicodeDecodeError included
            raise ParseError(f"JSON parse error - {error}") from None
