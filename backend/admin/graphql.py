"""Admin GraphQL of the console: overview, people, one person, the audit log (admins only)."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from backend import audit
from backend.admin import overview as overview_service
from backend.admin import people as people_service
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin
from backend.recommender.activity import recent_decisions

AUDIT_MAX_PAGE = 200


@strawberry.enum
class Period(Enum):
    """The window of the overview (UTC days, today included)."""

    LAST_24H = "LAST_24H"
    LAST_7D = "LAST_7D"
    LAST_30D = "LAST_30D"
    LAST_90D = "LAST_90D"


@strawberry.enum
class PeopleOrder(Enum):
    """What the people list is sorted by."""

    SIGNED_UP = "SIGNED_UP"
    LAST_SEEN = "LAST_SEEN"
    TIPS = "TIPS"
    REACTIONS = "REACTIONS"
    MEAN_REWARD = "MEAN_REWARD"
    SOURCES = "SOURCES"


@strawberry.type
class Kpi:
    """One figure, the same figure over the previous period, and the relative change."""

    key: str
    label: str
    value: float | None
    previous: float | None
    change: float | None


@strawberry.type
class DayActivity:
    """Tips served and reactions on one day."""

    day: date
    served: int
    reactions: int
    done: int
    snoozed: int
    dismissed: int
    mean_reward: float | None

    @classmethod
    def of(cls, d: overview_service.DayCounts) -> DayActivity:
        """From the rollups' counts."""
        return cls(
            day=d.day,
            served=d.served,
            reactions=d.reactions,
            done=d.done,
            snoozed=d.snoozed,
            dismissed=d.dismissed,
            mean_reward=d.mean_reward,
        )


@strawberry.type
class FunnelStep:
    """How many people got this far."""

    key: str
    label: str
    people: int


@strawberry.type
class AdminOverview:
    """KPIs, activity per day and the activation funnel of one period."""

    period: Period
    start: date
    end: date
    kpis: list[Kpi]
    days: list[DayActivity]
    funnel: list[FunnelStep]


@strawberry.type
class AdminPerson:
    """A person as the console lists them."""

    id: strawberry.ID
    email: str | None
    name: str
    role: str
    signed_up_at: datetime
    last_seen_at: datetime | None
    tips: int
    reactions: int
    mean_reward: float | None
    sources: int

    @classmethod
    def of(cls, row: people_service.PersonRow) -> AdminPerson:
        """From the service's row."""
        return cls(
            id=strawberry.ID(row.id),
            email=row.email,
            name=row.name,
            role=row.role,
            signed_up_at=row.signed_up_at,
            last_seen_at=row.last_seen_at,
            tips=row.tips,
            reactions=row.reactions,
            mean_reward=row.mean_reward,
            sources=row.sources,
        )

    @strawberry.field(description="Served, reactions and mean reward per active day (last 90).")
    async def reward_history(self) -> list[DayActivity]:
        return [DayActivity.of(d) for d in await people_service.reward_history(str(self.id))]

    @strawberry.field(description="The latest decisions for this person, newest first.")
    async def decisions(self, last: int = 50) -> list[AdminDecision]:
        return [
            AdminDecision(
                id=strawberry.ID(d.id),
                served_at=d.served_at,
                content=d.content,
                kind=d.kind,
                source=d.source,
                policy_id=d.policy_id,
                policy_version=d.policy_version,
                score=d.score,
                propensity=d.propensity,
                candidate_count=d.candidate_count,
                reaction=d.reaction,
                reward=d.reward,
            )
            for d in await recent_decisions(str(self.id), max(1, min(last, 200)))
        ]


@strawberry.type
class AdminDecision:
    """One logged decision."""

    id: strawberry.ID
    served_at: datetime
    content: str
    kind: str
    source: str
    policy_id: str
    policy_version: str
    score: float
    propensity: float
    candidate_count: int
    reaction: str | None
    reward: float | None


@strawberry.type
class AdminPersonEdge:
    """A person and the cursor after them."""

    cursor: str
    node: AdminPerson


