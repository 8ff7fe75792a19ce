"""Admin GraphQL of the decision log: `decisions` (filtered, Relay-paged), `decision(id)` with
every candidate it ranked as far as the log keeps them, `decisionFeatures` (a person's features
over time) and `decisionDiff` (what changed between two decisions)."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum

import strawberry
from graphql import GraphQLError

from backend.admin.graphql import AdminPageInfo
from backend.contracts.errors import Refused
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin
from backend.recommender import decision_browser as log

CANDIDATES_NOTE = (
    "The log keeps each candidate's item ref and raw features; titles, scores and "
    "per-candidate propensities of the candidates not served are not stored."
)


def bad_input(err: Refused) -> GraphQLError:
    """A typed GraphQL error from a refused request."""
    return GraphQLError(err.message, extensions={"code": err.code, "field": err.field})


@strawberry.enum
class DecisionReaction(Enum):
    """How a decision was answered (NONE: not answered)."""

    DONE = "done"
    SNOOZE = "snooze"
    DISMISS = "dismiss"
    NONE = "none"


@strawberry.input
class DecisionFilter:
    """Narrow the decision log (every field optional; times are [from, to))."""

    person: strawberry.ID | None = None
    policy: str | None = None
    kind: str | None = None
    source: str | None = None
    reaction: DecisionReaction | None = None
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None

    def service(self) -> log.DecisionFilter:
        """As the recommender's filter."""
        return log.DecisionFilter(
            user_id=str(self.person) if self.person is not None else None,
            policy_id=self.policy or None,
            kind=self.kind or None,
            source=self.source or None,
            reaction=self.reaction.value if self.reaction else None,
            since=self.from_,
            until=self.to,
        )


@strawberry.type
class NamedValue:
    """One feature and its value."""

    name: str
    value: float


@strawberry.type
class ExplainedFeature:
    """A feature's part in the served candidate's score (value × weight = contribution)."""

    name: str
    value: float
    weight: float
    contribution: float


@strawberry.type
class DecisionExplanation:
    """Why the served candidate won: the top contributions and the plain-language line."""

    line: str
    explored: bool
    features: list[ExplainedFeature]


@strawberry.type
class ShadowPick:
    """What a shadow policy would have served, with its propensities."""

    policy_id: str
    policy_version: str
    item_ref: str
    score: float
    propensity: float
    served_propensity: float = strawberry.field(
        description="The shadow's probability of the candidate actually served."
    )
    agrees: bool
    explored: bool

    @classmethod
    def of(cls, s: log.ShadowPick) -> ShadowPick:
        """From the log."""
        return cls(
            policy_id=s.policy_id,
            policy_version=s.policy_version,
            item_ref=s.item_ref,
            score=s.score,
            propensity=s.propensity,
            served_propensity=s.served_propensity,
            agrees=s.agrees,
            explored=s.explored,
        )


@strawberry.type
class DecisionReactionDetail:
    """The reaction's feedback: dwell, reward, and whether the reward came later from the source."""

    action: str
    dwell_ms: int
    dwell_source: str
    reward: float
    reward_source: str
    delayed: bool = strawberry.field(
        description="Inferred from the source (e.g. completed in Todoist), not a tap in oO."
    )
    recorded_at: datetime

    @classmethod
    def of(cls, r: log.Reaction) -> DecisionReactionDetail:
        """From the log."""
        return cls(
            action=r.action,
            dwell_ms=r.dwell_ms,
            dwell_source=r.dwell_source,
            reward=r.reward,
            reward_source=r.reward_source,
            delayed=r.delayed,
            recorded_at=r.recorded_at,
        )


