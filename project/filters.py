"""The API's one filter backend: query parameters read strictly, as the schema types them.

django-filter reads ``?unread=maybe`` as "no filter" and ``?order_id=1.5`` as a number, and
hands a whole number of any size to the database. Here a boolean is ``true`` or
``false``, a number on a whole-number field is a whole number within 64 bits, and a
parameter is given once; anything else is a 400 that names the parameter.
"""

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.db import models
from django.db.models import QuerySet
from django_filters import filters
from django_filters.fields import IsoDateTimeField
from django_filters.filterset import FilterSet
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
BOOLEAN_VALUES = {"true": True, "false": False}


class StrictBooleanField(forms.Field):
    """``true`` or ``false``, as JSON and the schema spell them; nothing else."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> bool | None:
        if value is None:
            return None
        if value not in BOOLEAN_VALUES:
            raise forms.ValidationError("Must be true or false.", code="invalid")
        return BOOLEAN_VALUES[value]

    def validate(self, value: Any) -> None:
        """None (absent) is allowed: the filter is optional."""


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, compared in UTC.

    PostgreSQL refuses an offset beyond 15:59 that ISO 8601 allows (``+16:50``); the same
    instant in UTC it takes. An instant before year 1 or after 9999 in UTC (``9999-12-31T
    23:00-05:00``) is compared as the first or last one Python and the databases hold:
    no stored time lies beyond either.
    """

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None or moment.tzinfo is None:
            return moment
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # before year 1 or after 9999 in UTC: the calendar's end
            end = datetime.max if moment.year > 1 else datetime.min
            return end.replace(tzinfo=UTC)


class StrictFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request: Request, queryset: QuerySet, view: Any) -> FilterSet | None:
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        problems = {
            name: [problem]
            for name, value_filter in filterset.filters.items()
            if (problem := _problem(request.query_params.getlist(name), value_filter))
        }
        if problems:
            raise ValidationError(problems)
        for name, value_filter in filterset.filters.items():
            _make_strict(value_filter, filterset.queryset.model, name)
        return filterset


def _problem(values: list[str], value_filter: filters.Filter) -> str | None:
    """What is wrong with how a parameter was given, whatever its value."""
    if len(values) > 1:
        return "Give this parameter once."
    if values == [""] and not isinstance(value_filter, filters.CharFilter):
        # django-filter reads an empty value as "no filter"; the schema says it is not one.
        return "Give a value, or leave the parameter out."
    return None


def _make_strict(value_filter: filters.Filter, model: type[models.Model], name: str) -> None:
    """Read this filter's value as strictly as the schema describes it."""
    if isinstance(value_filter, filters.IsoDateTimeFilter):
        value_filter.field_class = UtcIsoDateTimeField
    elif isinstance(value_filter, filters.BooleanFilter):
        value_filter.field_class = StrictBooleanField
        value_filter.extra["widget"] = forms.TextInput  # the value as given, not mapped
    elif isinstance(value_filter, filters.NumberFilter) and _is_whole_number(
        model, value_filter.field_name
    ):
        value_filter.field_class = forms.IntegerField
        value_filter.extra.setdefault("min_value", INT64_MIN)
        value_filter.extra.setdefault("max_value", INT64_MAX)
    # A form field made earlier (the schema generator makes them) would keep the old class.
    vars(value_filter).pop("_field", None)


def _is_whole_number(model: type[models.Model], field_name: str) -> bool:
    field = get_model_field(model, field_name)
    return isinstance(field, models.IntegerField | models.AutoField)
