"""A person's own choice model: which open task they finish, as a conditional logit (pure).

Fitted on their task app's history (history_fit.py) and read per candidate as the raw feature
`habit_choice` (features.py, feature_columns.py): the person's utility of finishing this task now,
in logit units, relative to a task with no priority, no due date, just added, in a project with
no pull at this time. Its terms, each computed as in the task's own features:

- task terms (TERMS): priority (p − 1)/3, the same in the last MONTH_END_DAYS days of a month,
  staleness log1p(age days)/log1p(365) (≤ 2), overdue, log1p(days overdue)/log1p(30) (≤ 1.5),
  due today, due in 1–3 days, recurring;
- project × moment terms (SLOTS): per project, a base pull plus its pull on weekends, in each
  part of the day (habits.day_part's hours) and at month end.

`utility` (one candidate, Python floats) and `utilities` (columns, numpy) give the same numbers;
the raw feature is rounded to 4 decimals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

TERMS = (
    "priority",
    "priority_month_end",
    "stale",
    "overdue",
    "overdue_days",
    "due_today",
    "due_soon",
    "recurring",
)
SLOTS = ("base", "weekend", "morning", "afternoon", "evening", "night", "month_end")

MONTH_END_DAYS = 5
"""The last this-many days of a month are its month end (as the person's cells count it)."""

_LOG_365 = math.log1p(365.0)
_LOG_30 = math.log1p(30.0)


def is_month_end(local: datetime) -> bool:
    """Whether a local moment falls in the last MONTH_END_DAYS days of its month."""
    return (local + timedelta(days=MONTH_END_DAYS)).month != local.month


def slot_vector(local: datetime) -> tuple[float, ...]:
    """1.0 for every slot of SLOTS a local moment is in, else 0.0."""
    hour = local.hour
    part = 0 if 5 <= hour < 12 else 1 if 12 <= hour < 17 else 2 if 17 <= hour < 22 else 3
    parts = [0.0, 0.0, 0.0, 0.0]
    parts[part] = 1.0
    weekend = 1.0 if local.weekday() >= 5 else 0.0
    return (1.0, weekend, *parts, 1.0 if is_month_end(local) else 0.0)


def task_terms(
    priority: float, days_to_due: int | None, age_days: float, recurring: bool, month_end: bool
) -> tuple[float, ...]:
    """The TERMS of one task at one moment."""
    pri = (min(max(priority, 1.0), 4.0) - 1.0) / 3.0
    stale = min(math.log1p(max(age_days, 0.0)) / _LOG_365, 2.0)
    overdue = days_to_due is not None and days_to_due < 0
    late = min(math.log1p(-days_to_due) / _LOG_30, 1.5) if overdue and days_to_due else 0.0
    return (
        pri,
        pri if month_end else 0.0,
        stale,
        1.0 if overdue else 0.0,
        late,
        1.0 if days_to_due == 0 else 0.0,
        1.0 if days_to_due is not None and 1 <= days_to_due <= 3 else 0.0,
        1.0 if recurring else 0.0,
    )


def task_term_columns(
    priority: np.ndarray,
    has_due: np.ndarray,
    days_to_due: np.ndarray,
    age_days: np.ndarray,
    recurring: np.ndarray,
    month_end: np.ndarray | bool,
) -> np.ndarray:
    """The TERMS of many tasks (rows), each at its own moment: `task_terms` column-wise."""
    n = priority.shape[0]
    out = np.zeros((n, len(TERMS)))
    pri = (np.clip(priority, 1.0, 4.0) - 1.0) / 3.0
    out[:, 0] = pri
    out[:, 1] = np.where(month_end, pri, 0.0)
    out[:, 2] = np.minimum(np.log1p(np.maximum(age_days, 0.0)) / _LOG_365, 2.0)
    overdue = has_due & (days_to_due < 0)
    out[:, 3] = overdue
    late = np.log1p(np.where(overdue, -days_to_due, 0).astype(float)) / _LOG_30
    out[:, 4] = np.where(overdue, np.minimum(late, 1.5), 0.0)
    out[:, 5] = has_due & (days_to_due == 0)
    out[:, 6] = has_due & (days_to_due >= 1) & (days_to_due <= 3)
    out[:, 7] = recurring != 0
    return out


@dataclass(frozen=True)
class ChoiceModel:
    """Fitted weights (logit units): `weights` over TERMS, `projects` over SLOTS by project."""

    n: int = 0
    """Completions (choices) the fit rests on."""
    weights: tuple[float, ...] = ()
    projects: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def project_pull(self, project: str, slots: tuple[float, ...]) -> float:
        """The project's terms at a moment (0 for a project the history never saw)."""
        w = self.projects.get(project)
        if not w:
            return 0.0
        pull = 0.0
        for a, b in zip(w, slots, strict=True):
            pull += a * b
        return pull

    def utility(
        self,
        project: str,
        priority: float,
        days_to_due: int | None,
        age_days: float,
        recurring: bool,
        local: datetime,
    ) -> float:
        """The person's utility of finishing one task now (logit units)."""
        if len(self.weights) != len(TERMS):
            return 0.0
        slots = slot_vector(local)
        terms = task_terms(priority, days_to_due, age_days, recurring, slots[-1] > 0.5)
        task = 0.0
        for t, w in zip(terms, self.weights, strict=True):  # in the order `utilities` adds
            task += t * w
        return task + self.project_pull(project, slots)

    def utilities(
        self,
        projects: list[str],
        project_index: np.ndarray,
        terms: np.ndarray,
        local: datetime,
    ) -> np.ndarray:
        """The utilities of many tasks at one moment: TERMS rows `terms`, each row's project
        `projects[project_index[row]]`."""
        if len(self.weights) != len(TERMS):
            return np.zeros(terms.shape[0])
        slots = slot_vector(local)
        pulls = np.array([self.project_pull(p, slots) for p in projects] or [0.0])
        task = np.zeros(terms.shape[0])
        for j, w in enumerate(self.weights):
            task += terms[:, j] * w
        return np.asarray(task + pulls[project_index])
