"""Orders through a faulty payment provider: does the money add up?

One command (``.venv/bin/python bench/sandbox_chaos.py --help``): a fresh database under
a new ``VAR_DIR`` (embedded) or the database and broker given, migrated in a subprocess;
then real processes: the sandbox with its faults switched on (an error rate and lost
responses), a ``celery worker``, the relay and a web server (for the ``tok_async``
callback). It places ``--orders`` orders with a mix of test tokens, cancels some of them
once paid (a refund) or while their payment is pending (a void), waits until every order
has ended, and compares the provider's ledger (read over its HTTP API) with the app's
payments, order by order.

It prints orders by status, the provider's captures and refunds against the app's
payments, and every difference (there must be none), writes the same as JSON under
``bench/results/``, and exits 1 if a difference was found.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"

TOKENS = {"tok_ok": 0.55, "tok_flaky": 0.15, "tok_decline": 0.1, "tok_async": 0.2}
# The provider's charge status that each payment status of the app stands for.
AGREES = {
    "captured": {"succeeded"},
    "refunded": {"refunded"},
    "declined": {"failed"},
    "voided": {"canceled"},
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--error-rate", type=float, default=0.2, help="share of 503s")
    parser.add_argument(
        "--lose-rate", type=float, default=0.1, help="share of writes done, answer lost"
    )
    parser.add_argument(
        "--cancel-rate", type=float, default=0.2, help="share cancelled once paid (or pending)"
    )
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the end")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database-url", default="", help="default: SQLite under VAR_DIR")
    parser.add_argument("--broker-url", default="", help="default: filesystem under VAR_DIR")
    return parser.parse_args(argv)


def configure(args: argparse.Namespace) -> Path:
    """This process's environment, inherited by every process it starts."""
    var_dir = ROOT / "var" / f"chaos-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="project.settings",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or "chaos-only-secret-key",
        CELERY_TASK_DEFAULT_QUEUE=f"chaos-{uuid.uuid4().hex[:8]}",
        LOG_LEVEL="WARNING",
        ORDERS_SANDBOX_READ_TIMEOUT_SECONDS="1",
        ORDERS_GUARD_OUTSIDE_CALLS="true",
        WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
    )
    for name, value in (
        ("DATABASE_URL", args.database_url),
        ("CELERY_BROKER_URL", args.broker_url),
    ):
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True
    )
    subprocess.run([sys.executable, "manage.py", "seed_demo", "--force"], cwd=ROOT, check=True)
    return var_dir


