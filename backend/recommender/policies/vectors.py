"""Feature vectors of each policy, built from the raw features of features.py, and their scaling.

Every component is bounded (|x| ≤ 2), so no input — however extreme, even NaN or ±inf in a raw
feature — can produce a NaN or blow up a rank-one update:

    raw column      non-finite → 0 (NaN) or ±1e6 (±inf) first, then:
    bias            1
    is_overdue      clip(is_overdue, 0, 1)                                       ∈ [0, 1]
    task_age        min(log1p(max(task_age_days, 0)) / log1p(365), 2)           ∈ [0, 2]
                    (a day-old task ≈ 0.12, a month ≈ 0.58, a year = 1; log: the first weeks
                    matter more than the difference between 300 and 400 days)
    priority        (clip(priority, 1, 4) − 1) / 3  (Todoist 1..4, 4 = urgent)  ∈ [0, 1]
    hour_of_day     clip(hour_of_day, 0, 23) / 23                                ∈ [0, 1]
    dow_sin/cos     sin / cos(2π · clip(day_of_week, 0, 6) / 7)  (Monday = 0)   ∈ [−1, 1]

Seed vectors (faithful to the seed's features; note that context-only components — bias, hour,
weekday — are equal for every candidate of one decision, so they shift all scores alike and
only matter through the confidence width and the learned intercept):

    SEED5 (linucb-v1, d = 5): bias, is_overdue, task_age, priority, hour_of_day
    SEED7 (egreedy-v1, lints-v1, d = 7): SEED5 + dow_sin, dow_cos

OO (oo-v1, d = 19), candidate-specific wherever possible:

    bias, kind_advice (advice or insight), kind_reminder, is_overdue,
    overdue_days     min(log1p(days_overdue) / log1p(30), 1.5)                  ∈ [0, 1.5]
    due_today, due_soon (due in 1–3 days), priority, task_age, is_recurring,
    task_now         time_fit × is_task: now is (or is not) when the person usually
                     finishes things, which favours (or disfavours) tasks over advice ∈ [−1, 1]
    project_time     project_time_fit: now matches when this project's items get done ∈ [−1, 1]
    fatigue          1 − exp(−ignored_count / 2): repeated nudges wear off       ∈ [0, 1)
    just_served      exp(−hours_since_served / 24): shown again too soon         ∈ [0, 1]
    project_affinity shrunk mean outcome of the project's recent tips            ∈ [−1, 1]
    habit_project    the person finishes this project more/less than its share (habits.py)
                                                                                 ∈ [−2, 2]
    habit_time       this project's completions happen at times like now (habits.py)
                                                                                 ∈ [−2, 2]
    habit_late       is_overdue × how much more than its share they finish late work
                                                                                 ∈ [−2, 2]
    kind_insight     an insight (on top of kind_advice, which both written kinds set), so the
                     four kinds are told apart: task = none, advice = kind_advice,
                     insight = kind_advice + kind_insight, reminder = kind_reminder   ∈ [0, 1]
                     (last, so the older columns keep their places)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from operator import itemgetter

import numpy as np

from backend.recommender.feature_table import FeatureTable
from backend.recommender.features import NEVER_SERVED_HOURS

Rows = Sequence[Mapping[str, float]]

BOUND = 2.0
"""Every component lies in [−BOUND, BOUND] (each is clipped to its own range above)."""

SEED5_NAMES = ("bias", "is_overdue", "task_age", "priority", "hour_of_day")
SEED7_NAMES = (*SEED5_NAMES, "dow_sin", "dow_cos")
OO_NAMES = (
    "bias",
    "kind_advice",
    "kind_reminder",
    "is_overdue",
    "overdue_days",
    "due_today",
    "due_soon",
    "priority",
    "task_age",
    "is_recurring",
    "task_now",
    "project_time",
    "fatigue",
    "just_served",
    "project_affinity",
    "habit_project",
    "habit_time",
    "habit_late",
    "kind_insight",
)


def raw_matrix(rows: Rows, keys: Sequence[tuple[str, float]]) -> np.ndarray:
    """Raw features as an n × len(keys) matrix (default when absent); NaN → 0, ±inf → ±1e6.

    Built in one go and transformed column-wise in place: with a handful of candidates the cost
    of a policy is the number of numpy calls, not arithmetic.
    """
    n, width = len(rows), len(keys)
    try:
        # Fast path (every key present, as the service logs them): one C call per row.
        values = chain.from_iterable(map(itemgetter(*(k for k, _ in keys)), rows))
        M = np.fromiter(values, dtype=float, count=n * width).reshape(n, width)
    except (KeyError, TypeError, ValueError):
        M = np.array([[r.get(k, d) for k, d in keys] for r in rows], dtype=float)
        M = M.reshape(n, width)
    return _finite(M)


def _finite(M: np.ndarray) -> np.ndarray:
    """In place: NaN → 0, ±inf (and anything beyond) → ±1e6."""
    np.minimum(np.maximum(M, -1e6, out=M), 1e6, out=M)
    M[np.isnan(M)] = 0.0
    return M


def _bound(M: np.ndarray, low: np.ndarray, high: np.ndarray) -> None:
    np.minimum(np.maximum(M, low, out=M), high, out=M)


_LOG_365 = float(np.log1p(365.0))
_LOG_30 = float(np.log1p(30.0))

_SEED_KEYS = (
    ("is_overdue", 0.0),
    ("task_age_days", 0.0),
    ("priority", 1.0),
    ("hour_of_day", 0.0),
    ("day_of_week", 0.0),
)
_SEED_LOW = np.array([0.0, 0.0, 0.0, 0.0, 0.0])
_SEED_HIGH = np.array([1.0, 2.0, 1.0, 1.0, 6.0])


def _seed(rows: Rows, weekday: bool) -> np.ndarray:
    return _seed_scaled(raw_matrix(rows, _SEED_KEYS), weekday)


def _seed_scaled(M: np.ndarray, weekday: bool) -> np.ndarray:
    """M: is_overdue, age, priority, hour, weekday (raw, finite)."""
    M[:, 1] = np.log1p(np.maximum(M[:, 1], 0.0)) / _LOG_365
    M[:, 2] = (M[:, 2] - 1.0) / 3.0
    M[:, 3] /= 23.0
    _bound(M, _SEED_LOW, _SEED_HIGH)
    X = np.empty((M.shape[0], 7 if weekday else 5))
    X[:, 0] = 1.0
    X[:, 1:5] = M[:, :4]
    if weekday:
        angle = M[:, 4] * (2 * np.pi / 7.0)
        X[:, 5] = np.sin(angle)
        X[:, 6] = np.cos(angle)
    return X


def seed5(rows: Rows) -> np.ndarray:
    """The SEED5 matrix (n × 5)."""
    return _seed(rows, weekday=False)


def seed7(rows: Rows) -> np.ndarray:
    """The SEED7 matrix (n × 7)."""
    return _seed(rows, weekday=True)


def seed_table(table: FeatureTable, weekday: bool) -> np.ndarray:
    """The SEED7 (weekday) or SEED5 matrix of a feature table's rows: the same numbers as
    `seed7`/`seed5` of its mappings, scaled once per table for every policy that reads it."""
    name = "seed7" if weekday else "seed5"
    return table.derived(name, lambda t: _seed_scaled(_finite(t.columns(_SEED_KEYS)), weekday))


# In the order of OO_NAMES[1:], before the transforms that turn a raw value into a component.
_OO_KEYS = (
    ("kind_advice", 0.0),
    ("kind_reminder", 0.0),
    ("is_overdue", 0.0),
    ("days_overdue", 0.0),
    ("due_today", 0.0),
    ("due_soon", 0.0),
    ("priority", 1.0),
    ("task_age_days", 0.0),
    ("is_recurring", 0.0),
    ("time_fit", 0.0),
    ("project_time_fit", 0.0),
    ("ignored_count", 0.0),
    ("hours_since_served", NEVER_SERVED_HOURS),
    ("project_affinity", 0.0),
    ("habit_project", 0.0),
    ("habit_time", 0.0),
    ("habit_late", 0.0),
    ("kind_insight", 0.0),
)
_OO_LOW = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 0, 0, -1, -2, -2, -2, 0], dtype=float)
_OO_HIGH = np.array([1, 1, 1, 1.5, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 2, 2, 1], dtype=float)


def oo(rows: Rows) -> np.ndarray:
    """The OO matrix (n × 19)."""
    return _oo_scaled(raw_matrix(rows, _OO_KEYS))


def oo_table(table: FeatureTable) -> np.ndarray:
    """The OO matrix of a feature table's rows: the same numbers as `oo` of its mappings."""
    return _oo_scaled(_finite(table.columns(_OO_KEYS)))


