"""`dataQuality`: the data quality report for admins and their tools."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from datetime import date

import strawberry
from graphql import GraphQLError

from backend.admin import quality as quality_service
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin


@strawberry.type
class FeatureGap:
    """One decision feature: missing rate per day (null: no decisions) and over the period."""

    feature: str
    rates: list[float | None]
    missing: int
    decisions: int
    rate: float | None


@strawberry.type
class SourceQuality:
    """One source's live connections: stale tokens (needing a reconnect) and failing syncs."""

    source: str
    connections: int
    needs_reconnect: int
    failing: int
    stale_token_rate: float | None
    sync_failure_rate: float | None


@strawberry.type
class CandidateQuality:
    """Stored tip candidates of one writer: past their expiry (stale) or blocked (refused)."""

    model: str
    candidates: int
    stale: int
    refused: int


@strawberry.type
class AgentQuality:
    """One agent's stored outputs and how many are past their TTL."""

    agent_id: str
    outputs: int
    expired: int


@strawberry.type
class PersonCoverage:
    """One person's signal coverage (0..1) per day; null: no signal at all that day."""

    user_id: strawberry.ID
    email: str
    cells: list[float | None]
    mean: float


@strawberry.type
class DataQuality:
    """The data quality report of the last `days` UTC days."""

    days: list[date]
    features: list[FeatureGap]
    sources: list[SourceQuality]
    candidates: list[CandidateQuality]
    agents: list[AgentQuality]
    coverage: list[PersonCoverage] = strawberry.field(
        description=f"The {quality_service.HEATMAP_PEOPLE} people with the thinnest coverage "
        "(signals: a tip served, a reaction, complete decision features, completions)."
    )


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def as_graphql(r: quality_service.QualityReport) -> DataQuality:
    """From the service's report."""
    return DataQuality(
        days=r.days,
        features=[
            FeatureGap(
                feature=f.feature,
                rates=f.rates,
                missing=f.missing,
                decisions=f.decisions,
                rate=f.rate,
            )
            for f in r.features
        ],
        sources=[
            SourceQuality(
                source=s.source,
                connections=s.connections,
                needs_reconnect=s.needs_reconnect,
                failing=s.failing,
                stale_token_rate=_rate(s.needs_reconnect, s.connections),
                sync_failure_rate=_rate(s.failing, s.connections),
            )
            for s in r.sources
        ],
        candidates=[
            CandidateQuality(
                model=c.model, candidates=c.candidates, stale=c.stale, refused=c.refused
            )
            for c in r.candidates
        ],
        agents=[
            AgentQuality(agent_id=a.agent_id, outputs=a.outputs, expired=a.expired)
            for a in r.agents
        ],
        coverage=[
            PersonCoverage(
                user_id=strawberry.ID(c.user_id), email=c.email, cells=c.cells, mean=c.mean
            )
            for c in r.coverage
        ],
    )


@strawberry.type
class QualityQuery:
    """Admin: data quality."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Feature gaps per day, stale tokens and sync failures per source, stale or "
        "refused candidates, agent outputs past their TTL, per-person signal coverage — the "
        "thinnest, or `userIds`' "
        f"(days: one of {', '.join(map(str, quality_service.PERIOD_DAYS))}).",
    )
    async def data_quality(
        self, info: Info, days: int = 14, user_ids: list[strawberry.ID] | None = None
    ) -> DataQuality:
        try:
            people = [str(u) for u in user_ids or []]
            return as_graphql(await quality_service.report(days, people=people))
        except quality_service.QualityError as err:
            raise GraphQLError(
                err.message, extensions={"code": "BAD_USER_INPUT", "field": "days"}
            ) from None
