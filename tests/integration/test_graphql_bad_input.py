"""Refused input over real HTTP GraphQL: typed errors, and nothing stored after a refusal."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from backend.recommender.tables import Feedback, PolicyState, ServedTip, Snooze
from tests.support.fixtures import DemoPerson, LiveServer, make_person

ME = "query { me { id email } }"
TIP = "query { tip { id content } }"
FEEDBACK = """
mutation($tipId: ID!, $action: FeedbackAction!, $dwellMs: Int) {
  feedback(tipId: $tipId, action: $action, dwellMs: $dwellMs) {
    reward
    tip { id }
    nextTip { id }
    errors { code message field }
  }
}
"""
FEEDBACK_JUMP = """
mutation($tipId: ID!) {
  feedback(tipId: $tipId, action: JUMP, dwellMs: 30000) { reward errors { code } }
}
"""


async def gql(
    client: httpx.AsyncClient,
    query: str,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    **variables: object,
) -> dict[str, Any]:
    """POST a GraphQL document; returns the JSON body (any status)."""
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=all_headers
    )
    assert response.headers["content-type"].startswith("application/json"), response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    """The `extensions.code` of each top-level error."""
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def stored_for(user_id: str) -> dict[str, int]:
    """What the recommender has stored for a user besides served tips."""
    reacted = await ServedTip.count().where(
        (ServedTip.user == user_id) & ServedTip.reacted_at.is_not_null()
    )
    return {
        "feedback": await Feedback.count().where(Feedback.user == user_id),
        "snooze": await Snooze.count().where(Snooze.user == user_id),
        "policy_state": await PolicyState.count().where(PolicyState.user == user_id),
        "reacted": reacted,
    }


NOTHING = {"feedback": 0, "snooze": 0, "policy_state": 0, "reacted": 0}


@pytest.fixture
async def client(live_server: LiveServer) -> Any:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as c:
        yield c


async def served(client: httpx.AsyncClient, token: str) -> str:
    """Serve a tip to the token's owner; returns its id."""
    body = await gql(client, TIP, token)
    assert "errors" not in body, body
    tip_id: str = body["data"]["tip"]["id"]
    return tip_id


@pytest.fixture
async def caller(token_for: Any) -> tuple[DemoPerson, str]:
    p = await make_person()
    return p, await token_for(p)


@pytest.mark.parametrize("tip_id", [str(uuid.uuid4()), "not-a-uuid", "", "1; DROP TABLE feedback"])
async def test_unknown_tip_is_not_found(
    client: httpx.AsyncClient, caller: tuple[DemoPerson, str], tip_id: str
) -> None:
    p, token = caller
    await served(client, token)
    body = await gql(client, FEEDBACK, token, tipId=tip_id, action="DONE", dwellMs=30_000)
    payload = body["data"]["feedback"]
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
    assert payload["errors"][0]["field"] == "tipId"
    assert payload["reward"] is None
    assert payload["tip"] is None
    assert await stored_for(p.user_id) == NOTHING


async def test_second_reaction_is_refused_and_rewarded_once(
    client: httpx.AsyncClient, caller: tuple[DemoPerson, str]
) -> None:
    p, token = caller
    tip_id = await served(client, token)
    first = (await gql(client, FEEDBACK, token, tipId=tip_id, action="DONE", dwellMs=30_000))[
        "data"
    ]["feedback"]
    assert first["errors"] == []
    assert first["reward"] == 1.0
    after_first = await stored_for(p.user_id)
    assert after_first["feedback"] == 1
    state_rows = await PolicyState.select(PolicyState.updates).where(PolicyState.user == p.user_id)
    assert state_rows, "the reaction updated the policy state"
    assert {r["updates"] for r in state_rows} == {1}

    for action, dwell in (("DONE", 30_000), ("DISMISS", 1_000), ("SNOOZE", None)):
        again = (await gql(client, FEEDBACK, token, tipId=tip_id, action=action, dwellMs=dwell))[
            "data"
        ]["feedback"]
        assert [e["code"] for e in again["errors"]] == ["ALREADY_REACTED"]
        assert again["reward"] is None

    assert await Feedback.count().where(Feedback.tip == tip_id) == 1
    rows = await Feedback.select(Feedback.action, Feedback.reward).where(Feedback.tip == tip_id)
    assert rows == [{"action": "done", "reward": 1.0}]
    assert await stored_for(p.user_id) == after_first
    state_rows = await PolicyState.select(PolicyState.updates).where(PolicyState.user == p.user_id)
    assert {r["updates"] for r in state_rows} == {1}, "the policies learned from one reaction only"


