"""Candidate and context features (seed: is_overdue, task_age_days, priority, hour, weekday).

`candidate_features` gives the raw, human-unit features of one candidate in one context; they
are logged with every decision and each policy maps them to its own scaled vector
(backend/recommender/policies/vectors.py documents the scaling). Replaying a decision (learning
from its reaction, off-policy evaluation) passes the logged features back in through
`Context.features`, so a policy learns from exactly what it saw when it picked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from backend.contracts.candidate import Candidate
from backend.contracts.clock import local_time
from backend.recommender.feature_table import FeatureTable
from backend.recommender.habits import Habits
from backend.recommender.history import UserHistory, project_time_fit, time_fit

NEVER_SERVED_HOURS = 720.0
"""`hours_since_served` of an item not served in the history window (30 days, a cap)."""


@dataclass(frozen=True)
class Context:
    """When and for whom the pick happens, and what the service knows around it.

    `history` is the person's recent served/ignored log; `habits` summarise their own recent
    completions, with `open_share` (each project's share of the open candidates) and
    `overdue_share` (share of open candidates that are overdue) as the references habits are
    measured against (see `with_habits`); `features` are raw features already computed (or
    logged) by item_ref, used instead of recomputing; `table` holds the same raw features as one
    matrix for the candidate list being scored (feature_table.py), built once and shared by every
    policy; `priors` are population states by policy id (cold start for policies that pool what
    all users taught them).
    """

    now: datetime
    timezone: str = "UTC"
    history: UserHistory | None = None
    habits: Habits | None = None
    open_share: Mapping[str, float] = field(default_factory=dict)
    overdue_share: float = 0.0
    features: Mapping[str, Mapping[str, float]] | None = None
    table: FeatureTable | None = None
    priors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def local(self) -> datetime:
        """`now` in the person's timezone."""
        return local_time(self.now, self.timezone)

    @property
    def hour_of_day(self) -> int:
        """Local hour, 0..23."""
        return self.local.hour

    @property
    def day_of_week(self) -> int:
        """Local weekday, Monday = 0."""
        return self.local.weekday()

    def features_for(self, candidate: Candidate) -> Mapping[str, float]:
        """The candidate's raw features: the given/logged ones when present, else computed."""
        if self.features is not None:
            known = self.features.get(candidate.item_ref)
            if known is not None:
                return known
        return candidate_features(candidate, self)


def with_habits(context: Context, habits: Habits, candidates: Sequence[Candidate]) -> Context:
    """The context with the person's habits and the open candidates' shares they are read
    against (projects, overdue), computed once per decision."""
    today = context.local.date()
    n = len(candidates) or 1
    projects: dict[str, float] = {}
    overdue = 0
    for c in candidates:
        projects[c.project] = projects.get(c.project, 0.0) + 1.0 / n
        overdue += c.due_date is not None and c.due_date < today
    return replace(context, habits=habits, open_share=projects, overdue_share=overdue / n)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def candidate_features(candidate: Candidate, context: Context) -> dict[str, float]:
    """The raw features logged with a decision and fed to policies (human units)."""
    local = context.local
    today = local.date()
    due = candidate.due_date
    age_days = 0.0
    if candidate.added_at is not None:
        age_days = max(0.0, (context.now - candidate.added_at).total_seconds() / 86400)
    days_to_due = (due - today).days if due is not None else None
    history = context.history
    item = history.items.get(candidate.item_ref) if history is not None else None
    hours_since = NEVER_SERVED_HOURS
    if item is not None and item.last_served is not None:
        hours_since = (context.now - item.last_served).total_seconds() / 3600
        hours_since = min(max(hours_since, 0.0), NEVER_SERVED_HOURS)
    usual = history.usual_hour if history is not None else None
    hour = local.hour + local.minute / 60
    affinity = history.projects.get(candidate.project, 0.0) if history is not None else 0.0
    habits = context.habits
    habit_project = habit_time = habit_late = 0.0
    if habits is not None and candidate.kind == "task":
        habit_project = habits.project_lift(
            candidate.project, context.open_share.get(candidate.project, 0.0)
        )
        habit_time = habits.time_lift(candidate.project, local)
        habit_late = habits.late_lift(context.overdue_share)
    habit_choice = 0.0
    if habits is not None and habits.choice is not None and candidate.kind == "task":
        habit_choice = habits.choice.utility(
            candidate.project,
            float(candidate.priority),
            days_to_due,
            round(age_days, 3),
            candidate.is_recurring,
            local,
        )
    return {
        "is_overdue": 1.0 if days_to_due is not None and days_to_due < 0 else 0.0,
        "due_today": 1.0 if days_to_due == 0 else 0.0,
        "due_soon": 1.0 if days_to_due is not None and 1 <= days_to_due <= 3 else 0.0,
        "days_overdue": float(max(0, -days_to_due)) if days_to_due is not None else 0.0,
        "task_age_days": round(age_days, 3),
        "priority": float(candidate.priority),
        "is_recurring": 1.0 if candidate.is_recurring else 0.0,
        # The kind, one-hot in kind_task / kind_insight / kind_reminder plus kind_advice, which
        # stays "written" (advice or insight) as logged before insights had their own column:
        # advice = kind_advice alone, insight = kind_advice + kind_insight.
        "kind_task": 1.0 if candidate.kind == "task" else 0.0,
        "kind_advice": 1.0 if candidate.kind in ("advice", "insight") else 0.0,
        "kind_insight": 1.0 if candidate.kind == "insight" else 0.0,
        "kind_reminder": 1.0 if candidate.kind == "reminder" else 0.0,
        "hour_of_day": float(local.hour),
        "day_of_week": float(local.weekday()),
        "served_count": float(item.served) if item is not None else 0.0,
        "ignored_count": float(item.ignored) if item is not None else 0.0,
        "hours_since_served": round(hours_since, 3),
        "time_fit": round(_finite(time_fit(history, hour)), 4),
        "project_time_fit": round(_finite(project_time_fit(history, candidate.project, hour)), 4),
        "usual_hour": round(usual, 2) if usual is not None else -1.0,
        "project_affinity": round(_finite(affinity), 4),
        "habit_project": round(habit_project, 4),
        "habit_time": round(habit_time, 4),
        "habit_late": round(habit_late, 4),
        # Minutes the task takes (0: unknown), as its source reports it (Todoist's optional
        # duration; the simulator's tasks all carry an estimate); oo-v4 reads it.
        "duration_min": float(candidate.duration_min or 0),
        # The person's own utility of finishing this task now (logit units), from the choice
        # model fitted on their task app's history (history_fit.py); 0 without one. oo-v5.
        "habit_choice": round(_finite(habit_choice), 4),
    }
