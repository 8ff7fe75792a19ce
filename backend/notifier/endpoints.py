"""Which push endpoints oO will ever POST to: a subscription is a URL the browser hands us, so
an unchecked one would let anyone make the server call any address (SSRF)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from backend.contracts.errors import Refused

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_ENDPOINT_LENGTH = 1000


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """True when `host` is on the list; `*.example.com` matches any subdomain (not itself)."""
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower().strip()
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and len(host) > len(entry) - 1:
                return True
        elif host == entry:
            return True
    return False


def check_endpoint(endpoint: str, *, production: bool, allowed: Iterable[str]) -> str:
    """The endpoint when it may be used; Refused(ENDPOINT_NOT_ALLOWED) otherwise.

    Production: https to an allow-listed push service host on the default port. Elsewhere
    http(s) to loopback is accepted as well (local push stand-ins and tests).
    """
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        raise Refused("INVALID_SUBSCRIPTION", "The endpoint is too long.", "subscription.endpoint")
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        raise Refused(
            "INVALID_SUBSCRIPTION", "The endpoint is not a URL.", "subscription.endpoint"
        ) from None
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        raise Refused("INVALID_SUBSCRIPTION", "The endpoint is not a URL.", "subscription.endpoint")
    if parts.scheme == "https" and port in (None, 443) and host_allowed(host, allowed):
        return endpoint
    if not production and parts.scheme in ("http", "https") and host in LOOPBACK_HOSTS:
        return endpoint
    raise Refused(
        "ENDPOINT_NOT_ALLOWED",
        f"oO does not send notifications to {host}: use a browser with a known push service.",
        "subscription.endpoint",
    )
