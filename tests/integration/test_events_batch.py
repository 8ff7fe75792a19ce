"""A batch of events goes out as one script call; what lands in the stream and in the
people's last-event hashes is what the pipeline writes for a few events."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from backend.events.bus import (
    BATCH_SCRIPT_FROM,
    last_event_times_many,
    publish_many,
    stream_key,
)
from backend.events.contracts import ProfileChanged, TasksSynced
from backend.redis import get_redis


def _events(people: list[str], n: int) -> list[tuple[str, msgspec.Struct]]:
    """n events over the people, two subjects (each person gets both)."""
    return [
        (
            people[i % len(people)],
            TasksSynced(source=f"batch-{i}", items=i, duration_ms=1.5)
            if i % 2
            else ProfileChanged(what=f"consent-{i}"),
        )
        for i in range(n)
    ]


async def _stored(ids: list[str]) -> list[dict[str, Any]]:
    found = []
    for event_id in ids:
        (entry,) = await get_redis().xrange(stream_key(), min=event_id, max=event_id, count=1)
        found.append(entry[1])
    return found


async def _published(n: int) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """The stream entries of n events over three fresh people (times dropped), and which
    subjects each person's last-event hash stamps at the entries' time."""
    people = [str(uuid.uuid4()) for _ in range(3)]
    events = _events(people, n)
    ids = await publish_many(events)
    assert len(ids) == n
    assert ids == sorted(ids, key=lambda i: tuple(int(p) for p in i.split("-")))
    entries = await _stored(ids)
    (at,) = {e["at"] for e in entries}  # one time for the whole batch
    stamps = await last_event_times_many(people)
    by_person = {
        people.index(p): {subject: t.isoformat() for subject, t in times.items()}
        for p, times in stamps.items()
    }
    assert all(t == at for times in by_person.values() for t in times.values())
    shape = [
        {**e, "at": "·", "user_id": people.index(e["user_id"])}  # comparable across calls
        for e in entries
    ]
    return shape, {str(k): dict.fromkeys(v, "·") for k, v in by_person.items()}


async def test_a_batch_stores_what_the_pipeline_stores() -> None:
    few = BATCH_SCRIPT_FROM - 1
    many = BATCH_SCRIPT_FROM * 3
    by_pipeline, stamped_by_pipeline = await _published(few)
    by_script, stamped_by_script = await _published(many)
    assert by_script[:few] == by_pipeline  # same fields, same order, same values
    assert stamped_by_script == stamped_by_pipeline
    assert set(stamped_by_script["0"]) == {"signals.profile.changed", "signals.task.synced"}
    assert by_script[-1]["subject"] == "signals.task.synced"
    assert msgspec.json.decode(by_script[-1]["payload"]) == {
        "source": f"batch-{many - 1}",
        "items": many - 1,
        "duration_ms": 1.5,
    }
