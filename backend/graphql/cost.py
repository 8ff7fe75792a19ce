"""What a GraphQL operation costs, and the per-caller budget it is spent from (ADR 0018).

A request count treats `{ tip { id } }` and a page of a thousand decisions with their features
alike. The cost here is a static estimate from the document, before anything runs: every field
costs 1, a list field multiplies what is selected under it by the size it asks for (its `first`
/ `limit` argument, or a default when it has none), a mutation's root field costs
MUTATION_COST more (it writes). Introspection is counted flat — its size is the schema's, not
the caller's to choose.

The budget (OO_RATE_GRAPHQL_COST) is spent per address and per credential, beside the request
count the middleware keeps. Over it: HTTP 429 with Retry-After and a RATE_LIMITED error; an
operation that alone costs more than a whole window is refused as QUERY_TOO_COSTLY (no wait
would help; ask for fewer items).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    value_from_ast_untyped,
)
from strawberry.types import ExecutionContext

from backend import ratelimit, request_round
from backend.graphql.reads import reads_for
from backend.rate_limit_middleware import SESSION_COOKIE, bearer, client_address
from backend.settings import get_settings
from backend.web import rate_limited_message

LIST_SIZE_ARGUMENTS = ("first", "last", "limit")
DEFAULT_LIST_SIZE = 10
"""A list field without a size argument is assumed to return this many items."""
MAX_LIST_SIZE = 1000
MUTATION_COST = 10
CONNECTION_LISTS = ("edges", "nodes")


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of the operation `operation_name` of a validated `document`."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(
        (
            o
            for o in operations
            if operation_name is None or (o.name and o.name.value == operation_name)
        ),
        None,
    )
    if operation is None:
        return 1
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 1
    counter = _Counter(fragments, dict(variables or {}))
    cost = counter.selections(operation.selection_set, root, 1)
    if operation.operation is OperationType.MUTATION:
        cost += MUTATION_COST * len(operation.selection_set.selections)
    return max(cost, 1)


class _Counter:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]):
        self.fragments = fragments
        self.variables = variables

    def selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        times: int,
        counted: bool = False,
    ) -> int:
        """`counted`: the parent is a connection whose size is already in `times`."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, times, counted)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selections(selection.selection_set, parent, times, counted)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:  # validation has already refused unknown fragments
                    total += self.selections(fragment.selection_set, parent, times, counted)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType, times: int, counted: bool) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        if name.startswith("__"):
            return times * _flat(node.selection_set)
        definition = getattr(parent, "fields", {}).get(name)
        if definition is None or node.selection_set is None:
            return times
        child = get_named_type(definition.type)
        if counted and name in CONNECTION_LISTS:
            return times + self.selections(node.selection_set, child, times)
        if _is_connection(child):
            size = self.list_size(node)
            return times + self.selections(node.selection_set, child, times * size, True)
        size = self.list_size(node) if _is_list(definition.type) else 1
        return times + self.selections(node.selection_set, child, times * size)

    def list_size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value in LIST_SIZE_ARGUMENTS:
                value = value_from_ast_untyped(argument.value, self.variables)
                if isinstance(value, int) and value >= 0:
                    return min(value, MAX_LIST_SIZE)
        return DEFAULT_LIST_SIZE


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _is_connection(named: GraphQLNamedType) -> bool:
    """A page of items (`{ edges }` / `{ nodes }`): a list in all but name, sized by `first`."""
    return isinstance(named, GraphQLObjectType) and any(f in named.fields for f in CONNECTION_LISTS)


def _flat(selection_set: SelectionSetNode | None) -> int:
    if selection_set is None:
        return 1
    return 1 + sum(
        _flat(s.selection_set) if isinstance(s, FieldNode | InlineFragmentNode) else 1
        for s in selection_set.selections
    )


def budget_per_window() -> int:
    """How much one caller may spend per window of OO_RATE_GRAPHQL_COST."""
    return int(ratelimit.parse(get_settings().rate_graphql_cost).amount)


