"""The API's JSON parser: bounded in size and nesting, and only values the database can keep.

Python's ``json`` recurses once per nesting level, so a body of a few thousand ``[``
raises ``RecursionError`` (a 500) before any serializer sees it. DRF's own parser also
reads a body of any size, since it bypasses ``DATA_UPLOAD_MAX_MEMORY_SIZE``. This one
refuses both up front, and refuses strings with NUL characters, which PostgreSQL cannot
store.
"""

import json
import re
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from .errors import ErrorCode

MAX_DEPTH = 32
TOO_DEEP = f"The JSON body is nested more than {MAX_DEPTH} levels deep."
NUL_CHARACTER = "Strings may not contain NUL (\\u0000) characters: they cannot be stored."
# A JSON string (skipped whole, so brackets inside it do not count) or one bracket.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = ErrorCode.TOO_LARGE


def too_large_detail() -> str:
    return f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."


class BoundedJSONParser(JSONParser):
    """JSON of at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes and ``MAX_DEPTH`` levels."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(too_large_detail())
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - the body is not {encoding}: {exc}") from exc
        if nesting_depth(text) > MAX_DEPTH:
            raise ParseError(TOO_DEEP)
        try:
            data = json.loads(text, parse_constant=json_constant_refused)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if has_nul_character(data):
            raise ParseError(NUL_CHARACTER)
        return data


def json_constant_refused(name: str) -> None:
    """NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text``, found without recursion."""
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def has_nul_character(data: Any) -> bool:
    """Whether any string in ``data`` (a key or a value, at any depth) holds a NUL."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False
