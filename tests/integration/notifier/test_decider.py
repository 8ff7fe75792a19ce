"""The push decider end to end: a trigger queues a decision, a push decision queues delivery to
the push service stand-in, the hard rules hold (quiet hours, daily cap, never twice, active),
every decision is logged with its propensity, outcomes teach the learner, and only admins read
the decisions."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from backend.events.bus import publish
from backend.events.contracts import TipCandidatesGenerated
from backend.identity.service import principal_for_user
from backend.notifier import (
    action_tokens,
    decider,
    outcomes,
    push_ope,
    push_settings,
    subscriptions,
)
from backend.notifier.jobs import push_check, push_decide, push_deliver
from backend.notifier.tables import PushDecision, PushLearnerState
from backend.profile import service as profile
from backend.recommender import push_policy
from backend.recommender.reward import Action
from backend.recommender.service import react
from backend.redis import get_redis, key
from tests.integration.notifier.conftest import eventually, gql, signed_in
from tests.support.fixtures import LiveServer, make_person
from tests.support.push_standin import PushStandIn
from tests.support.queued_jobs import claim, enqueued

DECISIONS = """
query($id: ID!) {
  pushDecisions(userId: $id, first: 10) { push reason propensity tipId valueNow threshold trigger }
}
"""


async def _subscribed(push_service: PushStandIn) -> tuple[str, str]:
    person = await make_person(tasks=True)
    browser = push_service.new_browser()
    keys = browser.to_json()["keys"]
    view = await subscriptions.subscribe(
        person.user_id, browser.endpoint, None, keys["p256dh"], keys["auth"], "phone"
    )
    return person.user_id, view.id


async def _local_hour(user_id: str) -> int:
    from zoneinfo import ZoneInfo

    elig = await profile.eligibility(user_id)
    assert elig is not None
    return datetime.now(UTC).astimezone(ZoneInfo(elig.timezone)).hour


async def _settings(user_id: str, *, quiet_now: bool, daily_max: int = 3) -> None:
    hour = await _local_hour(user_id)
    start = hour if quiet_now else (hour + 3) % 24  # quiet from now, or from 3 hours away
    await push_settings.set_settings(
        user_id,
        quiet_start=start,
        quiet_end=(start + 2) % 24,
        daily_max=daily_max,
        min_spacing_min=0,
    )


async def _eager(user_id: str) -> None:
    """A learner sure that a push now will be answered (so the rules are what is tested)."""
    sure = push_policy.PushState(
        mean=[4.0] + [0.0] * (len(push_policy.FEATURES) - 1),
        precision=[1e4] * len(push_policy.FEATURES),
        threshold=0.2,
    )
    await PushLearnerState(user=user_id, state=sure.as_json()).save()


async def _queued(prefix: str) -> list[Any]:
    """The jobs enqueued under `prefix`, whether or not the session's worker has run them."""
    return list((await enqueued(prefix)).values())


async def _own_decisions(user_id: str) -> list[Any]:
    """The person's decisions but those of the periodic check, which the session's worker runs
    every quarter hour for every subscribed person, this test's included."""
    return [d for d in await decider.decisions_of(user_id) if d.trigger != "periodic"]


async def test_a_new_candidate_queues_a_decision_and_a_push_reaches_the_stand_in(
    push_service: PushStandIn,
) -> None:
    user_id, subscription_id = await _subscribed(push_service)
    await _settings(user_id, quiet_now=False)
    await _eager(user_id)

    event = TipCandidatesGenerated("gen-1", "template", "v1", "template", 1, 3, 5.0)
    await publish(user_id, event)
    decide_id = f"push-decide:{user_id}:candidate:gen-1"
    queued = await eventually(lambda: enqueued(decide_id))
    assert [j.args for j in queued.values()] == [(user_id, "candidate")]

    if await claim(decide_id):  # else the session's worker runs it
        assert await push_decide({}, user_id, "candidate") == "push"
    [decision] = await eventually(lambda: _own_decisions(user_id))
    assert decision.push
    assert decision.reason == "value"
    assert decision.tip_id
    assert 0 < decision.propensity <= 1
    assert decision.value_now is not None
    assert decision.threshold == 0.2
    [(job_id, job)] = (await eventually(lambda: enqueued(f"push:{decision.id}:"))).items()
    assert job.args[0] == subscription_id
    if await claim(job_id):
        assert await push_deliver({"job_try": 1}, *job.args) == "delivered"
    message = push_service.wait_for(1)[0].message
    assert message is not None
    assert message["tip"]["id"] == decision.tip_id