async def cost_refusal(execution_context: ExecutionContext) -> GraphQLError | None:
    """Spend an HTTP or WebSocket operation's cost from its caller's budget before it runs.

    The refusal, when there is one. Operations run in-process by the console's live pages
    carry no response object and are not counted: the page route that runs them is the
    request, and pages are not GraphQL calls.
    """
    context = execution_context.context
    keys = caller_keys(context)
    document = execution_context.graphql_document
    round_ = request_round.current()
    deferred: list[ratelimit.Spend] = []
    if round_ is not None and not round_.spent and getattr(context, "response", None):
        # This operation's request: its count limits are spent here, with the cost, in
        # the one round trip that also reads what the operation will need.
        round_.spent = True
        deferred = round_.spends
    if not keys or document is None or not get_settings().rate_limits:
        return await _spend_deferred(context, deferred)
    cost = operation_cost(
        execution_context.schema._schema,
        document,
        execution_context.operation_name,
        execution_context.variables,
    )
    budget = budget_per_window()
    if cost > budget:
        refused = await _spend_deferred(context, deferred)
        if refused is not None:
            return refused
        _answer_status(context, 400, None)
        return GraphQLError(
            f"This operation costs {cost}; one caller may spend {budget} per window. "
            "Ask for fewer items (first/limit) or fewer fields.",
            extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "budget": budget},
        )
    rate = get_settings().rate_graphql_cost
    spends = [*deferred, *(ratelimit.Spend("graphql-cost", rate, k, cost) for k in keys)]
    reads = None
    if round_ is not None and deferred:
        connection = context.request
        reads = reads_for(
            connection,
            bearer(connection.scope),
            document,
            execution_context.operation_name,
        )
    over, found = await ratelimit.spend_and_read(spends, reads)
    if over is None:
        if round_ is not None:
            round_.reads.update(found)
        return None
    if over.rule != "graphql-cost":
        return _rate_limited(context, over.retry_after_s)
    _answer_status(context, 429, over.retry_after_s)
    return GraphQLError(
        f"Too many GraphQL requests: this one costs {cost}. Try again in {over.retry_after_s} s.",
        extensions={"code": "RATE_LIMITED", "retryAfter": over.retry_after_s, "cost": cost},
    )


async def _spend_deferred(context: Any, deferred: list[ratelimit.Spend]) -> GraphQLError | None:
    """Spend the request's count limits alone (no cost to add); their refusal, if any."""
    refusal = await ratelimit.spend(deferred) if deferred else None
    return None if refusal is None else _rate_limited(context, refusal.retry_after_s)


def _rate_limited(context: Any, retry_after_s: int) -> GraphQLError:
    """The request count's refusal, as the middleware answered it before (ADR 0018)."""
    _answer_status(context, 429, retry_after_s)
    return GraphQLError(rate_limited_message(retry_after_s), extensions={"code": "RATE_LIMITED"})


def caller_keys(context: Any) -> tuple[str, ...]:
    """The budget's keys for a caller over HTTP or WebSocket: address, then credential."""
    connection = getattr(context, "websocket", None)
    if connection is None:
        if getattr(context, "response", None) is None:
            return ()  # in-process (a live console page)
        connection = getattr(context, "request", None)
    if connection is None:
        return ()
    # The same keys as the middleware's request count (backend/rate_limit_middleware.py); on a
    # socket the token comes in connection_init instead of a header.
    scope = connection.scope
    keys: tuple[str, ...] = (f"ip:{client_address(scope)}",)
    params = getattr(context, "connection_params", None) or {}
    in_params = str(params.get("Authorization") or params.get("authorization") or "")
    credential = (
        bearer(scope)
        or in_params.partition(" ")[2].strip()
        or connection.cookies.get(SESSION_COOKIE)
    )
    if credential:
        keys += (f"credential:{ratelimit.fingerprint(credential)}",)
    return keys


def _answer_status(context: Any, status: int, retry_after_s: int | None) -> None:
    response = getattr(context, "response", None)
    if response is None:
        return
    response.status_code = status
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(retry_after_s)
