"""Helpers shared by the page handlers: who is signed in, friendly error pages."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from backend.contracts.principal import Principal, authenticator


async def page_user(request: Request[Any, Any, Any]) -> Principal | None:
    """The person signed in by session cookie, if any."""
    return await authenticator().from_cookies(request.cookies)


def sign_in_redirect() -> Redirect:
    """Where anonymous visitors of a page go."""
    return Redirect(path="/signin", status_code=303)


def error_page(title: str, message: str, status_code: int) -> Template:
    """A friendly page for people (never a traceback)."""
    return Template(
        template_name="error.html",
        context={"title": title, "message": message},
        status_code=status_code,
    )


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    return not request.url.path.startswith("/graphql") and "text/html" in request.headers.get(
        "accept", "text/html"
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Pages get a friendly page; API callers get JSON."""
    if _wants_html(request):
        if isinstance(exc, NotFoundException):
            return error_page("Not here", "There is nothing at this address.", 404)
        return error_page("That did not work", str(exc.detail), exc.status_code)
    return Response({"error": exc.detail, "status": exc.status_code}, status_code=exc.status_code)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Unexpected errors: logged server-side, a calm message for the person."""
    request.logger.exception("unhandled error on %s", request.url.path)
    if _wants_html(request):
        return error_page(
            "Something went wrong",
            "We could not finish that. Nothing was lost; please try again.",
            HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return Response({"error": "Unexpected error."}, status_code=HTTP_500_INTERNAL_SERVER_ERROR)
