"""GraphQL is limited by cost, not only by count: each operation's static cost (fields, lists
by the size they ask for, mutations dearer) is spent from a per-address and per-credential
budget; over it → 429 + Retry-After + RATE_LIMITED, and an operation dearer than a whole window
→ QUERY_TOO_COSTLY before anything runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import parse

from backend.graphql.cost import DEFAULT_LIST_SIZE, MUTATION_COST, operation_cost
from backend.schema import schema
from tests.integration.security.support import codes, post_graphql
from tests.support.fixtures import LiveServer, make_person, start_server, stop_server

BUDGET = 100
LIMITS = {"OO_RATE_GRAPHQL_COST": f"{BUDGET}/minute", "OO_RATE_GRAPHQL": "1000/minute"}
SUBSCRIPTIONS = "{ pushSubscriptions { endpoint deviceLabel createdAt } }"  # 1 + 10 × 3


def cost(query: str, variables: dict[str, object] | None = None, name: str | None = None) -> int:
    return operation_cost(schema._schema, parse(query), name, variables)


def test_a_field_costs_one_and_a_list_multiplies_what_it_selects() -> None:
    assert cost("{ me { id } }") == 2
    assert cost(SUBSCRIPTIONS) == 1 + DEFAULT_LIST_SIZE * 3
    assert cost("{ __typename }") == 1  # the floor: an operation is never free


def test_a_page_costs_what_it_asks_for() -> None:
    small = cost("{ decisions(first: 5) { edges { node { id } } } }")
    large = cost("{ decisions(first: 500) { edges { node { id } } } }")
    # the connection, then per item: an edge and its node's field
    assert small == 1 + 5 * 3
    assert large == 1 + 500 * 3
    by_variable = cost(
        "query($n: Int!) { decisions(first: $n) { edges { node { id } } } }", {"n": 500}
    )
    assert by_variable == large


def test_fragments_count_like_inline_fields_and_mutations_cost_more() -> None:
    inline = cost("{ pushSubscriptions { endpoint deviceLabel } }")
    spread = cost(
        "query { pushSubscriptions { ...S } } fragment S on PushSubscription "
        "{ endpoint deviceLabel }"
    )
    assert spread == inline
    mutation = cost('mutation { unsubscribePush(endpoint: "x") { ok } }')
    assert mutation >= MUTATION_COST + 2


def test_introspection_is_counted_flat() -> None:
    # Its size is the schema's: no list multipliers, however deep GraphiQL asks.
    query = "{ __schema { types { name fields { name type { name } } } } }"
    assert cost(query) == 7  # one per field named


@pytest.fixture(scope="module")
def costly(var_dir: Path) -> Iterator[LiveServer]:
    server = start_server(var_dir, with_worker=False, extra_env=LIMITS)
    yield server
    stop_server(server)


def address() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250}"


async def test_the_budget_refuses_costly_callers_with_429(
    costly: LiveServer, token_for: object
) -> None:
    person = await make_person(tasks=False)
    token = await token_for(person)  # type: ignore[operator]
    ip = address()
    answers = [post_graphql(costly, SUBSCRIPTIONS, token=token, address=ip) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]  # 31 × 3 ≤ 100 < 31 × 4
    assert answers[0].json() == {"data": {"pushSubscriptions": []}}
    refused = answers[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    body = refused.json()
    assert body["data"] is None
    assert codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["extensions"]["cost"] == 31
    # Cheap questions still fit in what is left; another caller is not affected.
    assert post_graphql(costly, "{ me { id } }", token=token, address=ip).status_code == 200
    other = await make_person(tasks=False)
    fresh = post_graphql(costly, SUBSCRIPTIONS, token=await token_for(other), address=address())  # type: ignore[operator]
    assert fresh.status_code == 200


async def test_an_operation_dearer_than_the_window_is_refused_before_it_runs(
    costly: LiveServer, token_for: object
) -> None:
    person = await make_person(tasks=False)
    token = await token_for(person)  # type: ignore[operator]
    answer = post_graphql(
        costly,
        "{ decisions(first: 100) { edges { node { id } } } }",
        token=token,
        address=address(),
    )
    assert answer.status_code == 400
    body = answer.json()
    assert codes(body) == ["QUERY_TOO_COSTLY"]
    assert body["errors"][0]["extensions"]["budget"] == BUDGET
    assert "fewer items" in body["errors"][0]["message"]
    # Refused before running: nothing was spent, the caller's budget is whole.
    spent = [post_graphql(costly, SUBSCRIPTIONS, token=token, address=address()) for _ in range(3)]
    assert [a.status_code for a in spent] == [200, 200, 200]
