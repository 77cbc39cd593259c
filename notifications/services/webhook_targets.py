"""The SSRF guard: where a webhook may be sent.

A webhook URL is chosen by whoever configures it, and the request leaves from inside our
network. So its host is resolved and every address it resolves to must be public: not
loopback, private, link-local, reserved, multicast, unspecified, shared (carrier-grade
NAT) or a cloud metadata address, in IPv4 or IPv6 (IPv4-mapped addresses included).
The check runs when a subscription is saved and again at each send, and the request is
then made to the very address that was checked, so a DNS answer that changes in between
(DNS rebinding) cannot slip through. ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` (the environment's
``WEBHOOKS_ALLOW_PRIVATE_TARGETS``) lifts the address rule for local trials; the scheme
rule stays.

Resolution goes through one replaceable function (``set_resolver``), so tests can make a
public-looking name resolve where they like.
"""

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..conf import notifications_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

SCHEMES = ("http", "https")
SCHEME_REFUSED = "Only http and https URLs can receive webhooks."
NO_HOST = "The URL has no host."
UNRESOLVED = "The host {host} could not be resolved."
ADDRESS_REFUSED = (
    "The host {host} resolves to {address}, a {kind} address: webhooks go to public addresses only."
)

# Metadata services of cloud providers, refused even where they would count as public.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)


class TargetRefused(ValueError):
    """The URL may not receive webhooks; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked URL and the address the request must go to."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system's resolver gives for ``host``."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


_resolver: Resolver = system_resolver


def set_resolver(resolver: Resolver | None) -> Resolver:
    """Resolve hosts with ``resolver`` (None: the system's); return the one it replaces."""
    global _resolver
    previous, _resolver = _resolver, resolver or system_resolver
    return previous


def address_kind(address: IPAddress) -> str | None:
    """Why ``address`` may not receive webhooks (e.g. ``"loopback"``), or None if it may."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return address_kind(embedded)
    checks = (
        (address in METADATA_ADDRESSES, "cloud metadata"),
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        (not address.is_global, "non-public"),
    )
    return next((kind for refused, kind in checks if refused), None)


def _split(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise TargetRefused(SCHEME_REFUSED)
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a port out of range or not a number
        raise TargetRefused(str(exc)) from exc
    if not host:
        raise TargetRefused(NO_HOST)
    return scheme, host, port or (443 if scheme == "https" else 80)


def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in _resolver(host, port)]
    except (OSError, UnicodeError, ValueError):
        found = []
    if not found:
        raise TargetRefused(UNRESOLVED.format(host=host))
    return found


def webhook_target_check(url: str) -> Target:
    """Resolve ``url``'s host and check every address; raise ``TargetRefused`` if one is not
    allowed. Returns the target to send to (its first address)."""
    scheme, host, port = _split(url)
    addresses = _addresses(host, port)
    if not notifications_settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        for address in addresses:
            kind = address_kind(address)
            if kind is not None:
                raise TargetRefused(ADDRESS_REFUSED.format(host=host, address=address, kind=kind))
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0])
