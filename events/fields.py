"""Serializer fields that take JSON values as the schema types them, with no coercion.

DRF's fields are lenient: ``CharField`` turns ``0`` into ``"0"``, ``BooleanField`` takes
``"yes"`` and ``1``. An API whose schema says "string" or "boolean" should refuse what is
not, so that what a client reads in the schema is what the server does.
"""

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
