"""Every rule of ours that runs per GraphQL operation, as one Strawberry extension (ADR 0044).

Per operation, in Strawberry's order:
- parse: a parsed document per query text, cached, with the token limit (OO_GRAPHQL_MAX_TOKENS);
- validate: graphql-core's rules plus ours (depth, aliases, introspection depth), the errors
  cached per document;
- execute: the introspection policy (backend/graphql/introspection.py), then the cost budget
  and the request's limits in their one round trip (backend/graphql/cost.py);
- the result: a `code` on every error, unexpected ones masked (backend/graphql/errors.py).

These were seven extensions (Strawberry's ParserCache, ValidationCache, MaxTokensLimiter and
AddValidationRules, and our three). Strawberry wraps every hook of every extension in a
context manager on every operation — it inspects the hook, decorates it and enters it — and
that machinery cost more than the work itself: 200 µs of CPU per `{ __typename }` execution,
137 µs with this one extension doing the same (bench/graphql_operation_cpu.py; the request as a
whole: bench/request_cpu.py).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator, Sequence

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.schema.schema import validate_document

from backend.graphql.cost import cost_refusal
from backend.graphql.errors import ErrorCodes
from backend.graphql.introspection import introspection_refusal

CACHED_DOCUMENTS = 256
"""Distinct query texts (and their validation) kept per process: a client sends a handful; a
caller sending new texts forever only churns this bounded cache."""


@functools.lru_cache(maxsize=CACHED_DOCUMENTS)
def parsed(query: str, max_tokens: int) -> DocumentNode:
    """The document of a query text (a syntax error or the token limit raises, uncached)."""
    return parse(query, max_tokens=max_tokens)


@functools.lru_cache(maxsize=CACHED_DOCUMENTS)
def validation_errors(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """What validation finds in a document (keyed by the document object, which `parsed` keeps
    the same for the same text). Strawberry's validation: graphql-core's plus its own rules
    (`@oneOf` inputs, `Maybe` nulls), as its ValidationCache runs it."""
    return validate_document(schema, document, rules)


class OperationRules(ErrorCodes):
    """The module docstring's rules; one instance per operation (pass the class's factory)."""

    def __init__(self, rules: Sequence[type[ASTValidationRule]], max_tokens: int) -> None:
        super().__init__()
        self.rules = tuple(rules)
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        """The cached document (a refusal raised here leaves through ErrorCodes.on_operation)."""
        context = self.execution_context
        if context.graphql_document is None and context.query:
            context.graphql_document = parsed(context.query, self.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        """Validation errors, once per document and rule set."""
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            rules = (*context.validation_rules, *self.rules)
            schema = context.schema._schema
            context.pre_execution_errors = validation_errors(schema, document, rules)
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        """Introspection refused where it is off; the operation's cost spent, or refused."""
        refused = await introspection_refusal(self.execution_context)
        if refused is not None:
            self.execution_context.result = refused  # nothing executes; the budget still counts
        refusal = await cost_refusal(self.execution_context)
        if refusal is not None:
            raise refusal  # Strawberry answers it as the operation's only error, data null
        yield
