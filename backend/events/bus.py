"""The event bus: one capped Redis Stream (durable, replayable; the "last N events" ring)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from backend.events.contracts import SUBJECTS, decode_payload, subject_of
from backend.events.handlers import dispatch
from backend.redis import get_redis, key
from backend.settings import get_settings


class Event(msgspec.Struct, frozen=True):
    """An event as read back from the stream."""

    id: str
    subject: str
    user_id: str
    at: datetime
    payload: dict[str, Any]
    replayed_from: str | None = None
    """Set on an event an operator re-published: the id of the event it repeats."""


def stream_key() -> str:
    """The stream that holds every event."""
    return key("events")


def _fields(
    user_id: str, payload: msgspec.Struct, at: str, replayed_from: str | None = None
) -> dict[Any, Any]:
    fields = {
        "subject": subject_of(payload),
        "user_id": user_id,
        "at": at,
        "payload": msgspec.json.encode(payload).decode(),
    }
    if replayed_from is not None:
        fields["replayed_from"] = replayed_from
    return fields


def last_events_key(user_id: str) -> str:
    """Hash of subject → time of the person's latest event of that subject."""
    return key("last-event", user_id)


async def publish(user_id: str, payload: msgspec.Struct) -> str:
    """Append an event; the stream is capped (approximately) at OO_EVENT_STREAM_MAXLEN."""
    return (await publish_many([(user_id, payload)]))[0]


BATCH_SCRIPT_FROM = 16
"""From this many events a publish is one script call instead of one XADD (and HSET) each."""

# One XADD per event with the fields in publish's order, and the person's last-event stamp.
# KEYS[1] is the stream, KEYS[2..] the people's last-event hashes; ARGV[1] the stream's cap,
# ARGV[2] the time, then per event: the index of its person's hash in KEYS, subject, user,
# payload.
_PUBLISH_MANY = """
local ids = {}
for b = 3, #ARGV, 4 do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
    'subject', ARGV[b + 1], 'user_id', ARGV[b + 2], 'at', ARGV[2], 'payload', ARGV[b + 3])
  redis.call('HSET', KEYS[tonumber(ARGV[b])], ARGV[b + 1], ARGV[2])
end
return ids
"""


async def publish_many(events: Sequence[tuple[str, msgspec.Struct]]) -> list[str]:
    """Append several events in one round trip (a batch of agent runs, say).

    The domains' in-process handlers (backend/events/handlers.py) see each event first.
    Each event also stamps its subject's time in the person's last-event hash, so "has anything
    happened since X" (profile feature invalidation) is one HGETALL, however long the stream.
    A batch goes as one script call: the same entries and stamps, with a few arguments per
    event instead of fourteen (packing a command's arguments was most of a batch's client
    CPU); a handful stays a pipeline (one round trip either way, and no script to load).
    """
    if not events:
        return []
    await dispatch(events)  # read models first: they must not depend on Redis being up
    at = datetime.now(UTC).isoformat()
    maxlen = get_settings().event_stream_maxlen
    if len(events) >= BATCH_SCRIPT_FROM:
        return await _publish_script(events, at, maxlen)
    stamps: dict[str, dict[str, str]] = {}
    async with get_redis().pipeline(transaction=False) as pipe:
        for user_id, payload in events:
            fields = _fields(user_id, payload, at)
            pipe.xadd(stream_key(), fields, maxlen=maxlen, approximate=True)
            stamps.setdefault(user_id, {})[fields["subject"]] = at
        for user_id, mapping in stamps.items():
            pipe.hset(last_events_key(user_id), mapping=mapping)
        results = await pipe.execute()
    return [str(r) for r in results[: len(events)]]


async def _publish_script(
    events: Sequence[tuple[str, msgspec.Struct]], at: str, maxlen: int
) -> list[str]:
    people: dict[str, int] = {}
    args: list[str | int] = [maxlen, at]
    for user_id, payload in events:
        slot = people.setdefault(user_id, len(people) + 2)  # KEYS index (1-based, after stream)
        payload_json = msgspec.json.encode(payload).decode()
        args += [slot, subject_of(payload), user_id, payload_json]
    keys = [stream_key(), *(last_events_key(u) for u in people)]
    ids = await get_redis().register_script(_PUBLISH_MANY)(keys=keys, args=args)
    return [str(i) for i in ids]


async def last_event_times(user_id: str) -> dict[str, datetime]:
    """When the person's latest event of each subject happened."""
    return (await last_event_times_many([user_id]))[user_id]


async def last_event_times_many(user_ids: Sequence[str]) -> dict[str, dict[str, datetime]]:
    """`last_event_times` of several people in one round trip."""
    async with get_redis().pipeline(transaction=False) as pipe:
        for user_id in user_ids:
            pipe.hgetall(last_events_key(user_id))
        results: list[dict[str, str]] = await pipe.execute()
    return {
        user_id: {subject: datetime.fromisoformat(at) for subject, at in raw.items()}
        for user_id, raw in zip(user_ids, results, strict=True)
    }


def decode_entry(event_id: str, fields: dict[str, str]) -> Event:
    subject = fields.get("subject", "")
    return Event(
        id=event_id,
        subject=subject,
        user_id=fields.get("user_id", ""),
        at=datetime.fromisoformat(fields["at"]),
        payload=decode_payload(subject, fields.get("payload", "{}")),
        replayed_from=fields.get("replayed_from"),
    )


async def read_one(event_id: str) -> Event | None:
    """The event with this id, while the capped stream still holds it."""
    rows = await get_redis().xrange(stream_key(), min=event_id, max=event_id, count=1)
    return decode_entry(*rows[0]) if rows else None


async def republish(event: Event) -> str:
    """Publish an event again, marked `replayed_from` its id (an operator's replay).

    Handlers and subscribers see it like any event: they are idempotent by contract, so a
    replay repairs a read model that missed it and changes nothing where it was applied.
    """
    cls = SUBJECTS.get(event.subject)
    if cls is None:
        raise KeyError(f"no contract for subject {event.subject!r}")
    payload = msgspec.convert(event.payload, cls)
    await dispatch([(event.user_id, payload)])
    fields = _fields(event.user_id, payload, datetime.now(UTC).isoformat(), event.id)
    maxlen = get_settings().event_stream_maxlen
    new_id = await get_redis().xadd(stream_key(), fields, maxlen=maxlen, approximate=True)
    return str(new_id)


def wanted(event: Event, subjects: Collection[str] | None, user_id: str | None) -> bool:
    if subjects and not any(
        event.subject == s or event.subject.startswith(s.rstrip("*")) for s in subjects
    ):
        return False
    return user_id is None or event.user_id == user_id


async def recent(
    count: int = 100, subjects: Collection[str] | None = None, user_id: str | None = None
) -> list[Event]:
    """The newest events, oldest first, filtered by subject (prefix with `*`) and user."""
    rows = await get_redis().xrevrange(stream_key(), count=max(count * 4, 100))
    events = [e for e in (decode_entry(i, f) for i, f in rows) if wanted(e, subjects, user_id)]
    return list(reversed(events[:count]))
