"""Delivery to the push service stand-in: what a browser would show, and every answer's outcome.

sendTestPush goes through the live server and its worker (a real arq job); the outcome tests
call the job function as the worker does, with its try number, so retries are checked without
waiting for them (and one 429 goes through the worker to check Retry-After is honoured).
"""

from __future__ import annotations

import time
import uuid

import pytest
from arq import Retry

from backend.notifier import subscriptions
from backend.notifier.jobs import push_deliver
from backend.notifier.message import TOPIC, PushTip, push_tip
from backend.notifier.tables import PushAttempt, PushSubscription
from backend.notifier.vapid import current_key
from backend.settings import get_settings
from tests.integration.notifier.conftest import (
    SEND_TEST,
    TIP,
    eventually,
    gql,
    signed_in,
    subscribe,
)
from tests.support.fixtures import LiveServer, make_person
from tests.support.push_standin import BrowserSubscription, PushStandIn


async def _subscribed(push_service: PushStandIn) -> tuple[str, BrowserSubscription, str]:
    person = await make_person(tasks=False)
    browser = push_service.new_browser()
    keys = browser.to_json()["keys"]
    view = await subscriptions.subscribe(
        person.user_id, browser.endpoint, None, keys["p256dh"], keys["auth"], "test"
    )
    return person.user_id, browser, view.id


def _tip(content: str = "Water the plants", due_now: bool = False) -> PushTip:
    return PushTip(
        id=str(uuid.uuid4()),
        content=content,
        kind="task",
        expires_at=int(time.time()) + 3600,
        due_now=due_now,
        enqueued_at=time.time(),
    )


async def _outcomes(subscription_id: str) -> list[tuple[int, str]]:
    rows = (
        await PushAttempt.select(PushAttempt.status, PushAttempt.outcome)
        .where(PushAttempt.subscription_id == subscription_id)
        .order_by(PushAttempt.created_at)
    )
    return [(r["status"], r["outcome"]) for r in rows]


async def test_send_test_push_is_delivered_and_decrypts_to_the_tip(
    live_server: LiveServer, push_service: PushStandIn
) -> None:
    _, client = await signed_in(live_server)
    push_service.expect_vapid_key = gql(client, "{ pushPublicKey }")["data"]["pushPublicKey"]
    browser = push_service.new_browser()
    assert subscribe(client, browser)["errors"] == []
    tip = gql(client, TIP)["data"]["tip"]

    sent = gql(client, SEND_TEST)["data"]["sendTestPush"]
    assert sent == {"queued": 1, "tipId": tip["id"], "errors": []}

    push = push_service.wait_for(1)[0]
    message = push.message
    assert message is not None
    assert message["tip"] == {"id": tip["id"], "content": tip["content"], "kind": "task"}
    assert set(message["actions"]) == {"done", "snooze"}
    assert message["url"] == f"/tip?tip={tip['id']}"
    assert isinstance(message["open"], str)  # the service worker posts it on a tap
    assert 0 < int(push.headers["ttl"]) <= get_settings().tip_valid_s
    assert push.headers["urgency"] in {"high", "normal"}
    assert push.headers["topic"] == TOPIC
    assert push.body_size <= 4096
    assert push.jwt_claims is not None
    assert push.jwt_claims["sub"] == get_settings().push_subject
    assert push.jwt_claims["aud"] == push_service.url
    assert push.jwt_claims["exp"] <= time.time() + 24 * 3600

    async def succeeded() -> bool:
        listed = gql(client, "{ pushSubscriptions { lastSuccessAt } }")["data"]
        return listed["pushSubscriptions"][0]["lastSuccessAt"] is not None

    await eventually(succeeded)


async def test_urgency_and_ttl_follow_the_tip() -> None:
    from datetime import UTC, datetime, timedelta

    served = datetime.now(UTC) - timedelta(hours=1)
    today = datetime.now(UTC).date()
    overdue = push_tip("t", "x", "task", served, (today - timedelta(days=2)).isoformat(), today)
    later = push_tip("t", "x", "task", served, (today + timedelta(days=3)).isoformat(), today)
    assert overdue.due_now
    assert not later.due_now
    assert overdue.expires_at == int(
        (served + timedelta(seconds=get_settings().tip_valid_s)).timestamp()
    )


async def test_410_removes_the_subscription_at_once(push_service: PushStandIn) -> None:
    _, browser, sub_id = await _subscribed(push_service)
    push_service.answer_next(410)
    assert await push_deliver({"job_try": 1}, sub_id, _tip().as_job()) == "gone"
    assert await PushSubscription.count().where(PushSubscription.id == sub_id) == 0
    assert await _outcomes(sub_id) == [(410, "gone")]
    # A job queued before the removal finds nothing to send to.
    assert await push_deliver({"job_try": 1}, sub_id, _tip().as_job()) == "unsubscribed"
    assert len(push_service.received(None)) == 1