def start_processes(args: argparse.Namespace) -> list[Any]:
    """The sandbox (faulty), a web server for its callbacks, a worker and the relay."""
    from tests.processes import BIN, Relay, Worker, free_port, process_env, wait_until
    from tests.sandbox_process import Sandbox

    web_port = free_port()
    sandbox = Sandbox(
        callback_url=f"http://127.0.0.1:{web_port}/api/payments/callback/",
        env={
            "SANDBOX_ERROR_RATE": str(args.error_rate),
            "SANDBOX_LOSE_RATE": str(args.lose_rate),
            "SANDBOX_LOSE_HOLD_SECONDS": "2",
        },
    ).start()
    os.environ["SANDBOX_URL"] = sandbox.url
    from django.conf import settings

    settings.SANDBOX_URL = sandbox.url
    web = subprocess.Popen(
        [str(BIN / "python"), "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"],
        cwd=ROOT,
        env=process_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    import httpx

    def web_up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{web_port}/healthz", timeout=1).is_success
        except httpx.HTTPError:
            return False

    wait_until(web_up, timeout=60, message="the web server")
    worker = Worker(concurrency=args.concurrency).start()
    relay = Relay().start()
    return [sandbox, web, worker, relay]


def stop_processes(processes: list[Any]) -> None:
    import signal

    for process in reversed(processes):
        if isinstance(process, subprocess.Popen):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
        else:
            process.stop()


def place_orders(args: argparse.Namespace) -> tuple[list[int], list[int]]:
    """Place the orders with a mix of tokens; return them, and those to cancel."""
    from django.contrib.auth import get_user_model

    from orders.services import LineInput, order_place

    rng = random.Random(args.seed)
    customer = get_user_model().objects.get(username="alice")
    order_ids, to_cancel = [], []
    for _ in range(args.orders):
        token = rng.choices(list(TOKENS), weights=list(TOKENS.values()))[0]
        order, _ = order_place(
            customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token=token
        )
        order_ids.append(order.pk)
        if rng.random() < args.cancel_rate:
            to_cancel.append(order.pk)
        time.sleep(0.05)
    return order_ids, to_cancel


def cancel_when_paid(order_ids: list[int], deadline: float) -> Counter:
    """Cancel each order once money is on its way (paid, or a payment pending), so the
    provider has something to refund or void; an order that got past it is left alone."""
    from orders.models import Order, Payment
    from orders.services import order_cancel
    from project.errors import Conflict

    waiting, outcome = set(order_ids), Counter()
    while waiting and time.monotonic() < deadline:
        for order in Order.objects.filter(pk__in=waiting):
            pending = Payment.objects.filter(order=order, status="pending").exists()
            if order.status == Order.Status.PAID or pending:
                with contextlib.suppress(Conflict):  # it moved on meanwhile
                    order_cancel(order=order)
                    outcome["cancelled " + ("while pending" if pending else "once paid")] += 1
                waiting.discard(order.pk)
            elif order.status not in (Order.Status.PENDING, Order.Status.RESERVED):
                outcome[f"left {order.status}"] += 1
                waiting.discard(order.pk)
        time.sleep(0.02)
    return outcome


def wait_for_the_end(order_ids: list[int], timeout: float) -> bool:
    from events.models import WorkflowRun
    from events.tasks import fire_workflow_timers, resume_stalled
    from orders.models import Order

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        open_orders = Order.objects.filter(pk__in=order_ids).exclude(status__in=Order.TERMINAL)
        moving = WorkflowRun.objects.filter(status__in=["running", "compensating"]).exclude(
            steps__status="waiting"
        )
        if not open_orders.exists() and not moving.exists():
            return True
        fire_workflow_timers.delay()  # what beat does: timers, and the watchdog
        resume_stalled.delay()
        time.sleep(2)
    return False


def differences(
    order_ids: list[int], charges: dict[str, dict], refunds: Counter, payments: dict[int, Any]
) -> list[dict[str, Any]]:
    """Each order whose payment in the app and charge at the provider disagree: a status
    that does not match, another charge id, or a refund count other than what it says."""
    from orders.gateway import charge_key
    from orders.models import Order

    found = []
    for order in Order.objects.filter(pk__in=order_ids):
        charge = charges.get(charge_key(order))
        payment = payments.get(order.pk)
        provider = charge["status"] if charge else None
        app = payment.status if payment else None
        agrees = (
            provider in AGREES.get(app, set()) if app else provider in (None, "failed", "canceled")
        )
        if charge and payment and charge["id"] != payment.charge_id and app != "declined":
            agrees = False
        if charge and refunds[charge["id"]] != (1 if provider == "refunded" else 0):
            agrees = False
        if not agrees:
            found.append(
                {
                    "order": order.pk,
                    "status": order.status,
                    "app": app,
                    "provider": provider,
                    "refunds": refunds.get(charge["id"]) if charge else 0,
                }
            )
    return found


def report(order_ids: list[int], sandbox: Any, args: argparse.Namespace) -> dict[str, Any]:
    from events.models import WorkflowRun
    from orders.models import Order, Payment

    time.sleep(3)  # any answer the worker gave up on has been given by now
    charges = {c["idempotency_key"]: c for c in sandbox.charges()}
    refunds = Counter(r["charge_id"] for r in sandbox.refunds())
    payments = {p.order_id: p for p in Payment.objects.filter(order_id__in=order_ids)}
    runs = WorkflowRun.objects.filter(
        workflow="orders.fulfillment", subject_id__in=[str(pk) for pk in order_ids]
    )
    orders = Order.objects.filter(pk__in=order_ids)
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "backend": "services" if args.database_url else "embedded",
        "orders": len(order_ids),
        "faults": {"error_rate": args.error_rate, "lose_rate": args.lose_rate},
        "orders_by_status": dict(Counter(orders.values_list("status", flat=True))),
        "runs_by_status": dict(Counter(runs.values_list("status", flat=True))),
        "provider": {
            "charges_by_status": dict(Counter(c["status"] for c in charges.values())),
            "captures": sum(
                1 for c in charges.values() if c["status"] in ("succeeded", "refunded")
            ),
            "refunds": sum(refunds.values()),
        },
        "app": {
            "payments_by_status": dict(Counter(p.status for p in payments.values())),
            "captured_or_refunded": sum(
                1 for p in payments.values() if p.status in ("captured", "refunded")
            ),
            "refunded": sum(1 for p in payments.values() if p.status == "refunded"),
        },
        "differences": differences(order_ids, charges, refunds, payments),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure(args)
    import django

    django.setup()
    from tests.processes import clear_broker

    clear_broker()
    processes = start_processes(args)
    try:
        started = time.monotonic()
        deadline = time.monotonic() + args.timeout
        canceller = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        order_ids, to_cancel = place_orders(args)
        cancels = canceller.submit(cancel_when_paid, to_cancel, deadline)
        ended = wait_for_the_end(order_ids, args.timeout)
        cancelled = cancels.result()
        canceller.shutdown()
        result = report(order_ids, processes[0], args)
        result["seconds"] = round(time.monotonic() - started, 1)
        result["all_ended"] = ended
        result["cancels"] = dict(cancelled)
    finally:
        stop_processes(processes)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{dt.date.today()}-sandbox-chaos-{result['backend']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"Written to {path.relative_to(ROOT)}")
    return 0 if ended and not result["differences"] else 1


if __name__ == "__main__":
    sys.exit(main())