async def test_quiet_hours_hold_without_picking_a_tip(push_service: PushStandIn) -> None:
    user_id, _ = await _subscribed(push_service)
    await _settings(user_id, quiet_now=True)
    await _eager(user_id)
    decision = await decider.decide(user_id, "periodic")
    assert decision is not None
    assert (decision.push, decision.reason, decision.tip_id) == (False, "quiet_hours", "")
    assert decision.propensity == 1.0
    assert await _queued(f"push:{decision.id}:") == []


async def test_daily_cap_never_twice_and_activity_hold(push_service: PushStandIn) -> None:
    user_id, _ = await _subscribed(push_service)
    await _settings(user_id, quiet_now=False, daily_max=1)
    await _eager(user_id)
    first = await decider.decide(user_id, "manual")
    assert first is not None
    assert first.push
    capped = await decider.decide(user_id, "manual")
    assert capped is not None
    assert (capped.push, capped.reason) == (False, "daily_cap")

    await _settings(user_id, quiet_now=False, daily_max=5)
    again = await decider.decide(user_id, "manual")
    assert again is not None
    assert (again.push, again.reason, again.tip_id) == (False, "already_pushed", first.tip_id)

    await outcomes.on_page_activity(user_id)
    active = await decider.decide(user_id, "manual")
    assert active is not None
    assert (active.push, active.reason) == (False, "active")
    logged = await PushDecision.count().where(
        (PushDecision.user == user_id) & (PushDecision.trigger != "periodic")
    )
    assert logged == 4


async def test_outcomes_move_the_learner(push_service: PushStandIn) -> None:
    user_id, _ = await _subscribed(push_service)
    await _settings(user_id, quiet_now=False)
    await _eager(user_id)
    pushed = await decider.decide(user_id, "manual")
    assert pushed is not None
    assert pushed.push
    before = (await decider.learner_state(user_id)).threshold

    principal = await principal_for_user(user_id, "session")
    assert principal is not None
    await react(principal, pushed.tip_id, Action("done"), 30_000)  # its event reaches the notifier
    [row] = await _own_decisions(user_id)
    assert row.outcome == "reacted"
    after_reaction = await decider.learner_state(user_id)
    assert after_reaction.threshold < before
    assert after_reaction.outcomes == {"reacted": 1}

    held = await decider.decide(user_id, "manual")
    assert held is not None
    assert held.reason == "active"  # answering makes the person active for a few minutes
    await get_redis().delete(key("push-active", user_id))  # … a few minutes later
    second = await decider.decide(user_id, "manual")  # a new tip after the reaction
    assert second is not None
    assert second.push
    assert await outcomes.sweep_ignored(datetime.now(UTC) + timedelta(days=2)) >= 1
    ignored = await decider.learner_state(user_id)
    assert ignored.threshold > after_reaction.threshold
    assert ignored.outcomes == {"reacted": 1, "ignored": 1}