@strawberry.type
class LoggedDecision:
    """One decision of the log."""

    id: strawberry.ID
    person_id: strawberry.ID
    served_at: datetime
    content: str
    item_ref: str
    kind: str
    source: str
    policy_id: str
    policy_version: str
    score: float
    propensity: float
    candidate_count: int
    latency_ms: float
    reaction: str | None
    reacted_at: datetime | None
    reward: float | None
    explanation: DecisionExplanation
    features: list[NamedValue]
    shadow_picks: list[ShadowPick]
    feedback: DecisionReactionDetail | None

    @classmethod
    def of(
        cls, d: log.DecisionSummary, shadows: list[log.ShadowPick], reaction: log.Reaction | None
    ) -> LoggedDecision:
        """From the log's row, its shadow picks and its feedback."""
        why = d.explanation
        return cls(
            id=strawberry.ID(d.id),
            person_id=strawberry.ID(d.user_id),
            served_at=d.served_at,
            content=d.content,
            item_ref=d.item_ref,
            kind=d.kind,
            source=d.source,
            policy_id=d.policy_id,
            policy_version=d.policy_version,
            score=d.score,
            propensity=d.propensity,
            candidate_count=d.candidate_count,
            latency_ms=d.latency_ms,
            reaction=d.reaction,
            reacted_at=d.reacted_at,
            reward=d.reward,
            explanation=DecisionExplanation(
                line=str(why.get("line", "")),
                explored=bool(why.get("explored", False)),
                features=[
                    ExplainedFeature(
                        name=str(f.get("name", "")),
                        value=float(f.get("value", 0.0)),
                        weight=float(f.get("weight", 0.0)),
                        contribution=float(f.get("contribution", 0.0)),
                    )
                    for f in why.get("features", [])
                    if isinstance(f, dict)
                ],
            ),
            features=[NamedValue(name=k, value=v) for k, v in sorted(d.features.items())],
            shadow_picks=[ShadowPick.of(s) for s in shadows],
            feedback=DecisionReactionDetail.of(reaction) if reaction else None,
        )


@strawberry.type
class RankedCandidate:
    """A candidate the decision ranked, as far as the log keeps it."""

    item_ref: str
    chosen: bool
    features: list[NamedValue]


@strawberry.type
class DecisionDetail:
    """One decision with its display detail and every candidate it ranked."""

    decision: LoggedDecision
    project: str | None
    priority: int | None
    model: str | None
    prompt_version: str | None
    candidates_logged: bool = strawberry.field(
        description="False for decisions logged before candidate sets were recorded."
    )
    candidates_note: str
    candidates: list[RankedCandidate]


@strawberry.type
class DecisionEdge:
    """A decision and the cursor after it."""

    cursor: str
    node: LoggedDecision


@strawberry.type
class DecisionConnection:
    """A page of the decision log, newest first."""

    edges: list[DecisionEdge]
    page_info: AdminPageInfo


def detail_of(d: log.DecisionDetail) -> DecisionDetail:
    """The GraphQL view of one decision."""
    extra = d.detail
    priority = extra.get("priority")
    return DecisionDetail(
        decision=LoggedDecision.of(d.summary, d.shadows, d.reaction),
        project=str(extra["project"]) if extra.get("project") else None,
        priority=int(priority) if isinstance(priority, int | float) else None,
        model=str(extra["model"]) if extra.get("model") else None,
        prompt_version=str(extra["prompt_version"]) if extra.get("prompt_version") else None,
        candidates_logged=d.candidates_logged,
        candidates_note=CANDIDATES_NOTE,
        candidates=[
            RankedCandidate(
                item_ref=c.item_ref,
                chosen=c.chosen,
                features=[NamedValue(name=k, value=v) for k, v in sorted(c.features.items())],
            )
            for c in d.candidates
        ],
    )


async def decision_page(f: log.DecisionFilter, first: int, after: str | None) -> DecisionConnection:
    """A page of the log with each row's shadow picks and feedback (three queries)."""
    try:
        page = await log.decisions(f, first, after)
    except log.BrowseError as err:
        raise bad_input(err) from None
    ids = [r.id for r in page.rows]
    shadows, reactions = await asyncio.gather(log.shadow_picks(ids), log.reactions_of(ids))
    edges = [
        DecisionEdge(
            cursor=log.cursor_of(r),
            node=LoggedDecision.of(r, shadows.get(r.id, []), reactions.get(r.id)),
        )
        for r in page.rows
    ]
    return DecisionConnection(
        edges=edges,
        page_info=AdminPageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
    )


def _not_found() -> GraphQLError:
    return GraphQLError("No such decision.", extensions={"code": "NOT_FOUND", "field": "id"})


@strawberry.type
class DecisionQuery:
    """Admin: the decision log."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="The decision log, newest first: filter by person, policy, kind, source, "
        "reaction and time; Relay paging (keyset cursors).",
    )
    async def decisions(
        self,
        info: Info,
        filter: DecisionFilter | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> DecisionConnection:
        return await decision_page((filter or DecisionFilter()).service(), first, after)

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="One decision with every candidate it ranked (NOT_FOUND: unknown id).",
    )
    async def decision(self, info: Info, id: strawberry.ID) -> DecisionDetail:
        found = await log.decision(str(id))
        if found is None:
            raise _not_found()
        return detail_of(found)
