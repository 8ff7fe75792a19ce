"""Admin GraphQL of the feature browser: `decisionFeatures` (what scoring saw for a person's
served tips over time) and `decisionDiff` (what changed between two decisions)."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from backend.admin import feature_browser
from backend.admin import freshness as freshness_service
from backend.admin.decisions_graphql import LoggedDecision, bad_input, detail_of
from backend.contracts.errors import Refused
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin


@strawberry.type
class FeaturePoint:
    """A decision's values of the chosen keys (same order as `keys`; null: not logged)."""

    decision_id: strawberry.ID
    served_at: datetime
    values: list[float | None]


@strawberry.type
class FeatureHistory:
    """The features sent to scoring for a person's served tips, oldest first."""

    feature_set: str
    keys: list[str]
    points: list[FeaturePoint]


@strawberry.type
class FeatureChange:
    """One feature in two decisions and its change (after − before)."""

    name: str
    before: float | None
    after: float | None
    change: float | None
    changed: bool


@strawberry.type
class DecisionDiff:
    """Two decisions and every feature of their served candidates side by side."""

    before: LoggedDecision
    after: LoggedDecision
    changes: list[FeatureChange]


@strawberry.type
class FeatureQuery:
    """Admin: the feature browser."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="The features sent to scoring for a person's served tips over a window "
        "(featureSet: all, due, task, time, history, habits; default: the last 7 days).",
    )
    async def decision_features(
        self,
        info: Info,
        person: strawberry.ID,
        feature_set: str = "all",
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> FeatureHistory:
        try:
            found = await feature_browser.series(str(person), feature_set, from_, to)
        except feature_browser.FeatureBrowserError as err:
            raise bad_input(err) from None
        return FeatureHistory(
            feature_set=found.feature_set,
            keys=found.keys,
            points=[
                FeaturePoint(
                    decision_id=strawberry.ID(p.decision_id),
                    served_at=p.served_at,
                    values=[p.features.get(k) for k in found.keys],
                )
                for p in found.points
            ],
        )

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="What changed between two decisions' served features, and by how much.",
    )
    async def decision_diff(self, info: Info, a: strawberry.ID, b: strawberry.ID) -> DecisionDiff:
        try:
            found = await feature_browser.diff(str(a), str(b))
        except feature_browser.FeatureBrowserError as err:
            raise bad_input(err) from None
        return DecisionDiff(
            before=detail_of(found.before).decision,
            after=detail_of(found.after).decision,
            changes=[
                FeatureChange(
                    name=c.name, before=c.before, after=c.after, change=c.change, changed=c.changed
                )
                for c in found.changes
            ],
        )


@strawberry.type
class FeatureFreshnessTrend:
    """One profile feature's daily share of people with it fresh (null: not sampled)."""

    feature: str
    ttl_seconds: int
    days: list[datetime]
    shares: list[float | None]


@strawberry.type
class FreshnessQuery:
    """Admin: the profile features' freshness over time."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Each profile feature's daily share of people with it fresh (younger than "
        "its TTL), sampled hourly, over the last `days` (7, 14, 30).",
    )
    async def feature_freshness(self, info: Info, days: int = 14) -> list[FeatureFreshnessTrend]:
        if days not in freshness_service.PERIOD_DAYS:
            raise bad_input(Refused("BAD_USER_INPUT", "days must be 7, 14 or 30.", "days"))
        span = [
            datetime(d.year, d.month, d.day, tzinfo=UTC) for d in freshness_service.window(days)
        ]
        return [
            FeatureFreshnessTrend(
                feature=f.feature, ttl_seconds=f.ttl_s, days=span, shares=f.shares
            )
            for f in await freshness_service.freshness(days)
        ]
