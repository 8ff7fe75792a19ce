"""GraphQL refusals over real HTTP: malformed or deep JSON, subscriptions over HTTP, deep
introspection; and the introspection / playground policy where it is switched off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import get_introspection_query

from tests.integration.security.support import codes, post_graphql, session_for
from tests.support.fixtures import LiveServer, make_person, start_server, stop_server

MAX_INTROSPECTION_DEPTH = 15


@pytest.fixture(scope="module")
def closed(var_dir: Path) -> Iterator[LiveServer]:
    """A server with introspection and the playground off (production's defaults)."""
    server = start_server(
        var_dir,
        with_worker=False,
        extra_env={"OO_GRAPHQL_INTROSPECTION": "false", "OO_GRAPHQL_PLAYGROUND": "false"},
    )
    yield server
    stop_server(server)


def raw_post(server: LiveServer, body: str) -> tuple[int, dict[str, object]]:
    with server.client() as client:
        response = client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.status_code, response.json()


def of_types(levels: int) -> str:
    return "{ __schema { types { " + "ofType { " * levels + "name" + " }" * levels + " } } }"


def test_deeply_nested_json_is_a_bad_request(live_server: LiveServer) -> None:
    deep = "[" * 5000 + "]" * 5000
    status, body = raw_post(
        live_server, '{"query": "{ __typename }", "variables": {"a": ' + deep + "}}"
    )
    assert status == 400
    assert codes(body) == ["BAD_REQUEST"]  # type: ignore[arg-type]
    assert "nests too deeply" in body["errors"][0]["message"]  # type: ignore[index]


def test_deep_json_in_get_variables_is_a_bad_request(live_server: LiveServer) -> None:
    with live_server.client() as client:
        response = client.get(
            "/graphql",
            params={"query": "{ __typename }", "variables": "[" * 5000 + "]" * 5000},
            headers={"accept": "application/json"},
        )
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_REQUEST"]


@pytest.mark.parametrize("body", ["{bad json", '{"query": ', "\x00"])
def test_malformed_json_is_a_bad_request(live_server: LiveServer, body: str) -> None:
    status, answer = raw_post(live_server, body)
    assert status == 400
    assert codes(answer) == ["BAD_REQUEST"]  # type: ignore[arg-type]


def test_ordinary_nesting_is_still_accepted(live_server: LiveServer) -> None:
    nested = json.dumps({"query": "{ __typename }", "variables": {"a": [[[[[[1]]]]]]}})
    status, body = raw_post(live_server, nested)
    assert status == 200
    assert body["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    ("content_type", "body", "said"),
    [
        ("application/json", "5", "must be a JSON object"),
        ("application/json", '"{ __typename }"', "must be a JSON object"),
        ("application/json", '[{"query": "{ __typename }"}]', "one operation per request"),
        ("application/json", '{"query": 5}', "`query` must be a string"),
        ("application/json", '{"query": "{ __typename }", "variables": []}', "`variables`"),
        ("application/json", '{"query": "{ __typename }", "extensions": 3}', "`extensions`"),
        ("application/json", '{"query": "{ __typename }", "operationName": 5}', "operationName"),
        ("application/json", '{"query": "query A { __typename }", "operationName": "B"}', '"B"'),
        ("application/json", "{}", "No GraphQL query"),
        ("text/plain", '{"query": "{ __typename }"}', "content-type: application/json"),
    ],
)
def test_a_request_graphql_cannot_read_gets_a_coded_refusal(
    live_server: LiveServer, content_type: str, body: str, said: str
) -> None:
    # Each of these was a 500 or a plain-text answer before; a client reads them all the same
    # way now: JSON, the status, errors[].extensions.code.
    with live_server.client() as client:
        response = client.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    answer = response.json()
    assert codes(answer) == ["BAD_REQUEST"]
    assert said in answer["errors"][0]["message"]


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/json"]
)
def test_a_json_body_is_answered_whatever_the_spelling_of_its_type(
    live_server: LiveServer, content_type: str
) -> None:
    with live_server.client() as client:
        response = client.post(
            "/graphql",
            content='{"query": "query Q { __typename }", "operationName": "Q"}',
            headers={"content-type": content_type},
        )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


def test_a_subscription_over_http_is_refused_with_a_typed_code(live_server: LiveServer) -> None:
    response = post_graphql(live_server, "subscription { myTip { id } }")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert codes(response.json()) == ["SUBSCRIPTION_OVER_HTTP"]
    assert "WebSocket" in response.json()["errors"][0]["message"]


def test_introspection_depth_is_limited(live_server: LiveServer) -> None:
    for levels in (MAX_INTROSPECTION_DEPTH, 45):
        body = post_graphql(live_server, of_types(levels)).json()
        assert body.get("data") is None
        assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
        assert "introspection depth" in body["errors"][0]["message"]
    # __schema, types, then 12 ofType levels and the leaf: 15, the limit itself.
    accepted = post_graphql(live_server, of_types(MAX_INTROSPECTION_DEPTH - 3)).json()
    assert "errors" not in accepted, accepted


def test_introspection_through_a_fragment_is_measured_too(live_server: LiveServer) -> None:
    query = (
        'query { ...Deep } fragment Deep on Query { __type(name: "Query") { '
        + "ofType { " * 30
        + "name"
        + " }" * 30
        + " } }"
    )
    body = post_graphql(live_server, query).json()
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_introspection_off_for_people_and_strangers(
    closed: LiveServer, token_for: object
) -> None:
    person = await make_person(tasks=False)
    token = await token_for(person)  # type: ignore[operator]
    query = get_introspection_query()
    for who in (None, token):
        body = post_graphql(closed, query, token=who).json()
        assert body["data"] is None
        assert codes(body) == ["INTROSPECTION_DISABLED"]
    type_query = post_graphql(closed, '{ __type(name: "Query") { name } }', token=token).json()
    assert codes(type_query) == ["INTROSPECTION_DISABLED"]
    # __typename is not introspection: clients send it with every query.
    assert post_graphql(closed, "{ __typename }").json() == {"data": {"__typename": "Query"}}


async def test_admins_may_still_introspect(closed: LiveServer, token_for: object) -> None:
    admin = await make_person(tasks=False, role="admin")
    token = await token_for(admin)  # type: ignore[operator]
    body = post_graphql(closed, get_introspection_query(descriptions=True), token=token).json()
    assert "errors" not in body, body.get("errors")
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"Query", "Mutation", "Subscription"} <= names


async def test_the_playground_is_off_except_for_admins(closed: LiveServer) -> None:
    person = await make_person(tasks=False)
    admin = await make_person(tasks=False, role="admin")
    html = {"accept": "text/html"}
    with closed.client(headers=html) as client:
        assert client.get("/graphql").status_code == 404
    with closed.client(headers=html, cookies={"sid": await session_for(person.user_id)}) as client:
        assert client.get("/graphql").status_code == 404
    with closed.client(headers=html, cookies={"sid": await session_for(admin.user_id)}) as client:
        page = client.get("/graphql")
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


def test_production_closes_introspection_and_the_playground_by_default() -> None:
    from backend.settings import load_settings

    production = {
        "OO_ENV": "production",
        "DATABASE_URL": "postgres://oo@db/oo",
        "REDIS_URL": "redis://redis:6379/0",
        "OO_SECRET_KEYS": "k" * 40,
    }
    closed = load_settings(production)
    assert (closed.graphql_introspection, closed.graphql_playground) == (False, False)
    opened = load_settings({**production, "OO_GRAPHQL_INTROSPECTION": "true"})
    assert opened.graphql_introspection is True
    assert load_settings({}).graphql_introspection is True  # development
