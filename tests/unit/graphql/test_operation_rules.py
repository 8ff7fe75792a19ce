"""The one extension of our rules per operation (backend/graphql/operation_rules.py, ADR 0044):
parse and validation once per query text, the token limit, our validation rules beside
Strawberry's, and coded errors — on a small schema of its own."""

from __future__ import annotations

import pytest
import strawberry
from strawberry.extensions import QueryDepthLimiter

from backend.graphql.operation_rules import OperationRules, parsed, validation_errors

MAX_TOKENS = 40


@strawberry.type
class Node:
    name: str = "n"

    @strawberry.field
    def child(self) -> Node:
        return Node(name=self.name + "+")


@strawberry.type
class Query:
    @strawberry.field
    def root(self) -> Node:
        return Node()


def _schema(max_depth: int = 3) -> strawberry.Schema:
    rules = QueryDepthLimiter(max_depth=max_depth).validation_rules
    return strawberry.Schema(query=Query, extensions=[lambda: OperationRules(rules, MAX_TOKENS)])


def _codes(result: strawberry.types.ExecutionResult) -> list[str]:
    return [str((e.extensions or {}).get("code")) for e in result.errors or []]


@pytest.fixture(autouse=True)
def _empty_caches() -> None:
    parsed.cache_clear()
    validation_errors.cache_clear()


async def test_a_query_text_is_parsed_and_validated_once() -> None:
    schema = _schema()
    query = "query Once { root { child { name } } }"
    for _ in range(3):
        result = await schema.execute(query)
        assert result.errors is None
        assert result.data == {"root": {"child": {"name": "n+"}}}
    assert (parsed.cache_info().misses, parsed.cache_info().hits) == (1, 2)
    assert (validation_errors.cache_info().misses, validation_errors.cache_info().hits) == (1, 2)


async def test_our_rules_run_beside_graphql_cores() -> None:
    schema = _schema(max_depth=2)
    too_deep = await schema.execute("{ root { child { child { name } } } }")
    assert too_deep.data is None
    assert "exceeds maximum operation depth" in str(too_deep.errors)
    assert _codes(too_deep) == ["GRAPHQL_VALIDATION_FAILED"]
    unknown = await schema.execute("{ root { colour } }")  # graphql-core's own rule
    assert _codes(unknown) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Cannot query field 'colour'" in str(unknown.errors)


async def test_the_same_document_under_other_rules_is_validated_again() -> None:
    query = "{ root { child { child { name } } } }"
    assert (await _schema(max_depth=5).execute(query)).errors is None
    assert _codes(await _schema(max_depth=2).execute(query)) == ["GRAPHQL_VALIDATION_FAILED"]
    assert validation_errors.cache_info().misses == 2


async def test_a_syntax_error_is_coded_and_not_kept() -> None:
    schema = _schema()
    for _ in range(2):
        result = await schema.execute("{ root { name ")
        assert result.data is None
        assert _codes(result) == ["GRAPHQL_PARSE_FAILED"]
    assert parsed.cache_info().currsize == 0


async def test_the_token_limit_refuses_a_long_document() -> None:
    long_query = "{ " + " ".join(f"a{i}: root {{ name }}" for i in range(20)) + " }"
    result = await _schema().execute(long_query)
    assert result.data is None
    assert _codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert f"more than {MAX_TOKENS} tokens" in str(result.errors)