def _oo_scaled(M: np.ndarray) -> np.ndarray:
    M[:, 3] = np.log1p(np.maximum(M[:, 3], 0.0)) / _LOG_30  # overdue_days
    M[:, 6] = (M[:, 6] - 1.0) / 3.0  # priority
    M[:, 7] = np.log1p(np.maximum(M[:, 7], 0.0)) / _LOG_365  # task_age
    M[:, 11] = -np.expm1(-np.maximum(M[:, 11], 0.0) / 2.0)  # fatigue = 1 − e^(−n/2)
    M[:, 12] = np.exp(-np.maximum(M[:, 12], 0.0) / 24.0)  # just_served
    _bound(M, _OO_LOW, _OO_HIGH)
    M[:, 9] *= np.maximum(1.0 - M[:, 0] - M[:, 1], 0.0)  # task_now = time_fit × is_task
    M[:, 16] *= M[:, 2]  # habit_late = is_overdue × the person's late-work lift
    X = np.empty((M.shape[0], len(OO_NAMES)))
    X[:, 0] = 1.0
    X[:, 1:] = M
    return X


OO4_NAMES = (*OO_NAMES, "task_length")
"""oo-v4 (d = 20): OO plus the candidate's length, when its source gives one (Todoist's
optional duration), which OO leaves out —

    task_length   log2(minutes / 15) / 3: 2 min ≈ −1, 15 min 0, 2 h +1, 0 when unknown
                                                                                 ∈ [−1, 1.5]
"""