async def test_429_is_retried_after_retry_after_and_bounded(push_service: PushStandIn) -> None:
    _, _, sub_id = await _subscribed(push_service)
    tries = get_settings().push_max_tries
    push_service.answer_next(429, n=tries, retry_after=7)
    for attempt in range(1, tries):
        with pytest.raises(Retry) as retry:
            await push_deliver({"job_try": attempt}, sub_id, _tip().as_job())
        assert retry.value.defer_score == 7_000  # Retry-After, in ms
    assert await push_deliver({"job_try": tries}, sub_id, _tip().as_job()) == "failed"
    assert await _outcomes(sub_id) == [(429, "retry")] * (tries - 1) + [(429, "failed")]
    row = await PushSubscription.select().where(PushSubscription.id == sub_id).first()
    assert row is not None
    assert row["last_failure_at"] is not None


async def test_5xx_backs_off_and_a_huge_retry_after_is_capped(push_service: PushStandIn) -> None:
    _, _, sub_id = await _subscribed(push_service)
    push_service.answer_next(500)
    with pytest.raises(Retry) as retry:
        await push_deliver({"job_try": 2}, sub_id, _tip().as_job())
    assert retry.value.defer_score == 4_000  # 2 ** try seconds
    push_service.answer_next(429, retry_after=86_400)
    with pytest.raises(Retry) as retry:
        await push_deliver({"job_try": 1}, sub_id, _tip().as_job())
    assert retry.value.defer_score == get_settings().push_retry_max_s * 1000


async def test_413_is_shortened_and_sent_again_once(push_service: PushStandIn) -> None:
    _, _, sub_id = await _subscribed(push_service)
    long_tip = _tip(content="Plan the offsite: " + "agenda item, " * 150)
    push_service.max_body = 1200  # the full content does not fit, the shortened one does
    assert await push_deliver({"job_try": 1}, sub_id, long_tip.as_job()) == "delivered"
    assert await _outcomes(sub_id) == [(413, "too_large"), (201, "delivered")]
    delivered = push_service.received(201)[0].message
    assert delivered is not None
    assert long_tip.content.startswith(delivered["tip"]["content"])
    assert len(delivered["tip"]["content"]) < len(long_tip.content)

    push_service.max_body = 100  # not even the short one fits: one retry only, then failed
    assert await push_deliver({"job_try": 1}, sub_id, long_tip.as_job()) == "failed"
    assert (await _outcomes(sub_id))[2:] == [(413, "too_large"), (413, "failed")]


async def test_payload_of_a_long_tip_stays_under_4kb(push_service: PushStandIn) -> None:
    _, _, sub_id = await _subscribed(push_service)
    assert (
        await push_deliver({"job_try": 1}, sub_id, _tip(content="é" * 5000).as_job()) == "delivered"
    )
    push = push_service.received(201)[0]
    assert push.body_size <= 4096
    assert push.message is not None
    assert push.message["tip"]["content"].endswith("…")


async def test_an_expired_tip_is_not_sent(push_service: PushStandIn) -> None:
    _, _, sub_id = await _subscribed(push_service)
    stale = PushTip("t", "x", "task", int(time.time()) - 1, False)
    assert await push_deliver({"job_try": 1}, sub_id, stale.as_job()) == "expired"
    assert push_service.received(None) == []


async def test_429_through_the_worker_waits_for_retry_after(
    live_server: LiveServer, push_service: PushStandIn
) -> None:
    _, client = await signed_in(live_server)
    assert subscribe(client, push_service.new_browser())["errors"] == []
    push_service.answer_next(429, retry_after=2)
    assert gql(client, SEND_TEST)["data"]["sendTestPush"]["queued"] == 1
    first = push_service.wait_for(1, status=429)[0]
    delivered = push_service.wait_for(1, status=201, timeout=30)[0]
    assert delivered.at - first.at >= 2.0


async def test_rotation_keeps_old_subscriptions_working(push_service: PushStandIn) -> None:
    from backend.notifier.vapid import rotate_vapid

    user_id, browser, sub_id = await _subscribed(push_service)
    old = await current_key()
    push_service.expect_vapid_key = old.public_key
    rotated = await rotate_vapid()
    assert rotated.public_key != old.public_key
    assert (await current_key()).public_key == rotated.public_key
    # Signed with the key it subscribed with, or the push service would refuse it.
    assert await push_deliver({"job_try": 1}, sub_id, _tip().as_job()) == "delivered"
    # The same endpoint sent again (a page refreshing its row) keeps the key it was made with.
    keys = browser.to_json()["keys"]
    await subscriptions.subscribe(user_id, browser.endpoint, None, keys["p256dh"], keys["auth"])
    assert await push_deliver({"job_try": 1}, sub_id, _tip().as_job()) == "delivered"
    assert [p.status for p in push_service.received(None)] == [201, 201]


async def test_a_push_signed_with_another_key_is_refused_and_not_retried(
    push_service: PushStandIn,
) -> None:
    _, _, sub_id = await _subscribed(push_service)
    push_service.expect_vapid_key = "BAnother-key-than-the-one-this-subscription-was-made-with"
    assert await push_deliver({"job_try": 1}, sub_id, _tip().as_job()) == "failed"
    refused = push_service.received(None)
    assert [p.status for p in refused] == [403]
    assert "applicationServerKey" in refused[0].problem
    assert await _outcomes(sub_id) == [(403, "failed")]
    assert await PushSubscription.count().where(PushSubscription.id == sub_id) == 1