async def test_a_better_hour_later_today_holds_the_push_and_the_log_names_it(
    push_service: PushStandIn,
) -> None:
    user_id, _ = await _subscribed(push_service)
    await _settings(user_id, quiet_now=False)  # quiet 3 to 5 hours from now
    hour = await _local_hour(user_id)
    later = (hour + 8) % 24
    # Sure that pushes now go unanswered and that the hour 8 hours from now is a good one.
    sure = push_policy.PushState(precision=[1e4] * len(push_policy.FEATURES), threshold=0.2)
    sure.mean[push_policy.FEATURES.index(f"hour_{4 * (hour // 4):02d}")] = -4.0
    sure.mean[push_policy.FEATURES.index(f"hour_{4 * (later // 4):02d}")] = 4.0
    await PushLearnerState(user=user_id, state=sure.as_json()).save()

    held = await decider.decide(user_id, "manual")
    assert held is not None
    assert (held.push, held.reason) == (False, "better_hour")
    assert held.tip_id
    assert held.better_hour is not None
    assert held.better_hour // 4 == later // 4  # the first hour of the good bucket
    assert held.value_wait is not None
    assert held.value_now is not None
    assert held.value_wait > held.value_now
    assert 0 < held.propensity <= 1
    assert await _queued(f"push:{held.id}:") == []
    replayed = await push_ope.logged(datetime.now(UTC) - timedelta(minutes=5))
    assert any(not d.pushed for d in replayed)  # a learner's hold: off-policy evaluation has it


async def test_pushes_left_unanswered_earn_the_person_a_rest(push_service: PushStandIn) -> None:
    user_id, _ = await _subscribed(push_service)
    await _settings(user_id, quiet_now=False)
    tired = push_policy.PushState(
        mean=[4.0] + [0.0] * (len(push_policy.FEATURES) - 1),
        precision=[1e4] * len(push_policy.FEATURES),
        threshold=0.2,
        misses=2,
    )
    await PushLearnerState(user=user_id, state=tired.as_json()).save()
    await PushDecision(
        user=user_id,
        decided_at=datetime.now(UTC) - timedelta(hours=1),
        trigger="manual",
        tip_id="an-earlier-tip",
        push=True,
        reason="value",
        outcome="ignored",
    ).save()
    held = await decider.decide(user_id, "manual")
    assert held is not None
    assert (held.push, held.reason, held.propensity) == (False, "rest", 1.0)
    assert push_policy.rest_hours(tired) > 1
    # the rest is looked for as far back as the longest rest (days, beyond the fatigue window)
    await PushDecision.update(
        {PushDecision.decided_at: datetime.now(UTC) - timedelta(hours=100)}
    ).where((PushDecision.user == user_id) & (PushDecision.tip_id == "an-earlier-tip"))
    tired_more = push_policy.PushState(**{**tired.__dict__, "misses": 3})
    await PushLearnerState.update({PushLearnerState.state: tired_more.as_json()}).where(
        PushLearnerState.user == user_id
    )
    assert push_policy.rest_hours(tired_more) > 100
    still = await decider.decide(user_id, "manual")
    assert still is not None
    assert still.reason == "rest"


async def test_unsubscribing_after_a_push_counts_as_turned_off(push_service: PushStandIn) -> None:
    user_id, _ = await _subscribed(push_service)
    await _settings(user_id, quiet_now=False)
    await _eager(user_id)
    pushed = await decider.decide(user_id, "manual")
    assert pushed is not None
    assert pushed.push
    before = (await decider.learner_state(user_id)).threshold
    assert await outcomes.record_turned_off(user_id)
    state = await decider.learner_state(user_id)
    assert state.threshold >= before + push_policy.THRESHOLD_STEP["turned_off"] - 1e-9
    [row] = await _own_decisions(user_id)
    assert row.outcome == "turned_off"


async def test_no_subscription_no_decision() -> None:
    person = await make_person(tasks=True)
    assert await decider.decide(person.user_id, "periodic") is None


async def test_push_decisions_are_for_admins_only(
    live_server: LiveServer, push_service: PushStandIn
) -> None:
    from backend.identity.service import set_role

    user_id, _ = await _subscribed(push_service)
    await _settings(user_id, quiet_now=True)
    await decider.decide(user_id, "manual")
    _, person_client = await signed_in(live_server, tasks=False)
    refused = gql(person_client, DECISIONS, id=user_id)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    admin_id, admin_client = await signed_in(live_server, tasks=False)
    await set_role(admin_id, "admin")
    rows = gql(admin_client, DECISIONS, id=user_id)["data"]["pushDecisions"]
    rows = [r for r in rows if r["trigger"] != "periodic"]  # the session worker's quarter-hourly
    assert rows == [
        {
            "push": False,
            "reason": "quiet_hours",
            "propensity": 1.0,
            "tipId": "",
            "valueNow": None,
            "threshold": None,
            "trigger": "manual",
        }
    ]


