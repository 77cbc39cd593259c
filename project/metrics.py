"""Prometheus exposition: what ``/metrics`` and the workers' exporter serve, and to whom.

Counters and histograms come from every process of this host: under prometheus-client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) each process writes its values to files
there and an exposition sums them; without it a process shows its own. The gauges read
from the tables (outbox lag, dead letters, runs by status) are served by the web process
only, so that no two scrape targets report them twice. See docs/observability.md.
"""

import hmac
import ipaddress
import os
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, NamedTuple

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from events.metrics import EventsCollector

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Denial(NamedTuple):
    status: int
    reason: str


NOT_FROM_HERE = Denial(403, "Metrics are not served to this address (METRICS_ALLOWED_NETWORKS).")
NO_TOKEN = Denial(401, "Metrics need the bearer token (METRICS_TOKEN).")


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition(*, with_tables: bool) -> bytes:
    """The text exposition of this host's processes, with the table gauges if asked."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if with_tables:
        tables = CollectorRegistry()
        tables.register(EventsCollector())
        body += generate_latest(tables)
    return body


@cache
def _networks(allowed: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in allowed)


def check_access(*, remote_addr: str, authorization: str) -> Denial | None:
    """Whether a scraper may read the metrics: ``None`` if so, else why not.

    The client's address must be in ``METRICS_ALLOWED_NETWORKS`` (loopback and private
    networks by default) and, once ``METRICS_TOKEN`` is set, the request must carry
    ``Authorization: Bearer <token>``.
    """
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return NOT_FROM_HERE
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not any(
        address in network for network in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS))
    ):
        return NOT_FROM_HERE
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
            return NO_TOKEN
    return None


def exporter_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI application of the workers' and the relay's exporter: counters and
    histograms of this host's processes, to the same scrapers ``/metrics`` serves."""
    denial = check_access(
        remote_addr=environ.get("REMOTE_ADDR", ""),
        authorization=environ.get("HTTP_AUTHORIZATION", ""),
    )
    if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found: the metrics are at /metrics\n"]
    if denial is not None:
        headers = [("Content-Type", "text/plain")]
        if denial.status == 401:
            headers.append(("WWW-Authenticate", "Bearer"))
        phrase = "Unauthorized" if denial.status == 401 else "Forbidden"
        start_response(f"{denial.status} {phrase}", headers)
        return [denial.reason.encode() + b"\n"]
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [exposition(with_tables=False)]
