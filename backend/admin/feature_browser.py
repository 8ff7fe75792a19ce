"""The feature browser: what a person's decisions were scored with over time, grouped into
feature sets, the difference between two decisions, and the profile features' freshness.

The decision log keeps, per decision, the raw features of the served candidate (and of every
candidate, for replay); the profile keeps only the latest value of each profile feature with the
time it was computed, so its freshness is shown as of now — there is no history of it to chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backend.admin.people import is_uuid
from backend.contracts.errors import Refused
from backend.profile import service as profile
from backend.recommender.decision_browser import (
    DecisionDetail,
    FeaturePoint,
    decision,
    feature_history,
)

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "due": ("is_overdue", "due_today", "due_soon", "days_overdue"),
    "task": (
        "priority",
        "task_age_days",
        "is_recurring",
        "kind_task",
        "kind_advice",
        "kind_insight",
        "kind_reminder",
        "duration_min",
    ),
    "time": ("hour_of_day", "day_of_week", "time_fit", "project_time_fit", "usual_hour"),
    "history": ("served_count", "ignored_count", "hours_since_served", "project_affinity"),
    "habits": ("habit_project", "habit_time", "habit_late", "habit_choice"),
}
"""Named groups of the candidate features (backend/recommender/features.py); "all" is every
logged key, including any this list does not know yet."""
MAX_WINDOW = timedelta(days=31)


class FeatureBrowserError(Refused):
    """A refused feature-browser request (unknown set, bad window, unknown decision)."""


@dataclass(frozen=True)
class FeatureSeries:
    """The chosen features of a person's decisions in a window, oldest first."""

    feature_set: str
    keys: list[str]
    points: list[FeaturePoint]


def keys_of(feature_set: str, points: list[FeaturePoint]) -> list[str]:
    """The set's keys present in the log (every logged key for "all")."""
    logged = sorted({k for p in points for k in p.features})
    if feature_set == "all":
        return logged
    wanted = FEATURE_SETS.get(feature_set)
    if wanted is None:
        names = ", ".join(["all", *FEATURE_SETS])
        raise FeatureBrowserError("INVALID_FEATURE_SET", f"featureSet is one of {names}.", "set")
    return [k for k in wanted if k in logged] or list(wanted)


async def series(
    user_id: str,
    feature_set: str,
    since: datetime | None,
    until: datetime | None,
) -> FeatureSeries:
    """The features sent to scoring for the person's served tips in the window (default: the
    last 7 days; at most 31)."""
    if not is_uuid(user_id):
        raise FeatureBrowserError("INVALID_FILTER", "person is a person's id.", "person")
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=7)
    if since >= until:
        raise FeatureBrowserError("INVALID_FILTER", "from must be before to.", "from")
    if until - since > MAX_WINDOW:
        raise FeatureBrowserError("WINDOW_TOO_LONG", "The window is at most 31 days.", "from")
    points = await feature_history(user_id, since, until)
    return FeatureSeries(feature_set, keys_of(feature_set, points), points)


@dataclass(frozen=True)
class FeatureChange:
    """One feature in two decisions: both values and by how much it moved (None: missing)."""

    name: str
    before: float | None
    after: float | None

    @property
    def change(self) -> float | None:
        """after − before (None when either is missing)."""
        if self.before is None or self.after is None:
            return None
        return round(self.after - self.before, 6)

    @property
    def changed(self) -> bool:
        """Whether the value moved (or appeared, or went away)."""
        return self.before != self.after


@dataclass(frozen=True)
class DecisionDiff:
    """Two decisions side by side: what the served candidates were scored with."""

    before: DecisionDetail
    after: DecisionDetail
    changes: list[FeatureChange]

    @property
    def changed(self) -> list[FeatureChange]:
        """Only the features that moved, biggest move first."""
        moved = [c for c in self.changes if c.changed]
        return sorted(moved, key=lambda c: -abs(c.change) if c.change is not None else -1e18)


def diff_features(before: dict[str, float], after: dict[str, float]) -> list[FeatureChange]:
    """Every feature of either decision, by name."""
    return [
        FeatureChange(name, before.get(name), after.get(name))
        for name in sorted(set(before) | set(after))
    ]


async def diff(before_id: str, after_id: str) -> DecisionDiff:
    """The feature diff between two decisions (refused when either is unknown)."""
    a, b = await decision(before_id), await decision(after_id)
    if a is None:
        raise FeatureBrowserError("NOT_FOUND", "No such decision (the first).", "a")
    if b is None:
        raise FeatureBrowserError("NOT_FOUND", "No such decision (the second).", "b")
    return DecisionDiff(a, b, diff_features(a.summary.features, b.summary.features))


async def profile_freshness(user_id: str) -> list[profile.FeatureView]:
    """The person's stored profile features with their age and freshness (as of now)."""
    return await profile.read_features(user_id)
