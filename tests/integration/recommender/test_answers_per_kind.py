"""Each kind of tip is answered with its own answers over GraphQL (SQLite and PostgreSQL: the
same tests under OO_TEST_DB=sqlite and OO_TEST_DB=postgres)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from backend.recommender.tables import Feedback, ServedTip, Snooze
from tests.support.fixtures import DemoPerson, LiveServer, make_person
from tests.support.served import serve_kind

TokenFor = Callable[[DemoPerson], Awaitable[str]]

TIP = "query { tip { id kind answers { action label key ariaLabel } } }"
FEEDBACK = """
mutation($tipId: ID!, $action: FeedbackAction!) {
  feedback(tipId: $tipId, action: $action, dwellMs: 30000) {
    reward tip { id } errors { code field message } } }
"""


def gql(server: LiveServer, token: str, query: str, **variables: Any) -> dict[str, Any]:
    with server.client() as client:
        response = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


OFFERED = {
    "task": ["DONE", "SNOOZE", "DISMISS"],
    "advice": ["HELPFUL", "NOT_NOW", "NOT_FOR_ME"],
    "insight": ["TRUE", "NOT_REALLY", "DISMISS"],
    "reminder": ["DONE", "LATER", "DISMISS"],
}


@pytest.mark.parametrize("kind", list(OFFERED))
async def test_tip_lists_the_answers_of_its_kind(
    live_server: LiveServer, token_for: TokenFor, kind: str
) -> None:
    person = await make_person(tasks=False)
    tip_id = await serve_kind(person.user_id, kind)
    tip = gql(live_server, await token_for(person), TIP)["data"]["tip"]
    assert tip["id"] == tip_id
    assert tip["kind"] == kind.upper()
    assert [a["action"] for a in tip["answers"]] == OFFERED[kind]
    keys = [a["key"] for a in tip["answers"]]
    assert len(set(keys)) == len(keys), "one key per answer"
    assert all(a["label"] and a["ariaLabel"] for a in tip["answers"])


# (kind, answer, reward at 30 s of dwell, stored effect)
ANSWERED = [
    ("task", "DONE", 1.0, "done"),
    ("task", "SNOOZE", 0.1, "snooze"),
    ("task", "DISMISS", -1.0, "dismiss"),
    ("advice", "HELPFUL", 0.8, "done"),
    ("advice", "NOT_NOW", 0.1, "snooze"),
    ("advice", "NOT_FOR_ME", -1.0, "dismiss"),
    ("insight", "TRUE", 0.6, "done"),
    ("insight", "NOT_REALLY", -0.5, "dismiss"),
    ("insight", "DISMISS", -1.0, "dismiss"),
    ("reminder", "DONE", 1.0, "done"),
    ("reminder", "LATER", 0.1, "snooze"),
    ("reminder", "DISMISS", -1.0, "dismiss"),
    # The seed's answers still work on every kind (older clients), with their seed rewards.
    ("advice", "DONE", 1.0, "done"),
    ("insight", "SNOOZE", 0.1, "snooze"),
]


@pytest.mark.parametrize(("kind", "answer", "reward", "effect"), ANSWERED)
async def test_each_answer_is_stored_with_its_reward(
    live_server: LiveServer, token_for: TokenFor, kind: str, answer: str, reward: float, effect: str
) -> None:
    person = await make_person(tasks=False)
    tip_id = await serve_kind(person.user_id, kind)
    token = await token_for(person)
    result = gql(live_server, token, FEEDBACK, tipId=tip_id, action=answer)["data"]["feedback"]
    assert result["errors"] == []
    assert result["reward"] == pytest.approx(reward)
    stored = await Feedback.select().where(Feedback.tip == tip_id).first()
    assert stored is not None
    assert (stored["action"], stored["answer"]) == (effect, answer.lower())
    served = await ServedTip.select(ServedTip.reaction).where(ServedTip.id == tip_id).first()
    assert served is not None
    assert served["reaction"] == effect
    hidden = await Snooze.select(Snooze.reason).where(Snooze.user == person.user_id)
    assert [h["reason"] for h in hidden] == ([] if effect == "done" else [effect])


@pytest.mark.parametrize(
    ("kind", "answer"),
    [("task", "HELPFUL"), ("advice", "TRUE"), ("insight", "LATER"), ("reminder", "NOT_FOR_ME")],
)
async def test_an_answer_of_another_kind_is_refused_and_nothing_stored(
    live_server: LiveServer, token_for: TokenFor, kind: str, answer: str
) -> None:
    person = await make_person(tasks=False)
    tip_id = await serve_kind(person.user_id, kind)
    token = await token_for(person)
    result = gql(live_server, token, FEEDBACK, tipId=tip_id, action=answer)["data"]["feedback"]
    assert result["reward"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [
        ("ANSWER_NOT_FOR_KIND", "action")
    ]
    assert await Feedback.count().where(Feedback.tip == tip_id) == 0
    served = await ServedTip.select(ServedTip.reacted_at).where(ServedTip.id == tip_id).first()
    assert served is not None
    assert served["reacted_at"] is None
    assert await Snooze.count().where(Snooze.user == person.user_id) == 0
    # Still open: its own answer goes through afterwards.
    own = OFFERED[kind][0]
    again = gql(live_server, token, FEEDBACK, tipId=tip_id, action=own)["data"]["feedback"]
    assert again["errors"] == []
