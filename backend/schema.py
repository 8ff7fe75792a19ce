"""The schema: root types composed from every domain's Query / Mutation / Subscription parts
(backend/domains.py), with the limits and error codes of the GraphQL kernel."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from backend.domains import DOMAINS
from backend.graphql.executor import EventScopedExecutor
from backend.graphql.introspection import introspection_depth_rule
from backend.graphql.operation_rules import OperationRules
from backend.graphql.streaming import use_schema
from backend.settings import get_settings

Query = merge_types("Query", tuple(q for d in DOMAINS for q in d.queries))
Mutation = merge_types("Mutation", tuple(m for d in DOMAINS for m in d.mutations))
Subscription = merge_types("Subscription", tuple(s for d in DOMAINS for s in d.subscriptions))


class Schema(strawberry.Schema):
    """Strawberry's schema, minus its habit of logging every error with a traceback.

    Expected errors (UNAUTHENTICATED, validation, typed codes) are answers, not incidents, and
    logging their full context would put request details into the logs. Unexpected errors are
    logged once, by ErrorCodes, before they are masked.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Nothing: see the class docstring."""


def build_schema() -> strawberry.Schema:
    """The schema with its limits (depth, aliases, tokens), introspection policy, error codes."""
    settings = get_settings()
    # The depth and alias limiters build their validation-rule classes in their constructors.
    # Build them once: the validation cache is keyed by the rule classes, so constructing the
    # limiters per operation made every lookup miss and re-validated every query.
    limit_rules = [
        *QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules,
        # Strawberry's depth limiter skips `__schema` subtrees; this one measures them.
        introspection_depth_rule(settings.graphql_max_introspection_depth),
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        execution_context_class=EventScopedExecutor,
        # A factory, not an instance: each operation gets its own (ADR 0044; the parse and
        # validation caches are module-level LRUs, shared anyway).
        extensions=[lambda: OperationRules(limit_rules, settings.graphql_max_tokens)],
    )


schema = build_schema()
use_schema(schema)  # the console's live pages run subscriptions through it
