"""Profile features: a registry in code, stored values, and freshness you can see.

Reading a feature never computes it. A value is fresh while its age is below its TTL and no
event named in its `invalidated_by` happened since it was computed (the event bus stamps each
person's latest event per subject). Stale values are shown as stale until the refresh cron or
an admin's "rebuild profile" recomputes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agents.stats import median
from agents.types import History, JsonValue
from backend.events.bus import last_event_times_many
from backend.profile.history import histories
from backend.profile.tables import FeatureValue, pack, unpack
from backend.profile.tip_history import served_counts_since

FEEDBACK = "signals.tip.feedback"
SERVED = "signals.tip.served"
COMPLETED = "signals.item.completed"


@dataclass(frozen=True)
class FeatureInput:
    """What feature functions read."""

    history: History
    served_30d: int


@dataclass(frozen=True)
class FeatureSpec:
    """A profile feature: what it is, how long it stays fresh, what makes it stale."""

    name: str
    description: str
    ttl_s: int
    invalidated_by: tuple[str, ...]
    compute: Callable[[FeatureInput], JsonValue]


def _recent(h: History, days: int, source: str | None = None) -> list[str]:
    start = h.now - timedelta(days=days)
    return [e.kind for e in h.events if e.at >= start and (source is None or e.source == source)]


def _done_7d(f: FeatureInput) -> JsonValue:
    return _recent(f.history, 7).count("done")


def _reaction_rate(f: FeatureInput) -> JsonValue:
    reactions = len(_recent(f.history, 30, "feedback"))
    return round(min(1.0, reactions / f.served_30d), 3) if f.served_30d else None


def _done_share(f: FeatureInput) -> JsonValue:
    kinds = _recent(f.history, 30, "feedback")
    return round(kinds.count("done") / len(kinds), 3) if kinds else None


def _usual_hour(f: FeatureInput) -> JsonValue:
    hours = [f.history.local(e.at).hour for e in f.history.done]
    return median(hours) if hours else None


def _last_active(f: FeatureInput) -> JsonValue:
    return f.history.events[-1].at.isoformat() if f.history.events else None


def _events_90d(f: FeatureInput) -> JsonValue:
    return len(f.history.events)


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "done_last_7d",
        "Tasks completed in the last 7 days.",
        3600,
        (FEEDBACK, COMPLETED),
        _done_7d,
    ),
    FeatureSpec(
        "reaction_rate_30d",
        "Share of tips served in the last 30 days that got a reaction.",
        6 * 3600,
        (FEEDBACK, SERVED),
        _reaction_rate,
    ),
    FeatureSpec(
        "done_share_30d",
        "Share of reactions in the last 30 days that were done (not snooze or dismiss).",
        6 * 3600,
        (FEEDBACK,),
        _done_share,
    ),
    FeatureSpec(
        "usual_done_hour",
        "Median local hour of completions over 90 days.",
        24 * 3600,
        (COMPLETED,),
        _usual_hour,
    ),
    FeatureSpec(
        "last_active_at",
        "Time of the latest reaction or completion.",
        15 * 60,
        (FEEDBACK, COMPLETED),
        _last_active,
    ),
    FeatureSpec(
        "history_events_90d",
        "Events agents can learn from (reactions and completions, 90 days).",
        3600,
        (FEEDBACK, COMPLETED),
        _events_90d,
    ),
)
_BY_NAME = {f.name: f for f in FEATURES}


@dataclass(frozen=True)
class FeatureView:
    """A feature as read: never computed on read, so age and freshness are honest."""

    name: str
    description: str
    ttl_s: int
    invalidated_by: tuple[str, ...]
    value: JsonValue
    computed_at: datetime | None
    age_s: float | None
    invalidated: bool

    @property
    def fresh(self) -> bool:
        """Computed, younger than its TTL and not invalidated since."""
        return self.age_s is not None and self.age_s < self.ttl_s and not self.invalidated


async def read_features(user_id: str, now: datetime | None = None) -> list[FeatureView]:
    """Every registered feature of the person, stored value or none (no compute here)."""
    return (await read_features_many([user_id], now))[user_id]


async def read_features_many(
    user_ids: Sequence[str], now: datetime | None = None
) -> dict[str, list[FeatureView]]:
    """`read_features` of several people: one query and one Redis round trip."""
    now = now or datetime.now(UTC)
    rows: dict[str, dict[str, dict[str, Any]]] = {uid: {} for uid in user_ids}
    if user_ids:
        for r in (
            await FeatureValue.select(
                FeatureValue.user, FeatureValue.name, FeatureValue.value, FeatureValue.computed_at
            )
            .where(FeatureValue.user.is_in(list(user_ids)))
            .output(load_json=True)
        ):
            rows.setdefault(str(r["user"]), {})[r["name"]] = r
    last_by_user = await last_event_times_many(list(user_ids))
    return {uid: _views(rows[uid], last_by_user[uid], now) for uid in user_ids}


def _views(
    rows: dict[str, dict[str, Any]], last: dict[str, datetime], now: datetime
) -> list[FeatureView]:
    views: list[FeatureView] = []
    for spec in FEATURES:
        row = rows.get(spec.name)
        at: datetime | None = row["computed_at"] if row else None
        views.append(
            FeatureView(
                name=spec.name,
                description=spec.description,
                ttl_s=spec.ttl_s,
                invalidated_by=spec.invalidated_by,
                value=unpack(row["value"]) if row else None,
                computed_at=at,
                age_s=(now - at).total_seconds() if at else None,
                invalidated=at is not None
                and any(s in last and last[s] > at for s in spec.invalidated_by),
            )
        )
    return views


async def compute_features(
    user_ids: Sequence[str], names: Sequence[str] | None = None
) -> dict[str, dict[str, JsonValue]]:
    """Compute and store features (all, or `names`) for these people; returns the values."""
    specs = [_BY_NAME[n] for n in names] if names is not None else list(FEATURES)
    if not specs or not user_ids:
        return {}
    now = datetime.now(UTC)
    found = await histories(user_ids, now)
    served = await served_counts_since(list(found), now - timedelta(days=30))
    values: dict[str, dict[str, JsonValue]] = {}
    rows: list[FeatureValue] = []
    for uid, history in found.items():
        given = FeatureInput(history, served.get(uid, 0))
        values[uid] = {spec.name: spec.compute(given) for spec in specs}
        rows.extend(
            FeatureValue(user=uid, name=name, value=pack(value), computed_at=now)
            for name, value in values[uid].items()
        )
    if rows:
        await FeatureValue.insert(*rows).on_conflict(
            target=(FeatureValue.user, FeatureValue.name),
            action="DO UPDATE",
            values=[FeatureValue.value, FeatureValue.computed_at],
        )
    return values


async def refresh_stale(user_ids: Sequence[str]) -> int:
    """Recompute the features that are missing, expired or invalidated; returns how many."""
    by_names: dict[tuple[str, ...], list[str]] = {}
    for uid, views in (await read_features_many(user_ids)).items():
        names = tuple(v.name for v in views if not v.fresh)
        if names:
            by_names.setdefault(names, []).append(uid)
    for names, uids in by_names.items():
        await compute_features(uids, list(names))
    return sum(len(names) * len(uids) for names, uids in by_names.items())
