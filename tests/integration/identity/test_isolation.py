"""No person can read or change another person's data through any GraphQL field.

Every Query/Mutation/Subscription field that takes an ID argument must have a case in CASES:
the test introspects the schema and fails when a new such field appears without one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from backend.schema import schema
from tests.support.fixtures import DemoPerson, LiveServer, make_person


def gql(
    server: LiveServer, token: str, query: str, status: int = 200, **variables: Any
) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def _id_fields() -> set[str]:
    """Every root field with an ID-typed argument that a non-admin may call, as `Root.field`.

    Fields guarded by IsAdmin are exempt here (their own tests check the guard).
    """
    from backend.graphql.permissions import IsAdmin
    from backend.schema import Mutation, Query, Subscription

    found: set[str] = set()
    for root in (Query, Mutation, Subscription):
        definition = root.__strawberry_definition__  # type: ignore[attr-defined]
        for field in definition.fields:
            if IsAdmin in field.permission_classes:
                continue
            if any(
                "ID" in str(arg.type_annotation.annotation) or "ID" in str(arg.type)
                for arg in field.arguments
            ):
                found.add(
                    f"{definition.name}.{schema.config.name_converter.get_graphql_name(field)}"
                )
    return found


Case = Callable[[LiveServer, str, dict[str, Any]], Awaitable[None]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[name] = fn
        return fn

    return register


@case("Mutation.feedback")
async def _feedback(server: LiveServer, intruder: str, victim: dict[str, Any]) -> None:
    body = gql(
        server,
        intruder,
        "mutation($id: ID!) { feedback(tipId: $id, action: DONE, dwellMs: 20000) "
        "{ tip { id } errors { code } } }",
        id=victim["tip_id"],
    )
    assert body["data"]["feedback"]["errors"][0]["code"] == "NOT_FOUND"
    assert body["data"]["feedback"]["tip"] is None


@case("Mutation.revokeApiToken")
async def _revoke_token(server: LiveServer, intruder: str, victim: dict[str, Any]) -> None:
    body = gql(
        server,
        intruder,
        "mutation($id: ID!) { revokeApiToken(id: $id) { revoked errors { code } } }",
        id=victim["token_id"],
    )
    assert body["data"]["revokeApiToken"] == {"revoked": False, "errors": [{"code": "NOT_FOUND"}]}


@case("Mutation.revokeSession")
async def _revoke_session(server: LiveServer, intruder: str, victim: dict[str, Any]) -> None:
    body = gql(
        server,
        intruder,
        "mutation($id: ID!) { revokeSession(id: $id) { revoked errors { code } } }",
        id=victim["session_id"],
    )
    assert body["data"]["revokeSession"]["revoked"] is False


@case("Subscription.events")
async def _events(server: LiveServer, intruder: str, victim: dict[str, Any]) -> None:
    # Over HTTP a subscription is refused; the WebSocket FORBIDDEN case lives in
    # tests/integration/test_events_subscription.py. Here: the intruder's `events` with the
    # victim's id must not be accepted as a query either (405, ADR 0018).
    body = gql(server, intruder, 'subscription { events(userId: "x") { id } }', status=405)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SUBSCRIPTION_OVER_HTTP"]
    assert body["data"] is None


async def _victim(server: LiveServer) -> tuple[DemoPerson, dict[str, Any], str]:
    from backend.identity.service import create_api_token, create_session, session_public_id

    person = await make_person()
    token_id, token = await create_api_token(person.user_id, "victim")
    sid = await create_session(person.user_id)
    tip = gql(server, token, "{ tip { id } }")["data"]["tip"]
    ids = {"tip_id": tip["id"], "token_id": token_id, "session_id": session_public_id(sid)}
    return person, ids, token


def test_every_id_taking_field_has_an_isolation_case() -> None:
    fields = _id_fields()
    assert "Mutation.feedback" in fields  # the introspection itself works
    missing = fields - set(CASES)
    assert not missing, f"add isolation cases for: {sorted(missing)}"


@pytest.mark.parametrize("field", sorted(CASES))
async def test_intruder_cannot_touch_victims_data(live_server: LiveServer, field: str) -> None:
    from backend.identity.service import create_api_token
    from backend.recommender.tables import Feedback

    victim, ids, victim_token = await _victim(live_server)
    intruder = await make_person()
    _, intruder_token = await create_api_token(intruder.user_id, "intruder")

    await CASES[field](live_server, intruder_token, ids)

    # The victim's data is untouched: token still works, tip still open, session still listed.
    me = gql(live_server, victim_token, "{ me { id } tip { id } sessions { id } }")["data"]
    assert me["me"]["id"] == victim.user_id
    assert me["tip"]["id"] == ids["tip_id"]
    assert ids["session_id"] in {s["id"] for s in me["sessions"]}
    assert await Feedback.count().where(Feedback.user == victim.user_id) == 0


async def test_lists_only_show_the_callers_own_rows(live_server: LiveServer) -> None:
    from backend.identity.service import create_api_token

    victim, ids, _ = await _victim(live_server)
    intruder = await make_person()
    _, intruder_token = await create_api_token(intruder.user_id, "intruder")
    data = gql(
        live_server, intruder_token, "{ me { id } apiTokens { id } sessions { id } tip { id } }"
    )
    data = data["data"]
    assert data["me"]["id"] == intruder.user_id
    assert ids["token_id"] not in {t["id"] for t in data["apiTokens"]}
    assert ids["session_id"] not in {s["id"] for s in data["sessions"]}
    assert data["tip"]["id"] != ids["tip_id"]
    assert victim.user_id != intruder.user_id
