"""One exception handler: every error leaves the API as ``{"detail", "code", "errors"}``."""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError, ErrorCode
from .parsers import RequestTooLarge, too_large_detail

VALIDATION_FAILED = "The request is invalid; see errors for each field."
ID_OUT_OF_RANGE = "Not found: no record has an id that large."


def _flatten_code(codes: Any) -> str:
    while isinstance(codes, dict | list) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) else ErrorCode.INVALID


def _codes(codes: Any) -> set[str]:
    """Every error code in a (nested) ValidationError's codes."""
    if isinstance(codes, dict):
        return set().union(*(_codes(value) for value in codes.values()))
    if isinstance(codes, list):
        return set().union(*(_codes(value) for value in codes))
    return {str(codes)}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(
            {"detail": exc.message, "code": exc.code, "errors": exc.extra},
            status=exc.status_code,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, OverflowError):
        # An id in the URL beyond what the database holds (SQLite refuses to even compare
        # it): there is no such record.
        exc = exceptions.NotFound(ID_OUT_OF_RANGE)
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(too_large_detail())
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        # The contract answers every malformed request with 400 and a message that says
        # what to send instead.
        exc = exceptions.ParseError(
            f"{exc.detail} Send the body as application/json.",
            code=ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {
            "detail": VALIDATION_FAILED,
            "code": _flatten_code(exc.get_codes()),
            "errors": errors,
        }
        # A value that must be unique and is taken conflicts with another record.
        unique_only = _codes(exc.get_codes()) == {"unique"}
        response.status_code = (
            status.HTTP_409_CONFLICT if unique_only else status.HTTP_400_BAD_REQUEST
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else ErrorCode.ERROR
        response.data = {"detail": detail, "code": _flatten_code(code), "errors": {}}
    return response
