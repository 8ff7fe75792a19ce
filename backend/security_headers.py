"""Security headers on every HTTP response, and a per-request CSP nonce (ADR 0018).

Pages run no inline script: every script is a file under /static, so `script-src 'self'`
holds. A nonce is still made per request (`request.state.csp_nonce` in handlers and templates)
for a page that one day cannot avoid an inline script. No page loads anything from another
host, the GraphiQL playground included (ADR 0024): its policy differs only in allowing the
data: fonts of GraphiQL's stylesheet, on that route only. HSTS is sent when the configured
public URL is https: behind a TLS-terminating proxy the request itself is http, so the request
cannot tell.
"""

from __future__ import annotations

import secrets

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.settings import get_settings

NONCE_KEY = "csp_nonce"
PLAYGROUND_PATH = "/graphql"
HSTS = "max-age=31536000; includeSubDomains"

# Styles: 'unsafe-inline' because ECharts and htmx set inline styles from script (ECharts sizes
# its own canvas containers, htmx adds its indicator style) and the console's bars take their
# width from a `style="--share: …"` custom property. A style cannot run code; scripts stay strict.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; "
    "worker-src 'self'; frame-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The GraphiQL page (ADR 0024) loads only our own files; its stylesheet carries its fonts as data:
# URIs, the one thing the page policy does not allow. Only GET /graphql answering HTML gets this.
PLAYGROUND_POLICY = PAGE_POLICY.replace("font-src 'self';", "font-src 'self' data:;")
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def content_security_policy(path: str, content_type: str, nonce: str) -> str:
    """The policy for a response: the playground's on its HTML page, the strict one elsewhere."""
    playground = path == PLAYGROUND_PATH and content_type.startswith("text/html")
    return (PLAYGROUND_POLICY if playground else PAGE_POLICY).format(nonce=nonce)


def csp_nonce_middleware(app: ASGIApp) -> ASGIApp:
    """Give each HTTP request its CSP nonce before its handler runs."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            scope.setdefault("state", {})[NONCE_KEY] = secrets.token_urlsafe(16)
        await app(scope, receive, send)

    return middleware


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Litestar `before_send` hook: the headers above on every HTTP response.

    A hook rather than a middleware so that answers made before any route runs (an unknown
    path's 404) carry them too. Headers a handler set itself are kept.
    """
    if message["type"] != "http.response.start" or scope["type"] != ScopeType.HTTP:
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in STATIC_HEADERS.items():
        headers.setdefault(name, value)
    nonce = scope.get("state", {}).get(NONCE_KEY) or secrets.token_urlsafe(16)
    csp = content_security_policy(scope["path"], headers.get("content-type") or "", nonce)
    headers.setdefault("Content-Security-Policy", csp)
    if get_settings().secure_cookies:  # the public URL is https
        headers.setdefault("Strict-Transport-Security", HSTS)
