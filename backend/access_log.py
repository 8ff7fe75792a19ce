"""A request log that never prints secrets.

uvicorn's access log prints the raw path and query string, which carry one-time sign-in link
tokens and OAuth codes. This middleware logs method, a redacted path (no query string, secret
path segments replaced) and status instead; uvicorn's own access log is switched off.
"""

from __future__ import annotations

import logging
import re
import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("oo.access")
_SECRET_PATHS = re.compile(r"^(/auth/link/)[^/]+")


def redact_path(path: str) -> str:
    """The path with secret segments replaced by `…`."""
    return _SECRET_PATHS.sub(r"\1…", path)


def access_log_middleware(app: ASGIApp) -> ASGIApp:
    """Log one line per HTTP request, redacted."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            log.info(
                "%s %s %d %.1fms",
                scope.get("method", "-"),
                redact_path(scope["path"]),
                status,
                (time.perf_counter() - started) * 1000,
            )

    return middleware
