"""Rate limits on the routes that strangers can hammer (ADR 0018).

Keys: the client address for everything (`oo serve` runs uvicorn with proxy headers on: it
takes X-Forwarded-For from the proxies FORWARDED_ALLOW_IPS names); for GraphQL also the
credential (a hash of the bearer token or the session id). Accounts are counted where they are
known (identity: sessions started, tokens created). Over a limit: HTTP 429 with Retry-After, a page
for browsers, a GraphQL-shaped RATE_LIMITED error for API callers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend import ratelimit, request_round
from backend.settings import Settings, get_settings
from backend.web import rate_limited_message, too_many_requests

SESSION_COOKIE = "sid"
_SIGN_IN = re.compile(
    r"^/auth/(link/[^/]+|google/callback|apple/callback|token|demo)$"
    r"|^/integrations/[^/]+/callback$"
)


@dataclass(frozen=True)
class Rule:
    """One limit to spend on a request: its name, rate, and the keys it is counted by."""

    name: str
    rate: str
    keys: tuple[str, ...]


def client_address(scope: Scope) -> str:
    """The caller's address as the ASGI server reports it."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie") or ""
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def bearer(scope: Scope) -> str | None:
    """The bearer token of the request, if it carries one."""
    header = _header(scope, b"authorization") or ""
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def rules_for(scope: Scope, settings: Settings) -> list[Rule]:
    """The limits a request spends (none for most routes)."""
    path, method, address = scope["path"], scope.get("method", "GET"), client_address(scope)
    if path == "/graphql" and method in {"GET", "POST"}:
        credential = bearer(scope) or _cookie(scope, SESSION_COOKIE)
        keys: tuple[str, ...] = (f"ip:{address}",)
        if credential:
            keys += (f"credential:{ratelimit.fingerprint(credential)}",)
        return [Rule("graphql", settings.rate_graphql, keys)]
    if _SIGN_IN.match(path):
        return [Rule("sign-in", settings.rate_sign_in, (f"ip:{address}",))]
    if path.startswith("/webhooks/") and method == "POST":
        return [Rule("webhooks", settings.rate_webhooks, (f"ip:{address}", f"url:{path}"))]
    return []


def _failures_rule(scope: Scope, settings: Settings) -> Rule | None:
    """The failure budget that, once spent, locks the address out of this kind of request."""
    address = f"ip:{client_address(scope)}"
    if scope["path"] == "/graphql" and bearer(scope) is not None:
        return Rule("auth-failures", settings.rate_auth_failures, (address,))
    if _SIGN_IN.match(scope["path"]):
        return Rule("sign-in-failures", settings.rate_sign_in_failures, (address,))
    return None


def _graphql_over_http(scope: Scope) -> bool:
    return scope["path"] == "/graphql" and scope.get("method", "GET") in {"GET", "POST"}


async def _refuse(send: Send, retry_after_s: int) -> None:
    """The 429 a GraphQL caller gets (what too_many_requests renders for API callers)."""
    body = json.dumps(
        {
            "data": None,
            "errors": [
                {
                    "message": rate_limited_message(retry_after_s),
                    "extensions": {"code": "RATE_LIMITED"},
                }
            ],
        }
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after_s).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _graphql(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, spends: list[ratelimit.Spend]
) -> None:
    """Defer the limits to the operation's one round trip (backend/request_round.py); a
    request that never executes spends them when its response starts, and is refused then."""
    token = request_round.begin(spends)
    round_ = request_round.current()
    assert round_ is not None
    refused = False

    async def spend_before_answering(message: Message) -> None:
        nonlocal refused
        if refused:
            return  # the app's own answer, replaced by the refusal
        if message["type"] == "http.response.start" and not round_.spent:
            round_.spent = True
            refusal = await ratelimit.spend(round_.spends)
            if refusal is not None:
                refused = True
                await _refuse(send, refusal.retry_after_s)
                return
        await send(message)

    try:
        await app(scope, receive, spend_before_answering)
    finally:
        request_round.end(token)


def rate_limit_middleware(app: ASGIApp) -> ASGIApp:
    """Refuse a request over its limits before it reaches its handler."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.WEBSOCKET and scope["path"] == "/graphql":
            # Tokens guessed over HTTP must not be guessed on over a WebSocket (its token comes
            # after the handshake, so the address's failure budget alone decides).
            refusal = await ratelimit.exhausted(
                "auth-failures",
                get_settings().rate_auth_failures,
                f"ip:{client_address(scope)}",
            )
            if refusal is not None:
                await send({"type": "websocket.close", "code": 1008, "reason": "rate limited"})
                return
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        settings = get_settings()
        failures = _failures_rule(scope, settings)
        spends = [
            ratelimit.Spend(rule.name, rule.rate, key)
            for rule in rules_for(scope, settings)
            for key in rule.keys
        ]
        if failures is not None:
            # An address that guessed too many links or tokens is refused before guessing again.
            spends.insert(
                0, ratelimit.Spend(failures.name, failures.rate, failures.keys[0], test_only=True)
            )
        if _graphql_over_http(scope) and settings.rate_limits:
            await _graphql(app, scope, receive, send, spends)
            return
        # One round trip for all of them; a refusal spends none.
        refusal = await ratelimit.spend(spends)
        if refusal is not None:
            raise too_many_requests(refusal.retry_after_s)
        if failures is None or failures.name != "sign-in-failures":
            await app(scope, receive, send)
            return
        status = 0

        async def watch_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await app(scope, receive, watch_status)
        if 400 <= status < 500 and status != 429:  # a refused link, state or token
            await ratelimit.hit(failures.name, failures.rate, *failures.keys)

    return middleware
