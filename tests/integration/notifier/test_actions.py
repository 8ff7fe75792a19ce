"""Done / Snooze from a notification: POST /push/action with the action token it carried; a tap
on the notification: POST /push/opened with its "open" token."""

from __future__ import annotations

import time

import httpx

from backend.identity.service import principal_for_user
from backend.notifier import action_tokens
from backend.recommender.reward import Action
from backend.recommender.service import current_tip, react
from backend.recommender.tables import Feedback, ServedTip
from tests.integration.notifier.conftest import SEND_TEST, gql, signed_in, subscribe
from tests.support.fixtures import LiveServer, make_person
from tests.support.push_standin import PushStandIn


def _act(server: LiveServer, token: str, dwell_ms: int | None = 30_000) -> httpx.Response:
    # A service worker has no session and no CSRF cookie: the token is the only credential.
    return httpx.post(
        f"{server.url}/push/action", json={"token": token, "dwellMs": dwell_ms}, timeout=10
    )


async def _feedback(tip_id: str) -> list[dict[str, object]]:
    return await Feedback.select(Feedback.action, Feedback.dwell_ms, Feedback.reward).where(
        Feedback.tip == tip_id
    )


async def _served_tip() -> tuple[str, str]:
    person = await make_person()
    principal = await principal_for_user(person.user_id, "session")
    assert principal is not None
    tip = await current_tip(principal)
    assert tip is not None
    return person.user_id, tip.id


def _token(user_id: str, tip_id: str, action: str, expires_in: int = 3600) -> str:
    nonce = action_tokens.new_nonce()
    return action_tokens.mint(user_id, tip_id, action, int(time.time()) + expires_in, nonce)


async def test_done_from_the_delivered_notification_is_recorded_once(
    live_server: LiveServer, push_service: PushStandIn
) -> None:
    _, client = await signed_in(live_server)
    assert subscribe(client, push_service.new_browser())["errors"] == []
    tip_id = gql(client, SEND_TEST)["data"]["sendTestPush"]["tipId"]
    message = push_service.wait_for(1)[0].message
    assert message is not None

    answer = _act(live_server, message["actions"]["done"], dwell_ms=40_000)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "tipId": tip_id, "action": "done", "reward": 1.0}
    assert await _feedback(tip_id) == [{"action": "done", "dwell_ms": 40_000, "reward": 1.0}]

    replay = _act(live_server, message["actions"]["done"])
    assert (replay.status_code, replay.json()["error"]["code"]) == (409, "TOKEN_USED")
    # The other button of the same notification is spent too.
    other = _act(live_server, message["actions"]["snooze"])
    assert (other.status_code, other.json()["error"]["code"]) == (409, "TOKEN_USED")
    assert len(await _feedback(tip_id)) == 1


async def test_snooze_records_a_snooze(live_server: LiveServer) -> None:
    user_id, tip_id = await _served_tip()
    answer = _act(live_server, _token(user_id, tip_id, "snooze"), dwell_ms=5_000)
    assert answer.status_code == 200, answer.text
    assert answer.json()["reward"] == 0.1
    row = await ServedTip.select(ServedTip.reaction).where(ServedTip.id == tip_id).first()
    assert row == {"reaction": "snooze"}


async def test_expired_forged_and_malformed_tokens_are_refused(live_server: LiveServer) -> None:
    user_id, tip_id = await _served_tip()
    expired = _act(live_server, _token(user_id, tip_id, "done", expires_in=-5))
    assert (expired.status_code, expired.json()["error"]["code"]) == (410, "TOKEN_EXPIRED")

    genuine = _token(user_id, tip_id, "done")
    body, _, sig = genuine.partition(".")
    forged_body = action_tokens._b64(
        action_tokens._unb64(body).replace(b'"a":"done"', b'"a":"snooze"')
    )
    forged = _act(live_server, f"{forged_body}.{sig}")
    assert (forged.status_code, forged.json()["error"]["code"]) == (400, "INVALID_TOKEN")
    assert _act(live_server, "nonsense").json()["error"]["code"] == "INVALID_TOKEN"

    bad_dwell = _act(live_server, genuine, dwell_ms=-1)
    assert bad_dwell.json()["error"]["code"] == "INVALID_DWELL"
    no_json = httpx.post(f"{live_server.url}/push/action", content=b"{", timeout=60)
    assert (no_json.status_code, no_json.json()["error"]["code"]) == (400, "INVALID_REQUEST")
    assert await _feedback(tip_id) == []
    # None of that spent the genuine token.
    assert _act(live_server, genuine).status_code == 200


async def test_a_tip_answered_on_the_page_is_not_rewarded_again(live_server: LiveServer) -> None:
    user_id, tip_id = await _served_tip()
    principal = await principal_for_user(user_id, "session")
    assert principal is not None
    await react(principal, tip_id, Action.DONE, 30_000)
    answer = _act(live_server, _token(user_id, tip_id, "snooze"))
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "ALREADY_ANSWERED")
    assert len(await _feedback(tip_id)) == 1


async def test_open_and_answer_tokens_are_not_interchangeable(live_server: LiveServer) -> None:
    user_id, tip_id = await _served_tip()
    nonce = action_tokens.new_nonce()
    expires = int(time.time()) + 3600
    opened = action_tokens.mint(user_id, tip_id, action_tokens.OPEN, expires, nonce)
    done = action_tokens.mint(user_id, tip_id, "done", expires, nonce)

    as_answer = _act(live_server, opened)
    assert (as_answer.status_code, as_answer.json()["error"]["code"]) == (400, "INVALID_TOKEN")
    as_open = httpx.post(f"{live_server.url}/push/opened", json={"token": done}, timeout=60)
    assert (as_open.status_code, as_open.json()["error"]["code"]) == (400, "INVALID_TOKEN")
    malformed = httpx.post(f"{live_server.url}/push/opened", content=b"[1]", timeout=60)
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (400, "INVALID_REQUEST")

    # Opening the notification (no push decision here: nothing to learn) spends only the open
    # token; its Done still answers the tip.
    first = httpx.post(f"{live_server.url}/push/opened", json={"token": opened}, timeout=60)
    assert first.status_code == 200, first.text
    assert _act(live_server, done).status_code == 200
    assert len(await _feedback(tip_id)) == 1