_LENGTH_KEY = (("duration_min", 0.0),)


def oo4(rows: Rows) -> np.ndarray:
    """The OO4 matrix (n × 20)."""
    return _with_length(oo(rows), raw_matrix(rows, _LENGTH_KEY)[:, 0])


def oo4_table(table: FeatureTable) -> np.ndarray:
    """The OO4 matrix of a feature table's rows (its OO part is the table's shared one)."""
    return _with_length(table.derived("oo", oo_table), _finite(table.columns(_LENGTH_KEY))[:, 0])


def _with_length(base: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    X = np.empty((base.shape[0], base.shape[1] + 1))
    X[:, :-1] = base
    length = np.zeros_like(minutes)
    known = minutes > 0
    length[known] = np.log2(minutes[known] / 15.0) / 3.0
    X[:, -1] = np.clip(length, -1.0, 1.5)
    return X


OO5_NAMES = (*OO4_NAMES, "habit_choice")
"""oo-v5 (d = 21): OO4 plus the person's own choice model (history_fit.py) —

    habit_choice  the person's fitted utility of finishing this task now (logit units) / 2,
                  0 without a fitted history or for a written kind              ∈ [−2, 2]
"""

_CHOICE_KEY = (("habit_choice", 0.0),)


def oo5(rows: Rows) -> np.ndarray:
    """The OO5 matrix (n × 21)."""
    return _with_choice(oo4(rows), raw_matrix(rows, _CHOICE_KEY)[:, 0])


def oo5_table(table: FeatureTable) -> np.ndarray:
    """The OO5 matrix of a feature table's rows (its OO4 part is the table's shared one)."""
    return _with_choice(table.derived("oo4", oo4_table), _finite(table.columns(_CHOICE_KEY))[:, 0])


def _with_choice(base: np.ndarray, utility: np.ndarray) -> np.ndarray:
    X = np.empty((base.shape[0], base.shape[1] + 1))
    X[:, :-1] = base
    X[:, -1] = np.clip(utility / 2.0, -BOUND, BOUND)
    return X
