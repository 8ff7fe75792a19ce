"""Admin GraphQL of reward analytics: `rewardAnalytics(groupBy, period, filter)`."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from backend.admin import reward_analytics as service
from backend.admin.decisions_graphql import bad_input
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin


@strawberry.enum
class RewardSlice(Enum):
    """What reward analytics are grouped by (times in UTC; cohort: the sign-up week)."""

    TIME = "TIME"
    POLICY = "POLICY"
    HOUR_OF_DAY = "HOUR_OF_DAY"
    WEEKDAY = "WEEKDAY"
    PRIORITY = "PRIORITY"
    KIND = "KIND"
    SOURCE = "SOURCE"
    MODEL = "MODEL"
    PROMPT_VERSION = "PROMPT_VERSION"
    COHORT = "COHORT"


@strawberry.enum
class RewardPeriod(Enum):
    """The time bucket of the series (UTC)."""

    DAY = "DAY"
    HOUR = "HOUR"


@strawberry.input
class RewardFilter:
    """The window [from, to) (default: the last 7 days; DAY at most 92 days, HOUR at most 14)
    and what else to narrow to."""

    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None
    person: strawberry.ID | None = None
    policy: str | None = None
    kind: str | None = None
    source: str | None = None


@strawberry.type
class RewardStats:
    """Counts, and the mean reward with its 95 % confidence interval (normal approximation)."""

    decisions: int
    reactions: int
    done: int
    snoozed: int
    dismissed: int
    rewarded: int
    reaction_rate: float | None
    mean_reward: float | None
    ci_low: float | None
    ci_high: float | None

    @classmethod
    def of(cls, s: service.Stats) -> RewardStats:
        """From the service's stats."""
        return cls(
            decisions=s.decisions,
            reactions=s.reactions,
            done=s.done,
            snoozed=s.snoozed,
            dismissed=s.dismissed,
            rewarded=s.rewarded,
            reaction_rate=s.reaction_rate,
            mean_reward=s.mean_reward,
            ci_low=s.ci_low,
            ci_high=s.ci_high,
        )


@strawberry.type
class RewardBucket:
    """One time bucket of a group ("2026-03-02" or "2026-03-02T09", UTC)."""

    bucket: str
    stats: RewardStats


@strawberry.type
class RewardGroup:
    """One slice value over the window, and per time bucket."""

    key: str
    label: str
    stats: RewardStats
    series: list[RewardBucket]


@strawberry.type
class ShadowAgreement:
    """How often a shadow policy version picked what the active policy served."""

    policy_id: str
    policy_version: str
    shadow_decisions: int
    agreed: int
    agreement_rate: float | None


@strawberry.type
class PolicyPromotion:
    """A promotion inside the window (from the audit log): what changed."""

    at: datetime
    policy_id: str
    previous: str | None
    reason: str


@strawberry.type
class RewardAnalytics:
    """Reactions and mean reward of the window: total, per group, agreement, promotions."""

    group_by: RewardSlice
    period: RewardPeriod
    start: datetime
    end: datetime
    buckets: list[str]
    total: RewardStats
    groups: list[RewardGroup]
    agreement: list[ShadowAgreement]
    promotions: list[PolicyPromotion]


def analytics_of(a: service.Analytics) -> RewardAnalytics:
    """The GraphQL view of the service's answer."""
    return RewardAnalytics(
        group_by=RewardSlice(a.slice_by),
        period=RewardPeriod(a.period),
        start=a.since,
        end=a.until,
        buckets=a.buckets,
        total=RewardStats.of(a.total),
        groups=[
            RewardGroup(
                key=g.key,
                label=g.label,
                stats=RewardStats.of(g.stats),
                series=[RewardBucket(bucket=b, stats=RewardStats.of(s)) for b, s in g.series],
            )
            for g in a.groups
        ],
        agreement=[
            ShadowAgreement(
                policy_id=x.policy_id,
                policy_version=x.policy_version,
                shadow_decisions=x.shadow_decisions,
                agreed=x.agreed,
                agreement_rate=x.agreed / x.shadow_decisions if x.shadow_decisions else None,
            )
            for x in a.agreement
        ],
        promotions=[
            PolicyPromotion(at=p.at, policy_id=p.policy_id, previous=p.previous, reason=p.reason)
            for p in a.promotions
        ],
    )


@strawberry.type
class RewardQuery:
    """Admin: reward analytics."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Reactions and mean reward (95 % CI) over time and per slice, shadow "
        "agreement, and the policy promotions inside the window.",
    )
    async def reward_analytics(
        self,
        info: Info,
        group_by: RewardSlice = RewardSlice.POLICY,
        period: RewardPeriod = RewardPeriod.DAY,
        filter: RewardFilter | None = None,
    ) -> RewardAnalytics:
        try:
            f = filter or RewardFilter()
            found = await service.analytics(
                group_by.value,
                period.value,
                f.from_,
                f.to,
                user_id=str(f.person) if f.person is not None else None,
                policy_id=f.policy or None,
                kind=f.kind or None,
                source=f.source or None,
            )
        except service.AnalyticsError as err:
            raise bad_input(err) from None
        return analytics_of(found)
