"""arq jobs of the notifier: delivering one push to one subscription; deciding for one person;
the periodic check (every 15 minutes: a decision per subscribed person, expired pushes
marked ignored)."""

from __future__ import annotations

import time
from typing import Any

from arq import Retry, cron

from backend.notifier import decider, outcomes, subscriptions
from backend.notifier.delivery import (
    DELIVERED,
    GONE,
    log_attempt,
    post,
    retry_delay,
    should_retry,
)
from backend.notifier.message import PushTip
from backend.notifier.vapid import key_by_id
from backend.queue import enqueue
from backend.settings import get_settings


async def push_deliver(ctx: dict[str, Any], subscription_id: str, tip_job: dict[str, Any]) -> str:
    """Send one tip to one subscription; returns the outcome.

    201 → delivered · 404/410 → the subscription is removed at once · 413 → sent again once
    with the content cut short · 429 / 5xx / no answer → retried after Retry-After or a
    backoff, at most OO_PUSH_MAX_TRIES times. Every request is logged in push_attempt.
    """
    tries = int(ctx.get("job_try", 1))
    tip = PushTip.from_job(tip_job)
    if time.time() >= tip.expires_at:
        return "expired"  # no longer worth an interruption (and its tokens would be refused)
    target = await subscriptions.target(subscription_id)
    if target is None:
        return "unsubscribed"
    if await key_by_id(target.vapid_key) is None:
        # Its VAPID key was dropped by a rotation: no push service would accept it again.
        await subscriptions.remove(target.id)
        return "key dropped"
    http = ctx.get("http")  # the worker's connection pool (a session of its own without it)
    answer = await post(target, tip, http=http)
    if answer.status == 413:
        await log_attempt(target, tip.id, tries, answer, "too_large")
        answer = await post(target, tip, shortened=True, http=http)
    if answer.status in DELIVERED:
        await log_attempt(target, tip.id, tries, answer, "delivered")
        await subscriptions.record_outcome(target.id, ok=True)
        return "delivered"
    if answer.status in GONE:
        await log_attempt(target, tip.id, tries, answer, "gone")
        await subscriptions.remove(target.id)
        return "gone"
    failure = answer.detail or f"push service answered {answer.status}"
    if should_retry(answer.status) and tries < get_settings().push_max_tries:
        delay = retry_delay(answer, tries)
        await log_attempt(target, tip.id, tries, answer, "retry")
        await subscriptions.record_outcome(target.id, ok=False, failure=failure)
        raise Retry(defer=delay)
    await log_attempt(target, tip.id, tries, answer, "failed")
    await subscriptions.record_outcome(target.id, ok=False, failure=failure)
    return "failed"


DECIDE_JOB = "push_decide"
CHECK_MINUTES = set(range(0, 60, 15))


async def push_decide(ctx: dict[str, Any], user_id: str, trigger: str) -> str:
    """One decision for one person; returns push, the hold's reason, or "none"."""
    done = await decider.decide(user_id, trigger)
    if done is None:
        return "none"
    return "push" if done.push else done.reason


async def request_decision(user_id: str, trigger: str, slot: str = "") -> None:
    """Queue a decision; the same (person, trigger, slot) is queued once."""
    await enqueue(DECIDE_JOB, user_id, trigger, job_id=f"push-decide:{user_id}:{trigger}:{slot}")


async def push_check(ctx: dict[str, Any]) -> int:
    """The periodic check: sweep expired pushes into "ignored", then one decision per person
    with a subscription. Returns how many decisions were queued."""
    await outcomes.sweep_ignored()
    await outcomes.purge_old_decisions()
    slot = str(int(time.time()) // (15 * 60))
    people = await subscriptions.subscribed_user_ids()
    for user_id in people:
        await request_decision(user_id, "periodic", slot)
    return len(people)


JOBS = [push_deliver, push_decide]
CRON_JOBS = [cron(push_check, minute=CHECK_MINUTES, second=0, unique=True, timeout=300)]
