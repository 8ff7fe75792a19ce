"""The schema: root types composed from the domains' Query / Mutation / Subscription classes."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types

from backend.events.graphql import EventsSubscription
from backend.graphql.errors import ErrorCodes
from backend.identity.graphql import IdentityMutation, IdentityQuery
from backend.recommender.graphql import RecommenderMutation, RecommenderQuery
from backend.settings import get_settings

Query = merge_types("Query", (IdentityQuery, RecommenderQuery))
Mutation = merge_types(
    "Mutation",
    (
        IdentityMutation,
        RecommenderMutation,
    ),
)
Subscription = merge_types("Subscription", (EventsSubscription,))


def build_schema() -> strawberry.Schema:
    """The schema with its limits (depth, aliases, tokens) and error codes."""
    settings = get_settings()
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            # Factories, not instances: each operation gets its own extension objects.
            # (The parser and validation caches are module-level LRUs, shared anyway.)
            lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth),
            lambda: MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
            lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            ErrorCodes,
        ],
    )


schema = build_schema()
