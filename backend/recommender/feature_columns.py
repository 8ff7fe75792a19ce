"""The raw features of a pick's candidates, column by column: the same numbers as
`candidate_features` (features.py) gives one candidate at a time, bit for bit.

The clock-free attributes come as arrays (candidate_columns.py, cached per candidate list); what
moves with the clock is worked out per column (due dates against today, ages against now), per
project (affinity, time fits, habit lifts: one value per project, broadcast to its rows), per item
in the person's history (≤ HISTORY_LIMIT entries, looked up by item_ref) or once per pick (the
hour, the weekday, the usual hour). Nothing here runs Python per candidate except Python's own
`round` on the few ages whose third decimal is a tie (numpy rounds by scaling, which can differ
from `round` there).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import numpy as np

from backend.contracts.candidate import Candidate
from backend.recommender.candidate_columns import EPOCH, MICROSECOND, CandidateColumns
from backend.recommender.choice_model import is_month_end, task_term_columns
from backend.recommender.feature_table import FeatureTable
from backend.recommender.features import NEVER_SERVED_HOURS, Context
from backend.recommender.history import project_time_fit, time_fit

KEYS = (
    "day_of_week",
    "days_overdue",
    "due_soon",
    "due_today",
    "duration_min",
    "habit_choice",
    "habit_late",
    "habit_project",
    "habit_time",
    "hour_of_day",
    "hours_since_served",
    "ignored_count",
    "is_overdue",
    "is_recurring",
    "kind_advice",
    "kind_insight",
    "kind_reminder",
    "kind_task",
    "priority",
    "project_affinity",
    "project_time_fit",
    "served_count",
    "task_age_days",
    "time_fit",
    "usual_hour",
)
"""The keys of `candidate_features`, sorted (the order FeatureTable.build and the log use)."""

_COLUMN = {key: j for j, key in enumerate(KEYS)}


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def rounded(values: np.ndarray, digits: int) -> np.ndarray:
    """`round(v, digits)` of every value: numpy's rounding, and Python's where they may differ
    (a value whose scaled fraction is within 1e-6 of one half)."""
    out = np.round(values, digits)
    scaled = values * 10.0**digits
    near = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    if near.size:
        out[near] = [round(v, digits) for v in values[near].tolist()]
    return out


def shares(
    columns: CandidateColumns, rows: np.ndarray, today: int
) -> tuple[dict[str, float], float]:
    """`with_habits`' open_share (each project's share of the rows) and overdue_share.

    with_habits adds 1/n once per candidate, so a project's share is k sequential additions of
    1/n: the running sum of 1/n (cumsum adds in sequence) at k gives the same float.
    """
    n = len(rows) or 1
    counts = np.bincount(columns.project[rows], minlength=len(columns.projects))
    running = np.cumsum(np.full(int(counts.max(initial=1)), 1.0 / n))
    open_share = {
        columns.projects[p]: float(running[counts[p] - 1]) for p in np.flatnonzero(counts)
    }
    overdue = int(np.count_nonzero(columns.has_due[rows] & (columns.due_day[rows] < today)))
    return open_share, overdue / n


def _history_columns(
    columns: CandidateColumns, context: Context
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """served_count, ignored_count, hours_since_served of every row of `columns`."""
    n = len(columns)
    served, ignored = np.zeros(n), np.zeros(n)
    hours = np.full(n, NEVER_SERVED_HOURS)
    history = context.history
    if history is None or not history.items:
        return served, ignored, hours
    at: list[int] = []
    values: list[tuple[float, float, float]] = []
    for offset, part in columns.parts:
        rows_by_ref = part.rows_by_ref
        for ref, item in history.items.items():
            found = rows_by_ref.get(ref)
            if not found:
                continue
            since = NEVER_SERVED_HOURS
            if item.last_served is not None:
                since = (context.now - item.last_served).total_seconds() / 3600
                since = min(max(since, 0.0), NEVER_SERVED_HOURS)
            for i in found:
                at.append(i + offset)
                values.append((float(item.served), float(item.ignored), round(since, 3)))
    if at:
        index = np.array(at, dtype=int)
        found_values = np.array(values)
        served[index] = found_values[:, 0]
        ignored[index] = found_values[:, 1]
        hours[index] = found_values[:, 2]
    return served, ignored, hours


def _per_project(
    columns: CandidateColumns, context: Context, hour: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """project_time_fit, project_affinity, habit_project, habit_time of each project."""
    history, habits, local = context.history, context.habits, context.local
    time_fits, affinities, habit_projects, habit_times = [], [], [], []
    for name in columns.projects:
        time_fits.append(round(_finite(project_time_fit(history, name, hour)), 4))
        affinity = history.projects.get(name, 0.0) if history is not None else 0.0
        affinities.append(round(_finite(affinity), 4))
        lift = time_lift = 0.0
        if habits is not None:
            lift = habits.project_lift(name, context.open_share.get(name, 0.0))
            time_lift = habits.time_lift(name, local)
        habit_projects.append(round(lift, 4))
        habit_times.append(round(time_lift, 4))
    return (
        np.array(time_fits, dtype=float),
        np.array(affinities, dtype=float),
        np.array(habit_projects, dtype=float),
        np.array(habit_times, dtype=float),
    )


def feature_table(
    columns: CandidateColumns,
    rows: np.ndarray,
    candidates: list[Candidate],
    context: Context,
) -> FeatureTable:
    """The raw features of `candidates` (= the given rows of `columns`) in `context` (which
    carries with_habits' shares of these rows) as a FeatureTable with the keys of KEYS."""
    local = context.local
    today = local.date().toordinal()
    hour = local.hour + local.minute / 60
    history, habits = context.history, context.habits
    out = np.zeros((len(rows), len(KEYS)))

    def put(key: str, value: np.ndarray | float) -> None:
        out[:, _COLUMN[key]] = value

    has_due = columns.has_due[rows]
    to_due = columns.due_day[rows] - today
    put("is_overdue", has_due & (to_due < 0))
    put("due_today", has_due & (to_due == 0))
    put("due_soon", has_due & (to_due >= 1) & (to_due <= 3))
    put("days_overdue", np.where(has_due, np.maximum(0, -to_due), 0))
    now_us = (context.now - EPOCH) // MICROSECOND
    age = (now_us - columns.added_us[rows]) / 1e6 / 86400
    ages = np.where(columns.has_added[rows], rounded(np.maximum(0.0, age), 3), 0.0)
    put("task_age_days", ages)
    put("priority", columns.priority[rows])
    put("duration_min", columns.duration_min[rows])
    put("is_recurring", columns.recurring[rows])
    is_task = columns.is_task[rows]
    put("kind_task", is_task)
    put("kind_advice", columns.is_advice[rows] | columns.is_insight[rows])
    put("kind_insight", columns.is_insight[rows])
    put("kind_reminder", columns.is_reminder[rows])
    put("hour_of_day", float(local.hour))
    put("day_of_week", float(local.weekday()))
    served, ignored, hours = _history_columns(columns, context)
    put("served_count", served[rows])
    put("ignored_count", ignored[rows])
    put("hours_since_served", hours[rows])
    put("time_fit", round(_finite(time_fit(history, hour)), 4))
    usual = history.usual_hour if history is not None else None
    put("usual_hour", round(usual, 2) if usual is not None else -1.0)
    project = columns.project[rows]
    if columns.projects:
        time_fits, affinities, habit_projects, habit_times = _per_project(columns, context, hour)
        put("project_time_fit", time_fits[project])
        put("project_affinity", affinities[project])
        if habits is not None:
            put("habit_project", np.where(is_task, habit_projects[project], 0.0))
            put("habit_time", np.where(is_task, habit_times[project], 0.0))
            late = round(habits.late_lift(context.overdue_share), 4)
            put("habit_late", np.where(is_task, late, 0.0))
        if habits is not None and habits.choice is not None:
            terms = task_term_columns(
                columns.priority[rows],
                has_due,
                to_due,
                ages,
                columns.recurring[rows],
                is_month_end(local),
            )
            utility = habits.choice.utilities(columns.projects, project, terms, local)
            utility[~np.isfinite(utility)] = 0.0
            put("habit_choice", np.where(is_task, rounded(utility, 4), 0.0))
    return FeatureTable(candidates, KEYS, out)


IN_READING_ORDER = (
    "is_overdue",
    "due_today",
    "due_soon",
    "days_overdue",
    "task_age_days",
    "priority",
    "is_recurring",
    "kind_task",
    "kind_advice",
    "kind_insight",
    "kind_reminder",
    "hour_of_day",
    "day_of_week",
    "served_count",
    "ignored_count",
    "hours_since_served",
    "time_fit",
    "project_time_fit",
    "usual_hour",
    "project_affinity",
    "habit_project",
    "habit_time",
    "habit_late",
    "duration_min",
    "habit_choice",
)
"""KEYS in candidate_features' own order: the task's facts first, then the moment and history.
The served tip's features are logged in this order, and /data shows the first few of them."""


def row_mapping(table: FeatureTable, row: int) -> dict[str, float]:
    """One row of a table as the mapping candidate_features would have given, keys in its order
    (logged as the served tip's features)."""
    values = dict(zip(table.keys, table.values[row].tolist(), strict=True))
    ordered = {key: values.pop(key) for key in IN_READING_ORDER if key in values}
    return ordered | values


class TableMappings(Mapping[str, Mapping[str, float]]):
    """A table's rows by item_ref as mappings, built only when one is asked for (a policy that
    reads the table never asks)."""

    def __init__(self, table: FeatureTable) -> None:
        self._table = table

    def __getitem__(self, ref: str) -> Mapping[str, float]:
        row = self._table.row_of(ref)
        if row is None:
            raise KeyError(ref)
        return row_mapping(self._table, row)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(self._table.refs))

    def __len__(self) -> int:
        return len(set(self._table.refs))
