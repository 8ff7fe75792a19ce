"""Gaps in the features logged with each decision, per person and UTC day (for the console's
data-quality rollup; the admin domain never reads these tables).

A feature is missing from a decision when it is absent, null, not a finite number, or at its
documented "unknown" value (`usual_hour` = -1: no history to learn the usual hour from).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from backend.contracts.candidate import Candidate
from backend.recommender.activity import PAGE, day_bounds
from backend.recommender.features import Context, candidate_features
from backend.recommender.tables import ServedTip

UNKNOWN_VALUES = {"usual_hour": -1.0}
"""Features whose value says "not known" rather than a measurement."""


@dataclass
class FeatureGaps:
    """One person's decisions of one day: how many, answered, and missing features."""

    user_id: str
    served: int = 0
    reacted: int = 0
    incomplete: int = 0
    """Decisions with at least one feature missing."""
    missing: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)


def feature_names() -> set[str]:
    """Every feature a decision logs now (what a logged decision is checked against)."""
    probe = Candidate(item_ref="probe:1", source="probe", kind="task", content="probe")
    return set(candidate_features(probe, Context(now=datetime.now(UTC))))


def missing_features(features: object, expected: set[str]) -> set[str]:
    """The expected features a logged decision lacks."""
    values = features if isinstance(features, dict) else {}
    return {name for name in expected if not _measured(name, values.get(name))}


def _measured(name: str, value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return math.isfinite(value) and UNKNOWN_VALUES.get(name) != float(value)


@dataclass
class WriterDay:
    """Tips of one kind and writer served on one day (model "" for source tasks)."""

    kind: str
    model: str
    prompt_version: str
    served: int = 0
    reacted: int = 0
    reward_sum: float = 0.0


@dataclass
class DayQuality:
    """One UTC day of the decision log: feature gaps per person, rewards per writer."""

    gaps: list[FeatureGaps]
    writers: list[WriterDay]


async def day_quality_on(day: date, expected: set[str]) -> DayQuality:
    """Every decision served on one UTC day: feature gaps per person, rewards per writer."""
    start, end = day_bounds(day)
    found: dict[str, FeatureGaps] = {}
    writers: dict[tuple[str, str, str], WriterDay] = {}
    offset = 0
    while True:
        rows = (
            await ServedTip.select(
                ServedTip.user,
                ServedTip.features,
                ServedTip.reacted_at,
                ServedTip.kind,
                ServedTip.detail,
                ServedTip.reward,
            )
            .where((ServedTip.served_at >= start) & (ServedTip.served_at < end))
            .order_by(ServedTip.id)
            .limit(PAGE)
            .offset(offset)
            .output(load_json=True)
        )
        for r in rows:
            user = str(r["user"])
            gaps = found.setdefault(user, FeatureGaps(user_id=user))
            gaps.served += 1
            gaps.reacted += r["reacted_at"] is not None
            features = r["features"] if isinstance(r["features"], dict) else {}
            gaps.seen |= set(features)
            absent = missing_features(features, expected | set(features))
            gaps.incomplete += bool(absent)
            for name in absent:
                gaps.missing[name] = gaps.missing.get(name, 0) + 1
            detail = r["detail"] if isinstance(r["detail"], dict) else {}
            key = (
                str(r["kind"]),
                str(detail.get("model") or ""),
                str(detail.get("prompt_version") or ""),
            )
            writer = writers.setdefault(key, WriterDay(*key))
            writer.served += 1
            if r["reward"] is not None:
                writer.reacted += 1
                writer.reward_sum += float(r["reward"])
        if len(rows) < PAGE:
            return DayQuality(list(found.values()), list(writers.values()))
        offset += PAGE
