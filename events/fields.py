"""Serializer fields that take JSON values as the schema types them, with no coercion.

DRF's fields are lenient: ``CharField`` turns ``0`` into ``"0"``, ``BooleanField`` takes
``"yes"`` and ``1``. An API whose schema says "string" or "boolean" should refuse what is
not, so that what a client reads in the schema is what the server does.
"""

import re
from decimal import Decimal
from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A JSON string."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictRegexField(serializers.RegexField):
    """A JSON string matching the field's pattern."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false``."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: no strings, floats or booleans coerced into one."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDecimalField(serializers.DecimalField):
    """A decimal as a JSON string of digits ("12.50"), as the API writes decimals."""

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", data):
            self.fail("invalid")
        return super().to_internal_value(data)