@pytest.mark.parametrize("dwell_ms", [-1, -60_000, 86_400_001, 2_000_000_000])
async def test_bad_dwell_is_refused(
    client: httpx.AsyncClient, caller: tuple[DemoPerson, str], dwell_ms: int
) -> None:
    p, token = caller
    tip_id = await served(client, token)
    payload = (await gql(client, FEEDBACK, token, tipId=tip_id, action="DONE", dwellMs=dwell_ms))[
        "data"
    ]["feedback"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_DWELL", "dwellMs")]
    assert payload["reward"] is None
    assert await stored_for(p.user_id) == NOTHING
    # The refusal did not consume the tip: a valid reaction still works.
    ok = (await gql(client, FEEDBACK, token, tipId=tip_id, action="DONE", dwellMs=86_400_000))[
        "data"
    ]["feedback"]
    assert ok["errors"] == []
    assert ok["reward"] == 0.3


async def test_dwell_beyond_int32_is_a_validation_error(
    client: httpx.AsyncClient, caller: tuple[DemoPerson, str]
) -> None:
    p, token = caller
    tip_id = await served(client, token)
    body = await gql(client, FEEDBACK, token, tipId=tip_id, action="DONE", dwellMs=2**31)
    assert body["data"] is None
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert await stored_for(p.user_id) == NOTHING


async def test_unknown_action_is_a_validation_error(
    client: httpx.AsyncClient, caller: tuple[DemoPerson, str]
) -> None:
    p, token = caller
    tip_id = await served(client, token)
    body = await gql(client, FEEDBACK_JUMP, token, tipId=tip_id)
    assert body.get("data") is None
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    # As a variable, the unknown enum value is refused the same way.
    body = await gql(client, FEEDBACK, token, tipId=tip_id, action="JUMP", dwellMs=30_000)
    assert body.get("data") is None
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert await stored_for(p.user_id) == NOTHING


async def test_missing_auth_is_unauthenticated(
    client: httpx.AsyncClient, caller: tuple[DemoPerson, str]
) -> None:
    p, token = caller
    tip_id = await served(client, token)
    body = await gql(client, ME)
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]
    body = await gql(client, TIP)
    assert body["data"] == {"tip": None}  # nullable field: null plus the error
    assert error_codes(body) == ["UNAUTHENTICATED"]
    body = await gql(client, FEEDBACK, tipId=tip_id, action="DONE", dwellMs=30_000)
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert await stored_for(p.user_id) == NOTHING


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer oo_pat_" + "x" * 43,  # well-formed, unknown
        "Bearer not-even-a-token",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "oo_pat_missing_scheme",
    ],
)
async def test_invalid_or_malformed_token_is_unauthenticated(
    client: httpx.AsyncClient, caller: tuple[DemoPerson, str], authorization: str
) -> None:
    p, token = caller
    tip_id = await served(client, token)
    headers = {"Authorization": authorization}
    body = await gql(client, ME, headers=headers)
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]
    body = await gql(client, FEEDBACK, headers=headers, tipId=tip_id, action="DONE", dwellMs=30_000)
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert await stored_for(p.user_id) == NOTHING


async def test_bad_token_is_not_rescued_by_a_valid_session(
    live_server: LiveServer, caller: tuple[DemoPerson, str]
) -> None:
    """A bearer token wins over the cookie: an invalid one is refused even with a good session."""
    from backend.identity.service import create_session

    p, _token = caller
    sid = await create_session(p.user_id)
    async with httpx.AsyncClient(
        base_url=live_server.url, timeout=60, cookies={"sid": sid}
    ) as client:
        assert (await gql(client, ME))["data"]["me"]["id"] == p.user_id
        body = await gql(client, ME, token="oo_pat_revoked-or-unknown")
        assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_revoked_token_is_unauthenticated(
    client: httpx.AsyncClient, caller: tuple[DemoPerson, str]
) -> None:
    from datetime import UTC, datetime

    from backend.identity.service import announce_change
    from backend.identity.tables import ApiToken

    p, token = caller
    assert (await gql(client, ME, token))["data"]["me"]["id"] == p.user_id
    await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)}).where(
        ApiToken.user == p.user_id
    )
    await announce_change(p.user_id)  # as revoke_api_token does after its commit (ADR 0043)
    assert error_codes(await gql(client, ME, token)) == ["UNAUTHENTICATED"]


async def test_cannot_react_to_another_persons_tip(
    client: httpx.AsyncClient, token_for: Any
) -> None:
    owner = await make_person()
    other = await make_person()
    owner_token, other_token = await token_for(owner), await token_for(other)
    tip_id = await served(client, owner_token)

    payload = (
        await gql(client, FEEDBACK, other_token, tipId=tip_id, action="DISMISS", dwellMs=5_000)
    )["data"]["feedback"]
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
    assert await stored_for(owner.user_id) == NOTHING
    assert await stored_for(other.user_id) == NOTHING
    # The owner still sees the same unanswered tip and can answer it.
    assert (await gql(client, TIP, owner_token))["data"]["tip"]["id"] == tip_id
    mine = (await gql(client, FEEDBACK, owner_token, tipId=tip_id, action="DONE", dwellMs=20_000))[
        "data"
    ]["feedback"]
    assert mine["errors"] == []


async def test_omitted_dwell_falls_back_to_server_time(
    client: httpx.AsyncClient, caller: tuple[DemoPerson, str]
) -> None:
    _p, token = caller
    tip_id = await served(client, token)
    served_row = await ServedTip.select(ServedTip.served_at).where(ServedTip.id == tip_id).first()
    payload = (await gql(client, FEEDBACK, token, tipId=tip_id, action="DONE"))["data"]["feedback"]
    assert payload["errors"] == []
    # Answered within a second or so of serving: the server-measured dwell is "too quick".
    assert payload["reward"] == -0.3
    row = await Feedback.select().where(Feedback.tip == tip_id).first()
    assert row is not None
    assert row["dwell_source"] == "server"
    elapsed_ms = (row["created_at"] - served_row["served_at"]).total_seconds() * 1000
    assert 0 <= row["dwell_ms"] <= elapsed_ms + 1
    assert row["dwell_ms"] < 15_000


async def test_client_dwell_is_recorded_as_client(
    client: httpx.AsyncClient, caller: tuple[DemoPerson, str]
) -> None:
    p, token = caller
    tip_id = await served(client, token)
    payload = (await gql(client, FEEDBACK, token, tipId=tip_id, action="SNOOZE", dwellMs=4_321))[
        "data"
    ]["feedback"]
    assert payload["errors"] == []
    row = await Feedback.select().where(Feedback.tip == tip_id).first()
    assert row is not None
    assert (row["dwell_source"], row["dwell_ms"], row["action"]) == ("client", 4_321, "snooze")
    assert await Snooze.count().where(Snooze.user == p.user_id) == 1
