"""The data quality report: feature gaps per day, stale tokens and sync failures per source,
stale or refused candidates, agent outputs past their TTL, and who has thin signal coverage
per day (read from the quality rollups and small live tables, never from the decision log)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from piccolo.query import OrderByRaw
from piccolo.query.functions.aggregate import Sum

from backend.admin.quality_tables import AdminFeatureDay, AdminSignalDay
from backend.integrations.quality import SourceHealth, source_health
from backend.llm.quality import CandidateHealth, candidate_health
from backend.profile.quality import AgentFreshness, agent_freshness

PERIOD_DAYS = (7, 14, 30)
HEATMAP_PEOPLE = 30
LOW_COVERAGE = 0.5
"""Cells below this share of signals are red (and link to the person)."""


class QualityError(Exception):
    """Bad input (a period we do not offer)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FeatureGapRow:
    """One feature: its missing rate per day (None: no decisions that day) and overall."""

    feature: str
    rates: list[float | None]
    missing: int
    decisions: int

    @property
    def rate(self) -> float | None:
        """Missing over the whole period."""
        return round(self.missing / self.decisions, 4) if self.decisions else None


@dataclass(frozen=True)
class CoverageRow:
    """One person's signal coverage per day (None: no signal at all that day)."""

    user_id: str
    email: str
    cells: list[float | None]
    mean: float


@dataclass(frozen=True)
class QualityReport:
    """Everything the data quality page shows."""

    days: list[date]
    features: list[FeatureGapRow]
    sources: list[SourceHealth]
    candidates: list[CandidateHealth]
    agents: list[AgentFreshness]
    coverage: list[CoverageRow]


def _window(days: int, now: datetime | None) -> list[date]:
    if days not in PERIOD_DAYS:
        raise QualityError(f"Choose a period of {', '.join(map(str, PERIOD_DAYS))} days.")
    today = (now or datetime.now(UTC)).date()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


async def feature_gaps(days: list[date]) -> list[FeatureGapRow]:
    """Missing rate per feature and day, the most missing first."""
    rows = await AdminFeatureDay.select().where(AdminFeatureDay.day >= days[0])
    index = {d: i for i, d in enumerate(days)}
    by_feature: dict[str, list[tuple[int, int, int]]] = {}
    for r in rows:
        if r["day"] in index:
            by_feature.setdefault(r["feature"], []).append(
                (index[r["day"]], int(r["missing"]), int(r["decisions"]))
            )
    out = []
    for feature, cells in by_feature.items():
        rates: list[float | None] = [None] * len(days)
        for i, missing, decisions in cells:
            rates[i] = round(missing / decisions, 4) if decisions else None
        out.append(
            FeatureGapRow(
                feature=feature,
                rates=rates,
                missing=sum(c[1] for c in cells),
                decisions=sum(c[2] for c in cells),
            )
        )
    return sorted(out, key=lambda f: (-(f.rate or 0.0), f.feature))


async def coverage_heatmap(
    days: list[date], people: int = HEATMAP_PEOPLE, only: Sequence[str] = ()
) -> list[CoverageRow]:
    """The live people with the thinnest signal coverage over the days (absent days count as
    no coverage), each with their coverage per day; `only`: just these people."""
    live = AdminSignalDay.user.deleted_at.is_null() & (AdminSignalDay.day >= days[0])
    if only:
        live = live & AdminSignalDay.user.is_in(list(only))
    worst = (
        await AdminSignalDay.select(
            AdminSignalDay.user, Sum(AdminSignalDay.coverage, alias="total")
        )
        .where(live)
        .group_by(AdminSignalDay.user)
        .order_by(OrderByRaw("total"), ascending=True)
        .order_by(AdminSignalDay.user)
        .limit(people)
    )
    ids = [str(r["user"]) for r in worst]
    if not ids:
        return []
    cells = await AdminSignalDay.select(
        AdminSignalDay.user,
        AdminSignalDay.user.email.as_alias("email"),
        AdminSignalDay.day,
        AdminSignalDay.coverage,
    ).where(live & AdminSignalDay.user.is_in(ids))
    index = {d: i for i, d in enumerate(days)}
    rows: dict[str, CoverageRow] = {}
    for c in cells:
        uid = str(c["user"])
        row = rows.setdefault(uid, CoverageRow(uid, c["email"] or "", [None] * len(days), 0.0))
        if c["day"] in index:
            row.cells[index[c["day"]]] = float(c["coverage"])
    return [
        CoverageRow(
            r.user_id, r.email, r.cells, round(sum(x or 0.0 for x in r.cells) / len(days), 4)
        )
        for r in (rows[u] for u in ids if u in rows)
    ]


async def report(
    days: int = 14, now: datetime | None = None, people: Sequence[str] = ()
) -> QualityReport:
    """The whole report for the last `days` UTC days (the heatmap of `people` when given)."""
    window = _window(days, now)
    # Independent reads: run side by side (each on its own pooled connection on PostgreSQL).
    features, sources, candidates, agents, coverage = await asyncio.gather(
        feature_gaps(window),
        source_health(),
        candidate_health(now),
        agent_freshness(now),
        coverage_heatmap(window, only=[p for p in people if _is_uuid(p)][:HEATMAP_PEOPLE]),
    )
    return QualityReport(window, features, sources, candidates, agents, coverage)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
