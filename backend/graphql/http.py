"""GraphQL over HTTP: Strawberry's Litestar controller with our refusals (ADR 0018).

- A body (or GET `variables`) that is not JSON, or nests deeper than Python's parser goes,
  is a 400 with the code BAD_REQUEST (it was a 500: the parser's RecursionError escaped).
- A subscription sent over HTTP is a 405 with SUBSCRIPTION_OVER_HTTP and where to go instead
  (it was executed once, as a query, and answered null).
- The GraphiQL page is served to anyone only where OO_GRAPHQL_PLAYGROUND allows it (admins
  always). It is our own template (frontend/templates/playground.html) loading GraphiQL from
  our own static files, not Strawberry's page and its CDN (ADR 0024).
"""

from __future__ import annotations

from typing import Any

from cross_web import AsyncHTTPRequestAdapter
from cross_web import HTTPException as StrawberryHTTPException
from litestar import Request, Response
from litestar.background_tasks import BackgroundTasks
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.response import Template
from strawberry.http import GraphQLRequestData
from strawberry.litestar import make_graphql_controller
from strawberry.litestar.controller import GraphQLController
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from backend.contracts.principal import authenticator
from backend.graphql.playground import playground_context
from backend.settings import get_settings
from backend.web import CodedHTTPError


def bad_request(message: str) -> CodedHTTPError:
    """HTTP 400 with the code BAD_REQUEST."""
    return CodedHTTPError(400, "BAD_REQUEST", message)


class HardenedGraphQLController(GraphQLController):
    """The refusals of the module docstring; everything else is Strawberry's."""

    def decode_json(self, data: str | bytes) -> object:
        """JSON, or BAD_REQUEST (malformed, or nested past the parser's recursion limit)."""
        try:
            return super().decode_json(data)
        except RecursionError:
            raise bad_request("The JSON nests too deeply.") from None
        except ValueError:
            raise bad_request("The request is not valid JSON.") from None

    async def execute_single(
        self,
        request: Request[Any, Any, Any],
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response[Any],
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's, with subscriptions refused: they run over WebSocket only."""
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        if not self.allow_queries_via_get and request_adapter.method == "GET":
            allowed -= {OperationType.QUERY}
        if not request_data.query:
            raise bad_request("No GraphQL query found in the request.")
        try:
            result: ExecutionResult = await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise CodedHTTPError(
                    405,
                    "SUBSCRIPTION_OVER_HTTP",
                    "Subscriptions run over WebSocket: open ws(s)://…/graphql with the "
                    "graphql-transport-ws protocol.",
                    headers={"Allow": "GET, POST"},
                ) from None
            raise StrawberryHTTPException(
                400, error.as_http_error_reason(request_adapter.method)
            ) from None
        return result

    async def render_graphql_ide(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Our GraphiQL page, where the playground is on (or for admins)."""
        if not get_settings().graphql_playground:
            principal = await authenticator().from_cookies(request.cookies)
            if principal is None or not principal.is_admin:
                raise NotFoundException("The GraphQL playground is off on this server.")
        return Template(template_name="playground.html", context=playground_context())


def _sub_response() -> Response[Any]:
    """The response a request's resolvers may set headers and cookies on (Strawberry's)."""
    return Response({}, background=BackgroundTasks([]))


def graphql_controller(**options: Any) -> type[GraphQLController]:
    """`make_graphql_controller(**options)`, hardened (see the module docstring).

    The per-request response is built on the event loop: Strawberry provides it with
    `sync_to_thread=True`, a hop to Litestar's thread pool and back on every request for a
    constructor call (ADR 0041)."""
    base = make_graphql_controller(**options)
    dependencies = {**base.dependencies, "response": Provide(_sub_response, sync_to_thread=False)}
    return type(
        "GraphQLController",
        (HardenedGraphQLController, base),
        {"dependencies": dependencies},
    )
