"""GraphQL limits (depth, aliases, tokens) over HTTP: refused with a stable error code."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from graphql import get_introspection_query

from tests.support.fixtures import LiveServer

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000


def post(server: LiveServer, query: str) -> tuple[int, dict[str, Any]]:
    with server.client() as client:
        response = client.post("/graphql", json={"query": query})
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.status_code, response.json()


def refused(server: LiveServer, query: str) -> tuple[int, list[dict[str, Any]]]:
    status, body = post(server, query)
    assert body.get("data") is None, body
    errors: list[dict[str, Any]] = body["errors"]
    assert errors, body
    return status, errors


def codes(errors: list[dict[str, Any]]) -> set[str]:
    return {e.get("extensions", {}).get("code") for e in errors}


def nested(levels: int, leaf: str = "name") -> str:
    """`__schema { types { fields { type { ofType { fields { type { ofType { … } } } } } } } }`:
    the introspection cycle that grows exponentially with depth."""
    cycle = ["fields", "type", "ofType"]
    names = ["types"] + [cycle[i % 3] for i in range(levels - 2)]
    return "{ __schema { " + " { ".join(names) + " { " + leaf + " }" + " }" * len(names) + " }"


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


def tokens(count: int) -> str:
    # `{`, `}` and each field name are one token each.
    return "{ " + " ".join(["__typename"] * (count - 2)) + " }"


def test_deep_introspection_is_refused(live_server: LiveServer) -> None:
    _status, errors = refused(live_server, nested(MAX_DEPTH + 4))
    assert codes(errors) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "depth" in errors[0]["message"]


def test_the_ide_introspection_query_still_works(live_server: LiveServer) -> None:
    status, body = post(live_server, get_introspection_query(descriptions=True))
    assert status == 200
    assert "errors" not in body, body["errors"]
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"Query", "Mutation", "Subscription", "Tip", "FeedbackPayload"} <= names


def test_too_many_aliases_are_refused(live_server: LiveServer) -> None:
    _status, body = post(live_server, aliases(MAX_ALIASES))
    assert "errors" not in body
    assert len(body["data"]) == MAX_ALIASES
    _status, errors = refused(live_server, aliases(MAX_ALIASES + 1))
    assert codes(errors) == {"GRAPHQL_VALIDATION_FAILED"}
    assert f"{MAX_ALIASES + 1} aliases" in errors[0]["message"]


def test_too_many_tokens_are_refused(live_server: LiveServer) -> None:
    # The message names the configured limit: one token more than it is refused.
    _status, errors = refused(live_server, tokens(MAX_TOKENS + 1))
    assert codes(errors) == {"GRAPHQL_VALIDATION_FAILED"}
    assert f"more than {MAX_TOKENS} tokens" in errors[0]["message"]


def test_refusals_are_stable_across_repeats(live_server: LiveServer) -> None:
    """The parser and validation caches must not change the answer on a second request."""
    for query in (nested(MAX_DEPTH + 4), aliases(MAX_ALIASES + 1), tokens(MAX_TOKENS + 1)):
        first = refused(live_server, query)
        second = refused(live_server, query)
        assert first[0] == second[0]
        assert codes(first[1]) == codes(second[1]) == {"GRAPHQL_VALIDATION_FAILED"}


def test_syntax_error_has_its_own_code(live_server: LiveServer) -> None:
    _status, errors = refused(live_server, "{ me { id ")
    assert codes(errors) == {"GRAPHQL_PARSE_FAILED"}


def test_unknown_field_is_a_validation_error(live_server: LiveServer) -> None:
    _status, errors = refused(live_server, "{ me { id password } }")
    assert codes(errors) == {"GRAPHQL_VALIDATION_FAILED"}


async def test_depth_limit_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """OO_GRAPHQL_MAX_DEPTH reaches the schema (no non-introspection path is deeper than 10 yet)."""
    from backend import schema as schema_module
    from backend.settings import get_settings

    lowered = dataclasses.replace(get_settings(), graphql_max_depth=1)
    monkeypatch.setattr(schema_module, "get_settings", lambda: lowered)
    schema = schema_module.build_schema()
    # feedback → tip → id: `id` sits at depth 2 (strawberry counts from 0).
    result = await schema.execute('mutation { feedback(tipId: "x", action: DONE) { tip { id } } }')
    assert result.data is None
    assert result.errors
    assert [e.extensions for e in result.errors] == [{"code": "GRAPHQL_VALIDATION_FAILED"}]
    assert "exceeds maximum operation depth of 1" in result.errors[0].message


def test_limits_read_by_settings_match_what_is_tested() -> None:
    from backend.settings import get_settings

    s = get_settings()
    assert (s.graphql_max_depth, s.graphql_max_aliases, s.graphql_max_tokens) == (
        MAX_DEPTH,
        MAX_ALIASES,
        MAX_TOKENS,
    )
