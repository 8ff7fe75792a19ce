"""Every agent's output, byte for byte, on a fixed set of varied histories.

The digest was taken before the agents' hot paths were tuned for the agent pass's throughput
(memoised windows, fewer passes over the events): a change of any snippet, value, inferred key
or evidence count on any of these histories changes it. A deliberate change of an agent's
output updates the digest in the same commit (and bumps the agent's version).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from datetime import UTC, datetime, timedelta

from agents.inference import run_inference
from agents.registry import all_agents
from agents.types import AgentContext, History, HistoryEvent
from backend.integrations.taskgen import generate_tasks

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ZONES = ("Europe/London", "America/New_York", "Asia/Tokyo", "UTC", "Not/AZone")
EXPECTED = "ae656bc43ec6d1afcc2b15d96f865832cb7d201b67adf04a9ace9ce3b3dcc6b1"


def varied_history(seed: int) -> History:
    """A person from the task generator: 0–120 events over 100 days, completions and
    reactions, with and without due dates, in one of several zones (one of them unknown)."""
    rng = random.Random(seed)
    events = []
    for task in generate_tasks(rng, NOW, count=rng.choice((0, 3, 12, 25, 60, 120))):
        at = NOW - timedelta(days=rng.randint(0, 99), hours=rng.randint(0, 23))
        kind = rng.choice(("done", "done", "done", "snooze", "dismiss"))
        events.append(
            HistoryEvent(
                at=at.replace(minute=rng.randint(0, 59)),
                kind=kind,
                source="completion" if kind == "done" and rng.random() < 0.8 else "feedback",
                item_ref=f"demo:{seed}-{len(events)}",
                project=task.project if rng.random() < 0.9 else "",
                content=task.content,
                due_date=task.due_date,
            )
        )
    events.sort(key=lambda e: e.at)
    return History(f"u{seed}", ZONES[seed % len(ZONES)], NOW, tuple(events))


async def outputs(history: History) -> list[object]:
    """What each agent stores for this history (the runner's steps, minus the database)."""
    found: list[object] = []
    for manifest in all_agents():
        inferred = run_inference(manifest, history)
        snippet = await manifest.compute(
            AgentContext(history, dict(inferred.values), inferred.evidence)
        )
        found.append(
            [
                manifest.id,
                snippet,
                inferred.values,
                sorted(inferred.inferred_keys),
                inferred.evidence,
            ]
        )
    return found


def test_agent_outputs_are_unchanged_byte_for_byte() -> None:
    async def every() -> list[object]:
        return [await outputs(varied_history(seed)) for seed in range(300)]

    digest = hashlib.sha256(json.dumps(asyncio.run(every()), sort_keys=True).encode()).hexdigest()
    assert digest == EXPECTED
