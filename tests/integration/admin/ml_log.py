"""A small decision log with hand-computable figures, seeded in a week of its own (so tests of
the same run never see each other's rows): two live people, one deleted person whose rows must
not count, one row just before the window, shadow picks, a delayed reward and a promotion."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.admin.reward_rollup import recompute
from backend.audit import AdminAudit
from backend.identity.tables import User
from backend.recommender.tables import Feedback, ServedTip, ShadowDecision
from tests.support.fixtures import make_person

_weeks = itertools.count()
KEYS = ["days_overdue", "is_overdue", "priority"]


@dataclass(frozen=True)
class Row:
    """One decision of the seeded log."""

    at: timedelta  # after the window's start (a Monday, 00:00 UTC)
    person: str  # "p1", "p2" or "gone" (deleted)
    policy: str
    kind: str
    source: str
    priority: int | None
    model: str | None
    prompt: str | None
    reaction: str | None
    reward: float | None


def h(day: int, hour: int, minute: int = 0) -> timedelta:
    return timedelta(days=day, hours=hour, minutes=minute)


ROWS = [
    Row(h(0, 9, 10), "p1", "linucb 2", "task", "todoist", 4, None, None, "done", 1.0),
    Row(h(0, 9, 40), "p1", "linucb 2", "task", "todoist", 1, None, None, "dismiss", -1.0),
    Row(h(0, 14, 5), "p2", "random 1", "advice", "llm", None, "m1", "p1", "done", 0.8),
    Row(h(1, 9, 20), "p2", "linucb 2", "task", "demo", 4, None, None, "snooze", 0.0),
    Row(h(1, 21), "p1", "random 1", "advice", "llm", 1, "m1", "p2", None, None),
    Row(h(1, 22), "gone", "linucb 2", "task", "todoist", 4, None, None, "done", 1.0),
    Row(timedelta(minutes=-1), "p1", "linucb 2", "task", "todoist", 4, None, None, "done", 1.0),
]
"""Rows 0-4 count; row 5 belongs to a deleted person; row 6 is a minute before the window."""


@dataclass(frozen=True)
class SeededLog:
    """Where the log is and who is in it."""

    start: datetime
    end: datetime
    people: dict[str, str]
    tip_ids: list[str]

    def window(self) -> dict[str, Any]:
        return {"since": self.start, "until": self.end}


async def seed_log() -> SeededLog:
    """Seed the rows above in a fresh week (2 days long window), with shadows and feedback."""
    start = datetime(2025, 1, 6, tzinfo=UTC) + timedelta(weeks=next(_weeks))  # a Monday
    people = {k: (await make_person(tasks=False)).user_id for k in ("p1", "p2", "gone")}
    # Cohorts: p1 signed up on the Wednesday before the window, p2 on its Monday morning.
    await User.update({User.created_at: start - timedelta(days=5)}).where(User.id == people["p1"])
    await User.update({User.created_at: start + timedelta(hours=8)}).where(User.id == people["p2"])
    tip_ids = []
    for i, r in enumerate(ROWS):
        policy, version = r.policy.split()
        detail: dict[str, Any] = {"project": "Home"}
        if r.priority is not None:
            detail["priority"] = r.priority
        if r.model is not None:
            detail.update(model=r.model, prompt_version=r.prompt)
        served = start + r.at
        tip = ServedTip(
            user=people[r.person],
            item_ref=f"test:{i}",
            source=r.source,
            kind=r.kind,
            content=f"Seeded tip {i}",
            detail=detail,
            features={"days_overdue": float(i), "is_overdue": 1.0, "priority": float(i % 4)},
            candidates={
                "refs": [f"test:{i}", "test:other"],
                "keys": KEYS,
                "values": [[float(i), 1.0, float(i % 4)], [0.0, 0.0, 2.0]],
            },
            shadowed=2,  # history with its own shadow decisions: not replayed
            explanation={
                "line": "Overdue, and urgent.",
                "explored": False,
                "features": [
                    {"name": "is_overdue", "value": 1.0, "weight": 0.5, "contribution": 0.5}
                ],
            },
            candidate_count=2,
            policy_id=policy,
            policy_version=version,
            score=0.5 + i / 10,
            propensity=0.5,
            latency_ms=3.0 + i,
            served_at=served,
            reaction=r.reaction,
            reacted_at=served + timedelta(seconds=30) if r.reaction else None,
            reward=r.reward,
        )
        await tip.save()
        tip_ids.append(str(tip.id))
        if r.reaction is not None and r.reward is not None:
            await Feedback(
                tip=tip.id,
                user=people[r.person],
                action=r.reaction,
                dwell_ms=30_000,
                dwell_source="server" if i == 0 else "client",
                reward=r.reward,
                reward_source="source" if i == 0 else "reaction",  # row 0: a delayed reward
                created_at=served + timedelta(seconds=30),
            ).save()
    # Shadow picks: greedy agreed on row 0, not on row 1; row 5 (deleted person) never counts.
    for i, agrees in ((0, True), (1, False), (5, True)):
        await ShadowDecision(
            tip=tip_ids[i],
            policy_id="greedy",
            policy_version="1",
            item_ref=f"test:{i}" if agrees else "test:other",
            score=0.4,
            propensity=0.75,
            served_propensity=0.75 if agrees else 0.25,
            agrees=agrees,
            created_at=start + ROWS[i].at,
        ).save()
    await AdminAudit(
        actor_user_id=None,
        action="policy.promote",
        target="linucb",
        detail={"from": "random", "reason": "beats random in shadow"},
        created_at=start + h(0, 12),
    ).save()
    await User.update({User.deleted_at: start + h(3, 0)}).where(User.id == people["gone"])
    await recompute(start - timedelta(hours=1), start + timedelta(days=3))  # the hourly rollup
    return SeededLog(start, start + timedelta(days=2), people, tip_ids)


def fresh_id() -> str:
    return str(uuid.uuid4())
