"""Live pages without a GraphQL client: run a subscription in the server, stream its results.

The console's live pages (the event tail, health) execute the very subscription an outside tool
sends over WebSocket — the same resolver, authorization and multiplexer — with the page's own
request as context (its session cookie is the caller), and turn each result into an HTML
fragment sent over server-sent events (ADR 0017). The composer hands the schema over once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import strawberry
from litestar import Request
from strawberry.types import ExecutionResult

from backend.graphql.context import Context

_schema: list[strawberry.Schema] = []


def use_schema(schema: strawberry.Schema) -> None:
    """Called by the composer with the one schema (backend/schema.py)."""
    _schema[:] = [schema]


async def subscription_results(
    request: Request[Any, Any, Any], query: str, variables: dict[str, Any] | None = None
) -> AsyncIterator[ExecutionResult]:
    """Each result of the subscription `query`, run as the caller of `request`.

    A subscription refused before it starts (validation, permissions) yields one result with
    its errors and ends; one that fails later yields the failing result last.
    """
    if not _schema:
        raise RuntimeError("no schema: backend.schema registers it when it is built")
    context = Context(request=request)
    outcome = await _schema[0].subscribe(query, variable_values=variables, context_value=context)
    if isinstance(outcome, ExecutionResult):
        yield outcome
        return
    async with aclosing(outcome) as results:  # a closed page releases its subscriber at once
        async for result in results:
            yield result


async def query_result(
    request: Request[Any, Any, Any], query: str, variables: dict[str, Any] | None = None
) -> ExecutionResult:
    """One query run as the caller of `request` (a live page's first render)."""
    if not _schema:
        raise RuntimeError("no schema: backend.schema registers it when it is built")
    return await _schema[0].execute(
        query, variable_values=variables, context_value=Context(request=request)
    )
