"""Under ``/api/`` every answer is JSON, and no request gets in with a value the server
cannot store.

Django answers some requests before the API sees them: an unrouted path (404), a body
over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, a server error (500). Under ``/api/`` those answers
become the API's error format, ``{"detail", "code", "errors"}``.
"""

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase

from .errors import ErrorCode
from .parsers import too_large_detail

API_PREFIX = "/api/"
_ERRORS: dict[int, tuple[str, str]] = {
    400: ("The request is malformed.", ErrorCode.INVALID),
    404: ("Not found.", ErrorCode.NOT_FOUND),
    413: ("The request body is too large.", ErrorCode.TOO_LARGE),
    500: ("Server error: the request could not be handled.", ErrorCode.SERVER_ERROR),
}
# Headers of Django's own answer that still say something true about the JSON one.
_KEPT_HEADERS = ("Allow", "Retry-After", "X-Request-ID")


NUL_IN_URL = "The URL may not contain NUL (%00) characters: they cannot be stored or looked up."


def api_error(
    status: int, detail: str = "", code: str = "", errors: dict | None = None
) -> JsonResponse:
    """An answer in the API's error format, ``{"detail", "code", "errors"}``."""
    default_detail, default_code = _ERRORS.get(status, (_phrase(status), ErrorCode.ERROR))
    body = {
        "detail": detail or default_detail,
        "code": code or default_code,
        "errors": errors or {},
    }
    return JsonResponse(body, status=status)


def _phrase(status: int) -> str:
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:  # a status outside the standard ones
        return "Error."


class ApiErrorMiddleware:
    """Every answer under ``/api/`` is JSON, and no request reaches a view with a value
    the server could not store.

    Django answers some requests before the API sees them: an unrouted path (404), a body
    over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, a server error. Under ``/api/`` those answers
    become the API's error format. A NUL character in the path or the query string is
    refused with a 400 that says so (PostgreSQL cannot store it, nor look it up), and a
    body announced larger than the limit with a 413, before anything reads it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        refusal = self.refusal(request)
        if refusal is not None:
            return refusal
        response = self.get_response(request)
        if response.status_code < 400 or "json" in response.get("Content-Type", ""):
            return response
        if hasattr(response, "accepted_renderer"):  # DRF's own, in the format asked for
            return response
        converted = api_error(response.status_code)
        for header in _KEPT_HEADERS:
            if header in response:
                converted[header] = response[header]
        return converted

    def refusal(self, request: HttpRequest) -> HttpResponseBase | None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _content_length(request) > limit:
            return api_error(413, too_large_detail())
        if "\x00" in request.path or any(
            "\x00" in name or any("\x00" in value for value in values)
            for name, values in request.GET.lists()
        ):
            return api_error(400, NUL_IN_URL, errors={"url": [NUL_IN_URL]})
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        """A body too large found by a view that read it (no Content-Length given)."""
        if request.path.startswith(API_PREFIX) and isinstance(exception, RequestDataTooBig):
            return api_error(413, too_large_detail())
        return None


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
