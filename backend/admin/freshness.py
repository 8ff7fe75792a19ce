"""Sampling the profile features' freshness every hour, and reading it back per day.

Fresh here means younger than the feature's TTL (the profile also counts a feature stale when
an event invalidated it since; that lives in Redis per person and is left out of the samples).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from backend.admin.freshness_tables import AdminFreshnessDay
from backend.profile.features import FEATURES
from backend.profile.tables import FeatureValue

PERIOD_DAYS = (7, 14, 30)


@dataclass(frozen=True)
class FeatureFreshness:
    """One feature's share of people with it fresh, per day (None: not sampled that day)."""

    feature: str
    ttl_s: int
    shares: list[float | None]


async def sample(now: datetime | None = None) -> int:
    """Take this hour's sample (once per hour); returns how many features were sampled."""
    now = now or datetime.now(UTC)
    today, hour = now.date(), now.hour
    done = await AdminFreshnessDay.exists().where(
        (AdminFreshnessDay.day == today) & (AdminFreshnessDay.last_hour >= hour)
    )
    if done:
        return 0
    for spec in FEATURES:
        named = FeatureValue.name == spec.name
        people = int(await FeatureValue.count().where(named))
        cut = now - timedelta(seconds=spec.ttl_s)
        fresh = int(await FeatureValue.count().where(named & (FeatureValue.computed_at > cut)))
        row = await AdminFreshnessDay.objects().get(
            (AdminFreshnessDay.day == today) & (AdminFreshnessDay.feature == spec.name)
        )
        if row is None:
            row = AdminFreshnessDay(day=today, feature=spec.name)
        row.samples += 1
        row.people_sum += people
        row.fresh_sum += fresh
        row.last_hour = hour
        await row.save()
    return len(FEATURES)


def window(days: int, now: datetime | None = None) -> list[date]:
    """The last `days` UTC days, oldest first."""
    today = (now or datetime.now(UTC)).date()
    return [today - timedelta(days=i) for i in range(days - 1, -1, -1)]


async def freshness(days: int, now: datetime | None = None) -> list[FeatureFreshness]:
    """Each feature's daily share of people with it fresh, over the last `days`."""
    span = window(days, now)
    rows = await AdminFreshnessDay.select().where(AdminFreshnessDay.day >= span[0])
    found = {(r["feature"], r["day"]): r for r in rows}
    out = []
    for spec in FEATURES:
        shares: list[float | None] = []
        for day in span:
            r = found.get((spec.name, day))
            shares.append(
                round(r["fresh_sum"] / r["people_sum"], 4) if r and r["people_sum"] else None
            )
        out.append(FeatureFreshness(spec.name, spec.ttl_s, shares))
    return out
