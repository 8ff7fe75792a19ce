"""A person's recent served/ignored history, summarised for features (pure: no database here).

The service reads the person's recent decision log in one query and builds a `UserHistory`;
`candidate_features` then turns it into per-candidate numbers: how often and how recently an
item was pushed and ignored (repeated nudges wear off), how a project's items usually end, and
when in the day the person usually finishes things.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

HISTORY_DAYS = 14
"""How far back the service reads the decision log for history features."""

HISTORY_LIMIT = 400
"""At most this many recent decisions are read (a bound on the hot path's one history query)."""

HOUR_PRIOR = 3.0
"""Pseudo-count shrinking the usual-hour strength: 3 completions only give about half strength."""

PROJECT_PRIOR = 2.0
"""Pseudo-count shrinking a project's affinity towards 0 (neutral) when it has few outcomes."""


@dataclass(frozen=True)
class ItemHistory:
    """One item's recent exposure: times served, times ignored (not done), last serve time."""

    served: int = 0
    ignored: int = 0
    last_served: datetime | None = None


@dataclass(frozen=True)
class UserHistory:
    """What the recent decision log says about a person (see module docstring)."""

    items: Mapping[str, ItemHistory] = field(default_factory=dict)
    projects: Mapping[str, float] = field(default_factory=dict)
    usual_hour: float | None = None
    hour_strength: float = 0.0
    project_hours: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """Per project: (usual local hour of completions, strength 0..1)."""

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]], timezone: str) -> UserHistory:
        """Summarise decision-log rows (item_ref, project, served_at, reaction, reacted_at).

        A row without a reaction is an ignored serve: the service only picks again once the
        previous tip was answered or expired, so an unanswered row in the past was passed over.
        """
        try:
            tz: ZoneInfo | None = ZoneInfo(timezone)
        except (KeyError, ValueError):
            tz = None
        counts: dict[str, list[Any]] = {}
        project_sum: dict[str, float] = {}
        project_n: dict[str, int] = {}
        everyone = _Clock()
        by_project: dict[str, _Clock] = {}
        for row in rows:
            ref = str(row["item_ref"])
            reaction = row.get("reaction")
            served_at = row["served_at"]
            entry = counts.setdefault(ref, [0, 0, None])
            entry[0] += 1
            if reaction != "done":
                entry[1] += 1
            if entry[2] is None or served_at > entry[2]:
                entry[2] = served_at
            project = str(row.get("project") or "")
            if project and reaction is not None:
                outcome = {"done": 1.0, "dismiss": -1.0}.get(str(reaction), 0.0)
                project_sum[project] = project_sum.get(project, 0.0) + outcome
                project_n[project] = project_n.get(project, 0) + 1
            reacted_at = row.get("reacted_at")
            if reaction == "done" and isinstance(reacted_at, datetime):
                local = reacted_at.astimezone(tz) if tz else reacted_at
                hour = local.hour + local.minute / 60
                everyone.add(hour)
                if project:
                    by_project.setdefault(project, _Clock()).add(hour)
        usual, strength = everyone.summary()
        return cls(
            items={k: ItemHistory(v[0], v[1], v[2]) for k, v in counts.items()},
            projects={p: project_sum[p] / (project_n[p] + PROJECT_PRIOR) for p in project_sum},
            usual_hour=usual,
            hour_strength=strength,
            project_hours={
                p: (h, st)
                for p, c in by_project.items()
                for h, st in [c.summary()]
                if h is not None
            },
        )


class _Clock:
    """Circular mean of hours of the day (23:00 and 01:00 average to midnight, not noon)."""

    def __init__(self) -> None:
        self.sin = 0.0
        self.cos = 0.0
        self.n = 0

    def add(self, hour: float) -> None:
        angle = 2 * math.pi * hour / 24
        self.sin += math.sin(angle)
        self.cos += math.cos(angle)
        self.n += 1

    def summary(self) -> tuple[float | None, float]:
        """(mean hour, strength): strength is the resultant length shrunk for few samples."""
        if self.n == 0:
            return None, 0.0
        resultant = math.hypot(self.sin, self.cos) / self.n
        hour = (math.degrees(math.atan2(self.sin, self.cos)) / 15.0) % 24
        return hour, resultant * self.n / (self.n + HOUR_PRIOR)


def hour_fit(usual_hour: float | None, strength: float, local_hour: float) -> float:
    """How well now matches a usual hour: −strength (opposite) … strength (spot on).

    Zero when we do not know (no completions yet, or completions spread round the clock).
    """
    if usual_hour is None:
        return 0.0
    return strength * math.cos(2 * math.pi * (local_hour - usual_hour) / 24)


def time_fit(history: UserHistory | None, local_hour: float) -> float:
    """How well now matches when the person usually finishes anything (see `hour_fit`)."""
    if history is None:
        return 0.0
    return hour_fit(history.usual_hour, history.hour_strength, local_hour)


def project_time_fit(history: UserHistory | None, project: str, local_hour: float) -> float:
    """How well now matches when the person usually finishes this project's items."""
    if history is None or project not in history.project_hours:
        return 0.0
    usual, strength = history.project_hours[project]
    return hour_fit(usual, strength, local_hour)
