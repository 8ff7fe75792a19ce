"""GraphQL over HTTP: Strawberry's Litestar controller with our refusals (ADR 0018).

- A body (or GET `variables`) that is not JSON, or nests deeper than Python's parser goes,
  is a 400 with the code BAD_REQUEST (it was a 500: the parser's RecursionError escaped).
- A subscription sent over HTTP is a 405 with SUBSCRIPTION_OVER_HTTP and where to go instead
  (it was executed once, as a query, and answered null).
- The GraphiQL page is served to anyone only where OO_GRAPHQL_PLAYGROUND allows it (admins
  always). It is our own template (frontend/templates/playground.html) loading GraphiQL from
  our own static files, not Strawberry's page and its CDN (ADR 0024).
- Every refusal is a coded error (`errors[].extensions.code`, with the HTTP status): a body
  that is not a JSON object, an `operationName` that is not a string or names no operation of
  the document (both were 500s), and Strawberry's own plain-text refusals (ADR 0045).
- A POST with a JSON body takes a short way: no dependency injection, no content-type parsing
  by the e-mail package, no stream-transport lookup (ADR 0045).
"""

from __future__ import annotations

from typing import Any

from cross_web import AsyncHTTPRequestAdapter
from cross_web import HTTPException as StrawberryHTTPException
from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTasks
from litestar.exceptions import NotFoundException, ValidationException
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK
from strawberry.http import GraphQLRequestData, process_result
from strawberry.litestar import make_graphql_controller
from strawberry.litestar.controller import GraphQLController
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from backend.contracts.principal import authenticator
from backend.graphql.context import Context
from backend.graphql.playground import playground_context
from backend.settings import get_settings
from backend.web import CodedHTTPError


def bad_request(message: str) -> CodedHTTPError:
    """HTTP 400 with the code BAD_REQUEST."""
    return CodedHTTPError(400, "BAD_REQUEST", message)


class HardenedGraphQLController(GraphQLController):
    """The refusals of the module docstring; everything else is Strawberry's.

    GET and POST build their context and response themselves instead of through Litestar's
    dependency injection: Strawberry's controller declares five dependencies, three of which
    Litestar resolves in an anyio task group of their own on every request (three tasks and a
    task group per request, for constructor calls). WebSocket keeps Strawberry's dependencies.
    """

    async def _answer(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Strawberry's handling of the request, with our context and response."""
        context, response = _context(request)
        # Strawberry's view reads the response back through get_sub_response(), before its
        # first await (so concurrent requests cannot swap it).
        self.temporal_response = response
        return await self.execute_request(request=request, context=context, root_value=None)

    @get(raises=[ValidationException, NotFoundException])
    async def handle_http_get(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Queries over GET, and the GraphiQL page."""
        return await self._answer(request)

    @post(status_code=HTTP_200_OK)
    async def handle_http_post(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Queries and mutations over POST: a JSON body answered as JSON takes the short way
        (`_answer_json`); anything else (uploads, streamed answers) is Strawberry's."""
        if not _plain_json(request):
            return await self._answer(request)
        try:
            return await self._answer_json(request)
        except StrawberryHTTPException as error:
            raise coded(error) from None

    async def execute_request(
        self, request: Request[Any, Any, Any], context: Any, root_value: Any
    ) -> Response[Any]:
        """Strawberry's, with its plain-text refusals answered as coded errors."""
        try:
            return await self.run(request, context=context, root_value=root_value)
        except StrawberryHTTPException as error:
            raise coded(error) from None

    async def _answer_json(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """One operation in a JSON body, answered as JSON: what Strawberry's view does for it
        (the same checks, refusals and response), without the parts this request cannot need —
        the content type parsed by the e-mail package, the stream transports, batches, uploads.
        Measured: bench/request_cpu.py, docs/performance.md (ADR 0045)."""
        data = self.decode_json(await request.body())
        if isinstance(data, list):
            # Batches are off; Strawberry's answer for them is kept.
            return await self._answer(request)
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.")
        request_data = GraphQLRequestData(
            query=_field(data, "query", str, "a string"),
            variables=_field(data, "variables", dict, "an object"),
            operation_name=_field(data, "operationName", str, "a string"),
            extensions=_field(data, "extensions", dict, "an object"),
            protocol="http",
        )
        context, response = _context(request)
        result = await self._execute("POST", context, None, request_data)
        answer = process_result(result)
        if result.errors:
            self._handle_errors(result.errors, answer)
        return self.create_response(answer, response)

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
        return await self._execute(request_adapter.method, context, root_value, request_data)

    async def _execute(
        self,
        method: str,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run one operation of the kinds `method` allows (never a subscription)."""
        allowed = OperationType.from_http(method) - {OperationType.SUBSCRIPTION}  # type: ignore[arg-type]
        if not self.allow_queries_via_get and method == "GET":
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
        except CannotGetOperationTypeError as error:
            # An operationName the document does not define (it was a 500).
            raise bad_request(error.as_http_error_reason()) from None
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise CodedHTTPError(
                    405,
                    "SUBSCRIPTION_OVER_HTTP",
                    "Subscriptions run over WebSocket: open ws(s)://…/graphql with the "
                    "graphql-transport-ws protocol.",
                    headers={"Allow": "GET, POST"},
                ) from None
            raise StrawberryHTTPException(400, error.as_http_error_reason(method)) from None
        return result

    async def render_graphql_ide(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Our GraphiQL page, where the playground is on (or for admins)."""
        if not get_settings().graphql_playground:
            principal = await authenticator().from_cookies(request.cookies)
            if principal is None or not principal.is_admin:
                raise NotFoundException("The GraphQL playground is off on this server.")
        return Template(template_name="playground.html", context=playground_context())


_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
_REASONS = {
    "Unsupported content type": "Send the operation as JSON, with content-type: application/json.",
    "Batching is not enabled": "Send one operation per request: batches are not accepted.",
}


def coded(error: StrawberryHTTPException) -> CodedHTTPError:
    """Strawberry's refusal (a status and a plain-text reason) as a coded error: GraphQL
    callers read every refusal the same way (`errors[].extensions.code`)."""
    reason = _REASONS.get(error.reason, error.reason)
    return CodedHTTPError(error.status_code, _CODES.get(error.status_code, "BAD_REQUEST"), reason)


def _plain_json(request: Request[Any, Any, Any]) -> bool:
    """A JSON body that asks for a JSON answer (not a streamed one: SSE, multipart)."""
    headers = request.headers
    content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != "application/json":
        return False
    accept = headers.get("accept", "")
    return "event-stream" not in accept and "multipart" not in accept


def _field(data: dict[str, Any], name: str, kind: type, what: str) -> Any:
    """`data[name]` when it is None or of `kind`; else Strawberry's 400 for it."""
    value = data.get(name)
    if value is not None and not isinstance(value, kind):
        raise StrawberryHTTPException(
            400, f"The GraphQL operation's `{name}` must be {what} or null, if provided."
        )
    return value


def _context(request: Request[Any, Any, Any]) -> tuple[Context, Response[Any]]:
    """A request's context, and the response its resolvers may set headers, cookies and a
    status on (as Strawberry's dependencies built them; built here, on the event loop)."""
    response: Response[Any] = Response({}, background=BackgroundTasks([]))
    return Context(request=request, response=response), response


def graphql_controller(**options: Any) -> type[GraphQLController]:
    """`make_graphql_controller(**options)`, hardened (see the module docstring)."""
    base = make_graphql_controller(**options)
    return type("GraphQLController", (HardenedGraphQLController, base), {})
