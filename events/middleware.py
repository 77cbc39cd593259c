"""Each web request runs under its own cause: its ``X-Request-ID``.

The id a client (or a proxy in front) sends is kept if it is a UUID, hyphenated or as
32 hex digits, and written back in its hyphenated form. Anything else (missing, empty,
too long, not a UUID) is replaced by a new random id, never refused: tracing must not
turn a good request away. The id in effect is echoed in the response's ``X-Request-ID``,
so a client that sent garbage learns the id its request is known by.

The request id is the causation of the events the request emits and the correlation it
proposes to a new flow (see ``events.context``); the request is logged as one line when
it is answered.
"""

import logging
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .context import Cause, bound, parse_id

REQUEST_ID_HEADER = "X-Request-ID"
# How much of a refused id the warning repeats (its repr: no line breaks get through).
SHOWN_OF_A_BAD_ID = 64

logger = logging.getLogger("events.requests")


def request_id_from(sent: str | None) -> tuple[uuid.UUID, bool]:
    """The id a request goes by, and whether the one it sent was replaced."""
    found = parse_id(sent.strip()) if sent else None
    if found is not None:
        return found, False
    return uuid.uuid4(), sent is not None


class RequestTraceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get(REQUEST_ID_HEADER)
        request_id, replaced = request_id_from(sent)
        request.request_id = str(request_id)  # type: ignore[attr-defined]
        cause = Cause(
            correlation_id=request_id,
            causation_id=request_id,
            fixed=False,
            command=f"{request.method} {request.path}",
            received_at=timezone.now(),
        )
        started = time.monotonic()
        with bound(cause):
            if replaced:
                logger.warning(
                    "Replaced an X-Request-ID that is not a UUID: %r",
                    (sent or "")[:SHOWN_OF_A_BAD_ID],
                )
            response = self.get_response(request)
            duration_ms = int((time.monotonic() - started) * 1000)
            logger.info(
                "%s %s %s in %dms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
        response[REQUEST_ID_HEADER] = str(request_id)
        return response
