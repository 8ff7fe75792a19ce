"""The reaction outbox: what a stored reaction must still cause — its event on the bus and the
"done" close at the source — written in the reaction's transaction, sent once it commits.

A reaction is acknowledged by what is stored. Sending is best-effort right after the commit
(the common case: sent at once); whatever that could not send (Redis away, the process killed
between commit and send) a worker's drain sends later, oldest first. Duplicates are harmless:
events are idempotent for their consumers and jobs carry a fixed id that arq runs once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from redis.exceptions import RedisError

from backend.contracts.json import json_object
from backend.db import Prepared
from backend.events.bus import publish
from backend.events.contracts import SUBJECTS, subject_of
from backend.queue import enqueue
from backend.recommender.tables import Outbox

log = logging.getLogger("oo.recommender.outbox")

DRAIN_AFTER_S = 5.0
"""Rows younger than this are left to the request that wrote them (it is sending them now)."""
DRAIN_BATCH = 500
KEEP_GIVEN_UP = timedelta(days=1)
GIVE_UP_AFTER = 50
"""Attempts after which a row that can never be sent (its contract gone) stops blocking the rest."""


def event_row(user_id: str, payload: msgspec.Struct) -> Outbox:
    """An outbox row for an event (save it inside the reaction's transaction)."""
    return Outbox(
        id=uuid.uuid4(),
        user=user_id,
        kind="event",
        body={
            "subject": subject_of(payload),
            "payload": msgspec.json.decode(msgspec.json.encode(payload)),
        },
    )


def job_row(user_id: str, function: str, args: list[str], job_id: str) -> Outbox:
    """An outbox row for a job (save it inside the reaction's transaction)."""
    return Outbox(
        id=uuid.uuid4(),
        user=user_id,
        kind="job",
        body={"function": function, "args": args, "job_id": job_id},
    )


async def _send(row: dict[str, Any]) -> None:
    body = json_object(row["body"])
    user_id = str(row["user"])
    if row["kind"] == "event":
        payload = msgspec.convert(body["payload"], SUBJECTS[str(body["subject"])])
        await publish(user_id, payload)
    else:
        await enqueue(str(body["function"]), *body["args"], job_id=str(body["job_id"]))


async def publish_or_keep(user_id: str, payload: msgspec.Struct) -> None:
    """Publish an event now; while Redis is away keep it here for the drain instead (a tip
    served during an outage still reaches the bus — and its handlers — once Redis is back)."""
    try:
        await publish(user_id, payload)
    except RedisError as err:
        log.warning("event kept for later: %s", type(err).__name__)
        await Outbox.insert(event_row(user_id, payload))


_SENT = Prepared("DELETE FROM recommender_outbox WHERE id = {}", "delete")


async def send(rows: list[Outbox]) -> int:
    """Send these rows now, in order, deleting each once sent. Never raises: returns how many
    went."""
    sent = 0
    for row in rows:
        try:
            await _send({"user": row.user, "kind": row.kind, "body": row.body})
            await _SENT.rows(row.id)
        except Exception as err:  # Redis or the database away: the drain sends it later
            log.warning("outbox: %s not sent yet (%s)", row.kind, type(err).__name__)
            return sent
        sent += 1
    return sent


async def drain() -> dict[str, int]:
    """Send what requests left behind (oldest first); purge rows given up on a day ago."""
    now = datetime.now(UTC)
    rows = (
        await Outbox.select()
        .where(
            Outbox.given_up_at.is_null()
            & (Outbox.created_at < now - timedelta(seconds=DRAIN_AFTER_S))
        )
        .order_by(Outbox.created_at)
        .limit(DRAIN_BATCH)
        .output(load_json=True)
    )
    sent = failed = 0
    for row in rows:
        try:
            await _send(row)
        except Exception as err:
            failed += 1
            if row["attempts"] + 1 >= GIVE_UP_AFTER:
                log.error("outbox drain: gave up on %s %s (%s)", row["kind"], row["id"], err)
                await Outbox.update({Outbox.given_up_at: datetime.now(UTC)}).where(
                    Outbox.id == row["id"]
                )
                continue
            await Outbox.update({Outbox.attempts: Outbox.attempts + 1}).where(
                Outbox.id == row["id"]
            )
            log.warning("outbox drain: %s not sent (%s)", row["kind"], type(err).__name__)
            break  # keep the order: the next ones wait for this one
        await Outbox.delete().where(Outbox.id == row["id"])
        sent += 1
    await Outbox.delete().where(Outbox.given_up_at < now - KEEP_GIVEN_UP)
    return {"sent": sent, "failed": failed, "pending": len(rows) - sent}


async def pending(user_id: str | None = None) -> int:
    """Rows not sent yet and not given up on (for one person, or everyone)."""
    query = Outbox.count().where(Outbox.given_up_at.is_null())
    if user_id is not None:
        query = query.where(Outbox.user == user_id)
    return int(await query)
