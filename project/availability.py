"""503 with ``Retry-After`` while the database cannot be reached, instead of a 500.

A request that meets a database it cannot reach (the server down or refusing connections,
its session cut, the SQLite file impossible to open) is answered 503 with ``Retry-After``
and the API's error body, so clients and load balancers wait and try again; it is never
a traceback page, with ``DEBUG`` on or off. The broken connection is closed on the way
out: the next request connects afresh, and the same process serves again as soon as the
database is back. A persistent connection (``CONN_MAX_AGE``) that died between requests
is found before use by Django's ``CONN_HEALTH_CHECKS``.

Errors that do not mean the database is gone (a missing table, a lock timeout) stay 500s.
"""

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html

from .errors import ErrorCode

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = "The database cannot be reached right now; try again in a few seconds."
API_PREFIX = "/api/"

_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    "<title>Service unavailable</title></head>"
    "<body><h1>Service unavailable</h1><p>{}</p></body></html>"
)
# Set on a request whose uncaught exception said the database is gone (see the middleware).
_UNREACHABLE = "_database_unreachable"


def lost_connections() -> list[BaseDatabaseWrapper]:
    """This thread's database connections that failed to open or no longer answer."""
    return [
        conn
        for conn in connections.all(initialized_only=True)
        if conn.connection is None or not conn.is_usable()
    ]


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a database that cannot be reached, not from a bad query.

    The error alone does not say (a lock timeout is an ``OperationalError`` too); the
    state of the connections does: one failed to open, or no longer answers.
    """
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    return bool(lost_connections())


def close_lost_connections() -> None:
    """Drop the broken connections, so the next use connects afresh."""
    for conn in lost_connections():
        conn.close()


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``: the API's JSON error body, or a short page for a browser."""
    if not request.path.startswith(API_PREFIX) and _prefers_html(request):
        response: HttpResponse = HttpResponse(
            format_html(_PAGE, DATABASE_UNAVAILABLE), status=503, content_type="text/html"
        )
    else:
        body = {
            "detail": DATABASE_UNAVAILABLE,
            "code": ErrorCode.DATABASE_UNAVAILABLE,
            "errors": {},
        }
        response = JsonResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _prefers_html(request: HttpRequest) -> bool:
    return request.get_preferred_type(["application/json", "text/html"]) == "text/html"


def _note_unreachable(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Mark a request whose uncaught exception (being handled now) is a lost database."""
    exc = sys.exception()
    if request is not None and exc is not None and database_unreachable(exc):
        setattr(request, _UNREACHABLE, True)


class DatabaseUnavailableMiddleware:
    """Answer 503 instead of 500 when the database cannot be reached.

    A view's exception comes to ``process_exception``. One raised inside another
    middleware (a session saved on the way out) has already become a 500 by the time it
    gets here; the request was marked when Django reported it, and the 500 is replaced.
    For that, this middleware goes before every one that may touch the database.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        got_request_exception.connect(_note_unreachable, dispatch_uid=__name__)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _UNREACHABLE, False):
            return self._unavailable(request, "an error inside a middleware")
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unreachable(exception):
            return None
        return self._unavailable(request, exception)

    def _unavailable(self, request: HttpRequest, cause: object) -> HttpResponse:
        logger.warning(
            "Database unreachable; %s %s answered 503 (%s)", request.method, request.path, cause
        )
        close_lost_connections()
        return unavailable_response(request)
