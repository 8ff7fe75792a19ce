"""What a person's own completion history says about them: which projects they finish, when,
and whether they finish things late (pure: no database here).

oO learns who a person is from the apps they already use. Before their first tip, their task
app already knows what they get done and when; three per-candidate numbers carry that to the
policies (features.py), each a shrunk log-lift so "no history" is exactly 0:

- `habit_project`  log of (the project's share of their completions) / (its share of their
  open tasks now): they finish this project more (> 0) or less (< 0) than its size suggests.
- `habit_time`     log of (the share of this project's completions that fell in the current
  part of the day and in the current weekday/weekend class) / (the same share over all their
  completions): this project's work happens at times like now (> 0), or never now (< 0).
- `habit_late`     log of (the share of their completions that came after the due date) /
  (the share of their open tasks that are overdue now): someone who finishes overdue work
  more than its share suggests (> 0) is nudged well by overdue tasks.

Shrinkage: every share adds `PRIOR` pseudo-completions spread like the reference share, so a
handful of completions moves a lift only a little, and the lifts are clipped to ±`LIFT_CLIP`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from backend.recommender.choice_model import ChoiceModel

HABIT_DAYS = 45
"""How far back the completion history is read (the agents' benchmark histories cover this)."""

PRIOR = 4.0
"""Pseudo-completions shrinking every share towards its reference share."""

LIFT_CLIP = 2.0
"""|log-lift| bound (e^2 ≈ 7× more or less often than the reference)."""


def day_part(hour: int) -> int:
    """0 morning (5–12), 1 afternoon (12–17), 2 evening (17–22), 3 night."""
    if 5 <= hour < 12:
        return 0
    if 12 <= hour < 17:
        return 1
    if 17 <= hour < 22:
        return 2
    return 3


def time_keys(local: datetime) -> tuple[str, str]:
    """The two time classes of a local moment: its part of the day, weekday or weekend."""
    return f"p{day_part(local.hour)}", "we" if local.weekday() >= 5 else "wd"


@dataclass(frozen=True)
class Completion:
    """One completed task, as the person's app reports it."""

    at: datetime
    project: str
    due_date: date | None = None
    item_ref: str = ""
    """The task's id at its source: a recurring task completes many times under one ref."""
    priority: int = 1
    added_at: datetime | None = None
    """When the task was added (None: the source did not say)."""
    recurring: bool = False
    prompted: bool = False
    """Completed through one of oO's tips (answered done): the policy chose it, not the person,
    so the choice model (history_fit.py) does not count it as their choice."""


@dataclass(frozen=True)
class Habits:
    """Counts over a person's recent completions (see module docstring)."""

    total: int = 0
    late: int = 0
    by_project: Mapping[str, int] = field(default_factory=dict)
    by_time: Mapping[str, int] = field(default_factory=dict)
    by_project_time: Mapping[str, int] = field(default_factory=dict)
    """Keyed "<time key>|<project>"."""
    choice: ChoiceModel | None = None
    """The person's own choice model fitted on the same completions (history_fit.py; None:
    not fitted), read per candidate as `habit_choice`."""

    @classmethod
    def from_completions(cls, completions: Iterable[Completion], timezone: str) -> Habits:
        """Count completions by project, time class and lateness (in the person's time)."""
        try:
            tz: ZoneInfo | None = ZoneInfo(timezone)
        except (KeyError, ValueError):
            tz = None
        total = late = 0
        by_project: dict[str, int] = {}
        by_time: dict[str, int] = {}
        by_project_time: dict[str, int] = {}
        for c in completions:
            local = c.at.astimezone(tz) if tz else c.at
            total += 1
            if c.due_date is not None and local.date() > c.due_date:
                late += 1
            by_project[c.project] = by_project.get(c.project, 0) + 1
            for k in time_keys(local):
                by_time[k] = by_time.get(k, 0) + 1
                pk = f"{k}|{c.project}"
                by_project_time[pk] = by_project_time.get(pk, 0) + 1
        return cls(total, late, by_project, by_time, by_project_time)

    def project_lift(self, project: str, open_share: float) -> float:
        """`habit_project`: completion share of `project` over its open share (shrunk)."""
        if self.total == 0 or not 0.0 < open_share <= 1.0:
            return 0.0
        share = (self.by_project.get(project, 0) + PRIOR * open_share) / (self.total + PRIOR)
        return _clip(math.log(share / open_share))

    def time_lift(self, project: str, local: datetime) -> float:
        """`habit_time`: this project's completions at times like now, over everyone's."""
        n = self.by_project.get(project, 0)
        if n == 0 or self.total == 0:
            return 0.0
        lift = 0.0
        for k in time_keys(local):
            # The reference share itself is shrunk towards an even spread over its classes.
            even = 0.25 if k.startswith("p") else (2 / 7 if k == "we" else 5 / 7)
            reference = (self.by_time.get(k, 0) + PRIOR * even) / (self.total + PRIOR)
            mine = (self.by_project_time.get(f"{k}|{project}", 0) + PRIOR * reference) / (n + PRIOR)
            lift += math.log(mine / reference)
        return _clip(lift)

    def late_lift(self, overdue_share: float) -> float:
        """`habit_late`: share of completions done late over the share of open overdue tasks."""
        if self.total == 0:
            return 0.0
        reference = min(max(overdue_share, 0.05), 0.95)  # bounded: a log of 0 says nothing
        share = (self.late + PRIOR * reference) / (self.total + PRIOR)
        return _clip(math.log(share / reference))


def _clip(value: float) -> float:
    return min(max(value, -LIFT_CLIP), LIFT_CLIP)
