"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from .availability import RETRY_AFTER_SECONDS, close_lost_connections
from .celery import app
from .metrics import check_access, exposition


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Each dependency, ``ok`` or ``down`` with its error; 503 while any is down."""
    checks = {"database": _check(_ping_database), "broker": _check(_ping_broker)}
    ready = all(check["status"] == "ok" for check in checks.values())
    response = JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )
    if not ready:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _check(ping: Callable[[], None]) -> dict[str, str]:
    try:
        ping()
    except Exception as exc:
        return {"status": "down", "error": str(exc).strip() or type(exc).__name__}
    return {"status": "ok"}


def _ping_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        close_lost_connections()  # the next check connects afresh
        raise


def _ping_broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics of this host's processes and of the tables, to allowed scrapers."""
    denial = check_access(
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        authorization=request.headers.get("Authorization", ""),
    )
    if denial is not None:
        response = HttpResponse(denial.reason, status=denial.status, content_type="text/plain")
        if denial.status == 401:
            response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(exposition(with_tables=True), content_type=CONTENT_TYPE_LATEST)
