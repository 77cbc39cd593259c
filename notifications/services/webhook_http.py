"""One webhook POST, made outside any transaction, to the address the SSRF guard checked.

The request goes to that IP address with the URL's host in the ``Host`` header and, for
https, in the TLS server name (which the certificate is checked against). Redirects are
not followed: a 3xx is a failed attempt like any answer outside 2xx. Proxies from the
environment are not used, since they would reach the host by their own resolution.
"""

import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..conf import notifications_settings
from .webhook_targets import Target

TIMED_OUT = "Timed out: {detail}"
NO_CONNECTION = "Could not connect: {detail}"
NOT_2XX = "The receiver answered {status}."


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    duration_ms: int
    error: str = ""
    response_excerpt: str = ""

    @property
    def succeeded(self) -> bool:
        return not self.error


def _pinned_url(target: Target) -> str:
    parts = urlsplit(target.url)
    ip = str(target.address)
    host = f"[{ip}]" if target.address.version == 6 else ip
    return urlunsplit((target.scheme, f"{host}:{target.port}", parts.path or "/", parts.query, ""))


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def _excerpt(response: httpx.Response, limit: int) -> str:
    """The start of the answer's body, read no further than needed."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit * 4:  # enough bytes for ``limit`` characters of UTF-8
            break
    return b"".join(chunks).decode(errors="replace")[:limit]


def webhook_post(*, target: Target, body: bytes, headers: dict[str, str]) -> PostResult:
    """POST ``body`` to ``target``; any 2xx answer is a success."""
    settings = notifications_settings
    timeout = httpx.Timeout(
        settings.WEBHOOK_READ_TIMEOUT_SECONDS, connect=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS
    )
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST",
                _pinned_url(target),
                content=body,
                headers={**headers, "host": _host_header(target)},
                extensions={"sni_hostname": target.host},
            ) as response,
        ):
            excerpt = _excerpt(response, settings.WEBHOOK_RESPONSE_EXCERPT_CHARS)
    except httpx.TimeoutException as exc:
        return PostResult(None, elapsed(), TIMED_OUT.format(detail=_describe(exc)))
    except httpx.HTTPError as exc:
        return PostResult(None, elapsed(), NO_CONNECTION.format(detail=_describe(exc)))
    status = response.status_code
    error = "" if 200 <= status < 300 else NOT_2XX.format(status=status)
    return PostResult(status, elapsed(), error, excerpt)


def _describe(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
