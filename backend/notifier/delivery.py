"""Delivering a tip to a person's browsers: one arq job per subscription, pywebpush's asyncio
API, and what each push service answer means (docs/adr/0017-web-push-delivery.md).

`deliver(user_id, tip)` is the one entry point: "send tip T to person P now". The test push
calls it today; the decider will call it tomorrow.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from pywebpush import WebPushException, webpush_async

from backend.notifier import subscriptions
from backend.notifier.message import PushTip, headers, payload
from backend.notifier.tables import PushAttempt
from backend.notifier.vapid import VapidKey, key_by_id
from backend.queue import enqueue
from backend.settings import get_settings

JOB = "push_deliver"
REQUEST_TIMEOUT_S = 15.0
DELIVERED = frozenset({200, 201, 202})
GONE = frozenset({404, 410})


async def deliver(user_id: str, tip: PushTip, *, once_key: str | None = None) -> int:
    """Queue the tip for each of the person's subscriptions; returns how many were queued.

    `once_key` (e.g. the decision's id) makes a repeat of the same request a no-op while the
    job or its result is kept; without it every call sends again (a test push).
    """
    queued = 0
    for subscription_id in await subscriptions.subscription_ids_of(user_id):
        job_id = f"push:{once_key}:{subscription_id}" if once_key else None
        await enqueue(JOB, subscription_id, tip.as_job(), job_id=job_id)
        queued += 1
    return queued


async def _send(
    info: dict[str, Any],
    body: str,
    key: VapidKey,
    ttl: int,
    extra: dict[str, str],
    session: aiohttp.ClientSession,
) -> Any:
    response = await webpush_async(
        info,
        data=body,
        vapid_private_key=key.signer,
        # pywebpush writes aud/exp into this dict: a fresh one per call, never shared.
        vapid_claims={"sub": get_settings().push_subject},
        ttl=ttl,
        headers=dict(extra),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        aiohttp_session=session,
    )
    # pywebpush returns the response unread on success: release the connection to the pool.
    response.release()
    return response


@dataclass(frozen=True)
class Answer:
    """A push service's answer to one request."""

    status: int
    """HTTP status; 0 when there was none (timeout, connection refused)."""
    retry_after_s: int | None
    latency_ms: float
    detail: str = ""


def retry_after(value: str | None, now: float | None = None) -> int | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int(when.timestamp() - (time.time() if now is None else now)))


async def post(
    target: subscriptions.Target,
    tip: PushTip,
    *,
    shortened: bool = False,
    http: aiohttp.ClientSession | None = None,
) -> Answer:
    """One encrypted (aes128gcm), VAPID-signed POST to the subscription's push service, through
    the worker's connection pool `http` when given (else a session of its own)."""
    key = await key_by_id(target.vapid_key)
    if key is None:
        return Answer(0, None, 0.0, "the VAPID key of this subscription was dropped")
    ttl, extra = headers(tip)
    body = payload(target.user_id, tip, shortened=shortened).decode()
    info = {
        "endpoint": target.endpoint,
        "keys": {"p256dh": target.p256dh.reveal(), "auth": target.auth.reveal()},
    }
    started = time.perf_counter()
    try:
        if http is not None:
            response = await _send(info, body, key, ttl, extra, http)
        else:
            async with aiohttp.ClientSession() as session:
                response = await _send(info, body, key, ttl, extra, session)
    except WebPushException as err:
        latency = (time.perf_counter() - started) * 1000
        answered = err.response
        if answered is None:
            return Answer(0, None, latency, str(err)[:200])
        status = int(getattr(answered, "status", 0) or 0)
        after = retry_after(answered.headers.get("Retry-After"))
        return Answer(status, after, latency, f"push service answered {status}")
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        latency = (time.perf_counter() - started) * 1000
        return Answer(0, None, latency, f"no answer: {type(err).__name__}")
    latency = (time.perf_counter() - started) * 1000
    return Answer(int(response.status), None, latency)


async def log_attempt(
    target: subscriptions.Target, tip_id: str, attempt: int, answer: Answer, outcome: str
) -> None:
    """One row per request: status, latency, outcome (never the payload)."""
    await PushAttempt(
        user=target.user_id,
        subscription_id=target.id,
        tip_id=tip_id[:64],
        attempt=attempt,
        status=answer.status,
        outcome=outcome,
        latency_ms=round(answer.latency_ms, 3),
        retry_after_s=answer.retry_after_s,
        service_host=(urlsplit(target.endpoint).hostname or "")[:255],
        created_at=datetime.now(UTC),
    ).save()


def retry_delay(answer: Answer, tries: int) -> int:
    """Seconds before the next try: the service's Retry-After when it gave one, else an
    exponential backoff; never more than OO_PUSH_RETRY_MAX_S."""
    cap = get_settings().push_retry_max_s
    wanted = answer.retry_after_s if answer.retry_after_s is not None else 2**tries
    return max(1, min(wanted, cap))


def should_retry(status: int) -> bool:
    """429, any 5xx and no answer at all are worth another try; other refusals are not."""
    return status == 429 or status >= 500 or status == 0


@dataclass(frozen=True)
class AttemptView:
    """One logged request, for the console."""

    subscription_id: str
    tip_id: str
    attempt: int
    status: int
    outcome: str
    latency_ms: float
    retry_after_s: int | None
    service_host: str
    created_at: datetime


async def attempts_of(user_id: str, limit: int = 50) -> list[AttemptView]:
    """A person's latest delivery attempts, newest first."""
    rows = (
        await PushAttempt.select()
        .where(PushAttempt.user == user_id)
        .order_by(PushAttempt.created_at, ascending=False)
        .limit(max(1, min(limit, 500)))
    )
    return [
        AttemptView(
            subscription_id=str(r["subscription_id"]),
            tip_id=r["tip_id"],
            attempt=r["attempt"],
            status=r["status"],
            outcome=r["outcome"],
            latency_ms=r["latency_ms"],
            retry_after_s=r["retry_after_s"],
            service_host=r["service_host"],
            created_at=r["created_at"],
        )
        for r in rows
    ]