async def test_the_periodic_check_queues_a_decision_per_subscribed_person(
    push_service: PushStandIn,
) -> None:
    user_id, _ = await _subscribed(push_service)
    assert await push_check({}) >= 1
    queued = await _queued(f"push-decide:{user_id}:periodic:")
    assert [j.args for j in queued] == [(user_id, "periodic")]


async def test_logged_learner_decisions_feed_off_policy_evaluation(
    push_service: PushStandIn,
) -> None:
    user_id, _ = await _subscribed(push_service)
    await _settings(user_id, quiet_now=False)
    await _eager(user_id)
    since = datetime.now(UTC) - timedelta(seconds=1)
    pushed = await decider.decide(user_id, "manual")
    assert pushed is not None
    assert pushed.push
    assert await outcomes.record_reaction(user_id, pushed.tip_id, "done") == "reacted"
    mine = [d for d in await push_ope.logged(since) if d.pushed and d.outcome == "reacted"]
    assert mine
    assert all(0 < d.propensity <= 1 for d in mine)
    assert push_ope.evaluate(mine, lambda ctx: 1.0)["snips"] == 1.0


async def test_tapping_the_notification_counts_as_opened_and_a_prefetch_does_not(
    live_server: LiveServer, push_service: PushStandIn
) -> None:
    user_id, client = await signed_in(live_server)
    browser = push_service.new_browser()
    keys = browser.to_json()["keys"]
    await subscriptions.subscribe(
        user_id, browser.endpoint, None, keys["p256dh"], keys["auth"], "laptop"
    )
    await _settings(user_id, quiet_now=False)
    await _eager(user_id)
    pushed = await decider.decide(user_id, "manual")
    assert pushed is not None
    assert pushed.push
    # A link prefetch (or an old notification's URL) is a GET: it only redirects.
    response = client.get(f"/push/open?tip={pushed.tip_id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/tip?tip={pushed.tip_id}"
    [row] = await _own_decisions(user_id)
    assert row.outcome is None

    # The service worker posts the notification's "open" token on a tap (no session needed).
    token = action_tokens.mint(
        user_id, pushed.tip_id, action_tokens.OPEN, int(time.time()) + 3600, "tap-nonce"
    )
    tapped = httpx.post(f"{live_server.url}/push/opened", json={"token": token}, timeout=60)
    assert tapped.status_code == 200, tapped.text
    assert tapped.json() == {"ok": True, "tipId": pushed.tip_id}
    [row] = await _own_decisions(user_id)
    assert row.outcome == "opened"
    assert (await decider.learner_state(user_id)).outcomes == {"opened": 1}
    replay = httpx.post(f"{live_server.url}/push/opened", json={"token": token}, timeout=60)
    assert (replay.status_code, replay.json()["error"]["code"]) == (409, "TOKEN_USED")
    assert (await decider.learner_state(user_id)).outcomes == {"opened": 1}


async def test_an_open_tip_page_holds_a_push(
    push_service: PushStandIn, live_server: LiveServer, token_for: Any
) -> None:
    from tests.integration.test_events_subscription import socket

    user_id, _ = await _subscribed(push_service)
    await _settings(user_id, quiet_now=False)
    await _eager(user_id)
    person = await principal_for_user(user_id, "token")
    assert person is not None
    from backend.identity.service import create_api_token

    token = (await create_api_token(user_id, "page"))[1]
    async with socket(live_server, token) as ws:
        op = await ws.subscribe("subscription { myTip { id } }")
        first = await ws.receive()  # the tip on screen: the page is open
        assert (first["id"], first["type"]) == (op, "next")
        # Only the open page counts now, not the serve it caused.
        await get_redis().delete(key("push-active", user_id))
        held = await decider.decide(user_id, "manual")
        assert held is not None
        assert (held.push, held.reason) == (False, "active")
