"""The data-API layer of the stand-ins (Todoist, and Google Calendar via ``calendar_standin``).

``StandInBase`` (``idp_common``) looks handlers up by exact (method, path); ``ApiStandIn`` adds
path parameters, a request log with headers (secrets redacted) and the status answered,
``fail_next`` and opaque paging cursors.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.idp_common import Request, Response, StandInBase

SECRET_PARAMS = frozenset(
    {"client_secret", "code", "code_verifier", "refresh_token", "token", "access_token"}
)


def _redact_params(params: Mapping[str, str]) -> dict[str, str]:
    return {k: ("***" if k in SECRET_PARAMS else v) for k, v in params.items()}


def _redact_headers(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name == "authorization":
            out[name] = value.split(" ", 1)[0] + " ***"
        elif name in ("cookie", "x-todoist-hmac-sha256"):
            out[name] = "***"
        else:
            out[name] = value
    return out


@dataclass
class SeenRequest:
    """One request the stand-in received (secrets redacted)."""

    method: str
    path: str
    params: dict[str, str]  # query + form, first value each; secret fields → "***"
    headers: dict[str, str]  # lower-case names; Authorization → "Bearer ***"
    status: int | None = None  # what the stand-in answered
    user: str | None = None  # e-mail of the account the bearer token belongs to


class ApiError(Exception):
    """Raised by a handler: answered as JSON with ``status``."""

    def __init__(
        self, status: int, body: Any, headers: Iterable[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = list(headers or [])

    def response(self) -> Response:
        return Response(
            self.status, self.body, [("Content-Type", "application/json"), *self.headers]
        )


class _AllToDispatcher(dict[Any, Any]):
    """StandInBase looks handlers up by exact (method, path); send every request to one."""

    def __init__(self, dispatch: Callable[[Request], Response]) -> None:
        super().__init__()
        self._dispatch = dispatch

    def get(self, key: Any, default: Any = None) -> Callable[[Request], Response]:
        return self._dispatch


class ApiStandIn(StandInBase):
    """``StandInBase`` (server, thread, ASGI) plus what a data API stand-in needs.

    Subclasses register ``add_route(method, regex, handler)``; named groups of the regex are
    passed to the handler as keyword arguments. ``fail_prefix`` selects the paths that
    ``fail_next`` applies to.
    """

    fail_prefix = "/"

    def __init__(self, host_name: str = "127.0.0.1") -> None:
        self._api_routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = []
        super().__init__(host_name)
        self._routes = _AllToDispatcher(self._dispatch)

    def reset(self) -> None:
        super().reset()
        self.requests: list[SeenRequest] = []  # type: ignore[assignment]
        self._failures: list[tuple[int, int | None, str | None]] = []
        self._cursors: dict[str, tuple[tuple[Any, ...], int]] = {}

    # ----------------------------------------------------------------- knobs

    def fail_next(
        self, status: int, n: int = 1, retry_after: int | None = None, user: str | None = None
    ) -> None:
        """Answer the next ``n`` API calls with ``status`` (429 carries Retry-After).

        With ``user``, only calls made with that account's token fail: other work on the same
        stand-in (another test's background sync) cannot take the failure.
        """
        self._failures.extend([(status, retry_after, user)] * n)

    def calls(self, method: str | None = None, path: str | None = None) -> list[SeenRequest]:
        """Logged requests, optionally only those with this method and/or path (exact)."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == path)
        ]

    # ----------------------------------------------------------------- for subclasses

    def add_route(self, method: str, pattern: str, handler: Callable[..., Response]) -> None:
        self._api_routes.append((method, re.compile(pattern), handler))

    def failure_response(self, status: int, retry_after: int | None) -> Response:
        raise NotImplementedError

    def not_found(self, status: int) -> Response:
        return Response.json(
            {"error": "Not Found" if status == 404 else "Method Not Allowed"}, status
        )

    def bad_cursor(self) -> ApiError:
        raise NotImplementedError

    def log_user(self, req: Request) -> str | None:
        return None

    def page(
        self, items: list[Any], limit: int, cursor: str | None, key: tuple[Any, ...]
    ) -> tuple[list[Any], str | None]:
        """``limit`` items from the position ``cursor`` points at, and the next opaque cursor.

        A cursor is only valid for the same ``key`` (endpoint, account and filters).
        """
        start = 0
        if cursor:
            entry = self._cursors.get(cursor)
            if entry is None or entry[0] != key:
                raise self.bad_cursor()
            start = entry[1]
        chunk = items[start : start + limit]
        if start + limit >= len(items):
            return chunk, None
        nxt = secrets.token_urlsafe(24)
        self._cursors[nxt] = (key, start + limit)
        return chunk, nxt

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, req: Request) -> Response:
        seen = SeenRequest(
            req.method, req.path, _redact_params(req.params), _redact_headers(req.headers)
        )
        # StandInBase logged a (method, path, params) tuple a moment ago (synchronously, on the
        # server's event loop): replace it with the richer record.
        if self.requests and isinstance(self.requests[-1], tuple):
            self.requests[-1] = seen
        else:
            self.requests.append(seen)
        seen.user = self.log_user(req)
        try:
            resp = self._route(req, seen.user)
        except ApiError as err:
            resp = err.response()
        except Exception:
            seen.status = 500
            raise
        seen.status = resp.status
        return resp

    def _route(self, req: Request, user: str | None) -> Response:
        if req.path.startswith(self.fail_prefix):
            for i, (status, retry_after, only) in enumerate(self._failures):
                if only is None or only == user:
                    del self._failures[i]
                    return self.failure_response(status, retry_after)
        known_path = False
        for method, pattern, handler in self._api_routes:
            match = pattern.fullmatch(req.path)
            if match is None:
                continue
            if method == req.method:
                return handler(req, **match.groupdict())
            known_path = True
        return self.not_found(405 if known_path else 404)
