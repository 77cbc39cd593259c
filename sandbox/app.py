"""The sandbox's HTTP API (Starlette): charges, refunds, shipments, the ledger, faults.

Writes need an ``Idempotency-Key`` header: the same key gives the same charge (or
booking) and never moves the money twice. Errors answer ``{"error": {"type", "message"}}``
with 400 (bad request), 402 (declined), 404, 409 (key reused for another request) or 503
(transient: try again with the same key).
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import config as sandbox_config
from . import faults as sandbox_faults
from .callbacks import Callbacks
from .storage import FAILED, PENDING, SUCCEEDED, Ledger

logger = logging.getLogger("sandbox")

TEST_TOKENS = ("tok_ok", "tok_decline", "tok_flaky", "tok_async")
FLAKY_FAILURES = 2  # tok_flaky: the first two requests with a key fail transiently

Outcome = tuple[int, dict[str, Any]]


def error(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, **extra}}, status_code=status)


def _outcome_error(status: int, kind: str, message: str) -> Outcome:
    return status, {"error": {"type": kind, "message": message}}


async def _json(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def _faulty(request: Request, kind: str, work: Callable[[], Outcome]) -> JSONResponse:
    """Run one write under the switched-on faults: delayed, refused, or done and lost."""
    faults = request.app.state.faults
    if faults.applies_to(kind) and faults.latency:
        await asyncio.sleep(faults.latency)
    if faults.fails_now(kind):
        return error(503, "api_error", "The sandbox is unavailable (injected); try again.")
    status, body = await asyncio.to_thread(work)
    if faults.loses_now(kind):
        logger.warning("Losing the response to a %s write (done: %s)", kind, status)
        await asyncio.sleep(faults.lose_hold)
        return error(503, "api_error", "The response was lost (injected); try again.")
    return JSONResponse(body, status_code=status)


def _charge_body(charge: dict[str, Any]) -> dict[str, Any]:
    return {"object": "charge", **charge}


# --- payments -----------------------------------------------------------------------------


def _charge_fields(body: dict[str, Any] | None) -> tuple[str, str] | dict[str, str]:
    """The token and amount of a charge request, or the field errors."""
    if body is None:
        return {"body": "A JSON object is required."}
    problems = {}
    token = body.get("token")
    if not isinstance(token, str) or not token:
        problems["token"] = "A test token is required, e.g. tok_ok."
    try:
        amount = Decimal(str(body.get("amount")))
        if not amount.is_finite() or amount <= 0:
            raise InvalidOperation
    except InvalidOperation:
        problems["amount"] = 'A decimal amount above zero is required, e.g. "12.50".'
    return problems or (token, str(amount))


def _charge(ledger: Ledger, key: str, token: str, amount: str) -> Outcome:
    existing = ledger.charge_for_key(key)
    if existing is not None:
        if (existing["token"], Decimal(existing["amount"])) != (token, Decimal(amount)):
            return _outcome_error(
                409, "idempotency_error", "This Idempotency-Key was used for another charge."
            )
        if existing["status"] == FAILED:
            return 402, {
                "error": {
                    "type": "card_error",
                    "message": "Card declined.",
                    "charge": existing["id"],
                }
            }
        return 200, _charge_body(existing)
    if token not in TEST_TOKENS:
        status = FAILED
    elif token == "tok_flaky" and ledger.count_attempt(key) <= FLAKY_FAILURES:
        return _outcome_error(503, "api_error", "Temporary processing error; try again.")
    else:
        status = {"tok_decline": FAILED, "tok_async": PENDING}.get(token, SUCCEEDED)
    charge = ledger.create_charge(key=key, token=token, amount=amount, status=status)
    if charge["status"] == FAILED:
        message = "Card declined." if token in TEST_TOKENS else f"Unknown test token {token!r}."
        return 402, {"error": {"type": "card_error", "message": message, "charge": charge["id"]}}
    return 201, _charge_body(charge)


async def create_charge(request: Request) -> JSONResponse:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return error(400, "invalid_request_error", "The Idempotency-Key header is required.")
    fields = _charge_fields(await _json(request))
    if isinstance(fields, dict):
        return error(400, "invalid_request_error", "Invalid charge.", fields=fields)
    token, amount = fields
    ledger = request.app.state.ledger
    response = await _faulty(request, "charges", lambda: _charge(ledger, key, token, amount))
    # A pending charge is settled and called back even when its answer was lost; a repeat
    # request schedules again harmlessly (only the first callback finds it pending).
    charge = ledger.charge_for_key(key) if token == "tok_async" else None
    if charge and charge["status"] == PENDING:
        request.app.state.callbacks.schedule(charge["id"])
    return response


async def read_charge(request: Request) -> JSONResponse:
    charge = request.app.state.ledger.charge(request.path_params["charge_id"])
    if charge is None:
        return error(404, "invalid_request_error", "No such charge.")
    return JSONResponse(_charge_body(charge))


async def refund_charge(request: Request) -> JSONResponse:
    charge_id = request.path_params["charge_id"]
    ledger = request.app.state.ledger

    def work() -> Outcome:
        refunded = ledger.refund(charge_id)
        if refunded is None:
            return _outcome_error(404, "invalid_request_error", "No such charge.")
        return 200, _charge_body(refunded)

    return await _faulty(request, "refunds", work)


async def list_charges(request: Request) -> JSONResponse:
    """The ledger; ``?idempotency_key=`` finds the charge a lost answer was about."""
    charges = request.app.state.ledger.charges()
    if key := request.query_params.get("idempotency_key"):
        charges = [c for c in charges if c["idempotency_key"] == key]
    return JSONResponse({"data": charges})


async def list_refunds(request: Request) -> JSONResponse:
    return JSONResponse({"data": request.app.state.ledger.refunds()})


# --- carrier ------------------------------------------------------------------------------


async def book_shipment(request: Request) -> JSONResponse:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return error(400, "invalid_request_error", "The Idempotency-Key header is required.")
    ledger = request.app.state.ledger
    return await _faulty(
        request, "shipments", lambda: (200, {"object": "shipment", **ledger.book_shipment(key)})
    )


async def cancel_shipment(request: Request) -> JSONResponse:
    ledger = request.app.state.ledger
    tracking_number = request.path_params["tracking_number"]

    def work() -> Outcome:
        shipment = ledger.cancel_shipment(tracking_number)
        if shipment is None:
            return _outcome_error(404, "invalid_request_error", "No such shipment.")
        return 200, {"object": "shipment", **shipment}

    return await _faulty(request, "shipments", work)


async def list_shipments(request: Request) -> JSONResponse:
    return JSONResponse({"data": request.app.state.ledger.shipments()})


# --- operations ---------------------------------------------------------------------------


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def faults(request: Request) -> JSONResponse:
    """GET shows the faults; POST changes some of them (``{"reset": true}`` clears the rest)."""
    current = request.app.state.faults
    if request.method == "POST":
        body = await _json(request)
        if body is None:
            return error(400, "invalid_request_error", "A JSON object is required.")
        try:
            current.update(body)
        except sandbox_faults.FaultError as exc:
            return error(400, "invalid_request_error", str(exc))
        logger.warning("Faults now %s", current.as_dict())
    return JSONResponse(current.as_dict())


def create_app(
    config: sandbox_config.Config | None = None, faults_: sandbox_faults.Faults | None = None
) -> Starlette:
    """The sandbox app on its own ledger; faults from the environment unless given."""
    config = config or sandbox_config.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.callbacks.resume()
        yield

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/v1/charges", create_charge, methods=["POST"]),
            Route("/v1/charges", list_charges, methods=["GET"]),
            Route("/v1/charges/{charge_id}", read_charge),
            Route("/v1/charges/{charge_id}/refund", refund_charge, methods=["POST"]),
            Route("/v1/refunds", list_refunds),
            Route("/v1/shipments", book_shipment, methods=["POST"]),
            Route("/v1/shipments", list_shipments, methods=["GET"]),
            Route("/v1/shipments/{tracking_number}/cancel", cancel_shipment, methods=["POST"]),
            Route("/_admin/faults", faults, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.ledger = Ledger(config.db_path)
    app.state.faults = faults_ if faults_ is not None else sandbox_faults.from_env()
    app.state.callbacks = Callbacks(config, app.state.ledger)
    return app
