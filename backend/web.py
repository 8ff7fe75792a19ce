"""Helpers shared by the page handlers: who is signed in, friendly error pages."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from backend.contracts.principal import Principal, authenticator
from backend.unavailable import RETRY_AFTER_S, UNAVAILABLE_MESSAGE, dependency_away

# What an operator needs (commands, causes) goes here, never onto the page a person reads.
operator_log = logging.getLogger("oo.pages")


async def page_user(request: Request[Any, Any, Any]) -> Principal | None:
    """The person signed in by session cookie, if any."""
    return await authenticator().from_cookies(request.cookies)


def sign_in_redirect() -> Redirect:
    """Where anonymous visitors of a page go."""
    return Redirect(path="/signin", status_code=303)


def error_page(
    title: str,
    message: str,
    status_code: int,
    headers: dict[str, str] | None = None,
    *,
    operator_note: str = "",
    back_href: str = "/",
    back_label: str = "oO",
) -> Template:
    """A friendly page for people (never a traceback, never a command to run).

    `operator_note` is the line for whoever runs the server (what happened, what to do); it is
    logged, not shown.
    """
    if operator_note:
        operator_log.warning("%s (%s): %s", title, status_code, operator_note)
    return Template(
        template_name="error.html",
        context={
            "title": title,
            "message": message,
            "back_href": back_href,
            "back_label": back_label,
        },
        status_code=status_code,
        headers=headers,
    )


class CodedHTTPError(HTTPException):
    """A refusal with a stable code: GraphQL callers get it as a GraphQL error, pages a page."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        title: str = "That did not work",
    ) -> None:
        super().__init__(detail=message, status_code=status_code, headers=headers)
        self.code = code
        self.title = title


def rate_limited_message(retry_after_s: int) -> str:
    """What a refused caller reads."""
    return f"Too many requests. Try again in {retry_after_s} s."


def too_many_requests(retry_after_s: int) -> CodedHTTPError:
    """HTTP 429 with Retry-After and the code RATE_LIMITED."""
    return CodedHTTPError(
        429,
        "RATE_LIMITED",
        rate_limited_message(retry_after_s),
        headers={"Retry-After": str(retry_after_s)},
        title="Slow down a little",
    )


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(("/graphql", "/webhooks/")):
        return False
    return "text/html" in request.headers.get("accept", "text/html")


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Pages get a friendly page; API callers get JSON (GraphQL-shaped when the error is coded)."""
    headers = dict(exc.headers or {})
    if _wants_html(request):
        if isinstance(exc, NotFoundException):
            return error_page("Not here", "There is nothing at this address.", 404)
        title = exc.title if isinstance(exc, CodedHTTPError) else "That did not work"
        return error_page(title, str(exc.detail), exc.status_code, headers)
    if isinstance(exc, CodedHTTPError):
        body = {"data": None, "errors": [{"message": exc.detail, "extensions": {"code": exc.code}}]}
        return Response(body, status_code=exc.status_code, headers=headers)
    return Response(
        {"error": exc.detail, "status": exc.status_code},
        status_code=exc.status_code,
        headers=headers,
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Unexpected errors: logged server-side, a calm message for the person.

    A dependency that is away (database restarting, Redis down) is a 503 with Retry-After,
    not a 500: the request was fine and is worth retrying in a moment.
    """
    if dependency_away(exc):
        request.logger.warning("dependency away on %s: %s", request.url.path, exc)
        headers = {"Retry-After": str(RETRY_AFTER_S)}
        if _wants_html(request):
            return error_page("Back in a moment", UNAVAILABLE_MESSAGE, 503, headers)
        return Response(
            {"error": UNAVAILABLE_MESSAGE, "code": "SERVICE_UNAVAILABLE"},
            status_code=503,
            headers=headers,
        )
    request.logger.exception("unhandled error on %s", request.url.path)
    if _wants_html(request):
        return error_page(
            "Something went wrong",
            "We could not finish that. Nothing was lost; please try again.",
            HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return Response({"error": "Unexpected error."}, status_code=HTTP_500_INTERNAL_SERVER_ERROR)
