"""Admin GraphQL of the feature browser: `decisionFeatures` (what scoring saw for a person's
served tips over time) and `decisionDiff` (what changed between two decisions)."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from backend.admin import feature_browser
from backend.admin.decisions_graphql import LoggedDecision, bad_input, detail_of
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