@strawberry.type
class AdminPageInfo:
    """Relay paging."""

    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class AdminPersonConnection:
    """A page of people."""

    edges: list[AdminPersonEdge]
    page_info: AdminPageInfo
    total_count: int


@strawberry.type
class AuditEntry:
    """One administrative change: who, when, what, on what, why, with what result."""

    id: strawberry.ID
    actor_user_id: strawberry.ID | None
    action: str
    target: str
    detail: JSON
    created_at: datetime


@strawberry.type
class AuditEdge:
    """An audit line and the cursor after it."""

    cursor: str
    node: AuditEntry


@strawberry.type
class AuditConnection:
    """A page of the audit log."""

    edges: list[AuditEdge]
    page_info: AdminPageInfo


def _bad_input(err: people_service.AdminError) -> GraphQLError:
    return GraphQLError(err.message, extensions={"code": err.code, "field": err.field})


@strawberry.type
class AdminQuery:
    """What the console reads."""

    @strawberry.field(permission_classes=[IsAdmin], description="KPIs, days and the funnel.")
    async def admin_overview(self, info: Info, period: Period = Period.LAST_7D) -> AdminOverview:
        o = await overview_service.overview(period.value)
        return AdminOverview(
            period=period,
            start=o.start,
            end=o.end,
            kpis=[
                Kpi(key=k.key, label=k.label, value=k.value, previous=k.previous, change=k.change)
                for k in o.kpis
            ],
            days=[DayActivity.of(d) for d in o.days],
            funnel=[FunnelStep(key=f.key, label=f.label, people=f.people) for f in o.funnel],
        )

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="People: search by e-mail, name or id; sorted; Relay paging.",
    )
    async def admin_users(
        self,
        info: Info,
        search: str | None = None,
        first: int = 20,
        after: str | None = None,
        order_by: PeopleOrder = PeopleOrder.LAST_SEEN,
        descending: bool = True,
    ) -> AdminPersonConnection:
        try:
            page = await people_service.people(search, first, after, order_by.value, descending)
        except people_service.AdminError as err:
            raise _bad_input(err) from None
        edges = [
            AdminPersonEdge(
                cursor=people_service.cursor_of(page.offset + i + 1), node=AdminPerson.of(r)
            )
            for i, r in enumerate(page.rows)
        ]
        return AdminPersonConnection(
            edges=edges,
            page_info=AdminPageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=page.total,
        )

    @strawberry.field(permission_classes=[IsAdmin], description="One person (null: unknown).")
    async def admin_user(self, info: Info, id: strawberry.ID) -> AdminPerson | None:
        if not people_service.is_uuid(str(id)):
            return None
        row = await people_service.person_row(str(id))
        return AdminPerson.of(row) if row else None

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Every admin action, newest first; filter by action prefix, target, actor.",
    )
    async def audit_log(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        action: str | None = None,
        target: str | None = None,
        actor: strawberry.ID | None = None,
    ) -> AuditConnection:
        if not 1 <= first <= AUDIT_MAX_PAGE:
            raise GraphQLError(
                f"first must be 1 to {AUDIT_MAX_PAGE}.",
                extensions={"code": "INVALID_PAGE_SIZE", "field": "first"},
            )
        try:
            offset = people_service.offset_of(after, "audit")
        except people_service.AdminError as err:
            raise _bad_input(err) from None
        if actor is not None and not people_service.is_uuid(str(actor)):
            entries = []
        else:
            entries = await audit.recent(
                first + 1, action, target, str(actor) if actor is not None else None, offset
            )
        edges = [
            AuditEdge(
                cursor=people_service.cursor_of(offset + i + 1, "audit"),
                node=AuditEntry(
                    id=strawberry.ID(e.id),
                    actor_user_id=strawberry.ID(e.actor_user_id) if e.actor_user_id else None,
                    action=e.action,
                    target=e.target,
                    detail=e.detail,  # type: ignore[arg-type]
                    created_at=e.created_at,
                ),
            )
            for i, e in enumerate(entries[:first])
        ]
        return AuditConnection(
            edges=edges,
            page_info=AdminPageInfo(
                has_next_page=len(entries) > first,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
