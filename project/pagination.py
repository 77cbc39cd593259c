"""The API's one pagination: limit and offset, checked and bounded.

DRF's own ``LimitOffsetPagination`` lets any integer through (an offset of 2**63 reaches
the database and fails there) and quietly ignores a value it cannot read. Here a value out
of range, not a whole number or given twice is a 400 that names the parameter, and the
schema states the same bounds.
"""

import re

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_LIMIT = 100
MAX_OFFSET = 1_000_000_000
_WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """``?limit=`` from 1 to ``MAX_LIMIT`` (default ``PAGE_SIZE``), ``?offset=`` from 0."""

    max_limit = MAX_LIMIT
    max_offset = MAX_OFFSET
    limit_query_description = _("Number of results to return per page (1 to 100).")
    offset_query_description = _("The initial index from which to return the results.")

    def get_limit(self, request: Request) -> int:
        value = _query_integer(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if value is None else value

    def get_offset(self, request: Request) -> int:
        value = _query_integer(request, self.offset_query_param, 0, self.max_offset)
        return 0 if value is None else value

    def get_schema_operation_parameters(self, view: object) -> list[dict]:
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0, "maximum": self.max_offset},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(bounds[parameter["name"]])
        return parameters


def _query_integer(request: Request, name: str, lowest: int, highest: int) -> int | None:
    """The whole number given as ``?name=``, or None when it is absent."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({name: [f"Give {name} once."]}, code="invalid")
    value = values[0]
    if not _WHOLE_NUMBER.fullmatch(value) or not lowest <= int(value) <= highest:
        raise ValidationError(
            {name: [f"Must be a whole number from {lowest} to {highest}."]}, code="invalid"
        )
    return int(value)
