"""Admin GraphQL of the LLM domain: what is queued to be shown, and how the writers are doing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import Enum

import strawberry

from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin
from backend.graphql.types import UserError, missing_reason
from backend.llm import service
from backend.llm.config import TEMPLATE_MODEL, TIP_GENERATOR, LlmConfigError, load_gateway_config
from backend.llm.stats import LlmStatsRow, llm_stats
from backend.profile.admin_graphql import NO_USER, existing_user_id, parse_user_id
from backend.recommender.service import KindReward, rewards_by_kind


@strawberry.enum
class CandidateKind(Enum):
    """What a written tip is."""

    TASK = "task"
    ADVICE = "advice"
    INSIGHT = "insight"
    REMINDER = "reminder"


@strawberry.type
class TipCandidate:
    """A tip written ahead of time for a person, waiting to be ranked with their tasks."""

    id: strawberry.ID
    content: str
    kind: CandidateKind
    source: str = strawberry.field(description="The note (agent) or `tasks` it is based on.")
    model: str = strawberry.field(description='A litellm model, or "template".')
    prompt_version: str
    confidence: float
    source_ref: str = strawberry.field(description="The task it is about, if any.")
    agents: list[str] = strawberry.field(description="Agents whose notes shaped it.")
    created_at: datetime
    expires_at: datetime
    expired: bool
    blocked: str | None = strawberry.field(
        description="Why it will not be served although stored (null: it may be served)."
    )

    @classmethod
    def of(cls, v: service.CandidateView) -> TipCandidate:
        """From the service's view."""
        return cls(
            id=strawberry.ID(v.id),
            content=v.content,
            kind=CandidateKind(v.kind),
            source=v.source,
            model=v.model,
            prompt_version=v.prompt_version,
            confidence=v.confidence,
            source_ref=v.source_ref,
            agents=list(v.agents),
            created_at=v.created_at,
            expires_at=v.expires_at,
            expired=v.expired,
            blocked=v.blocked,
        )


@strawberry.type
class LlmWriterStats:
    """Calls of one (model, prompt_version); rates are per generation (one person's run)."""

    model: str
    prompt_version: str
    calls: int
    generations: int
    ok: int
    retried: int
    fell_back: int
    errors: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    retry_rate: float | None = strawberry.field(description="Needed a clarification retry.")
    fallback_rate: float | None = strawberry.field(
        description="Ended on template candidates (invalid answers or an error)."
    )
    error_rate: float | None = strawberry.field(description="A call failed outright.")

    @classmethod
    def of(cls, s: LlmStatsRow) -> LlmWriterStats:
        """From the service's rollup."""
        return cls(**s.__dict__)


@strawberry.type
class KindRewards:
    """Rewards earned by served tips of one kind and writer (model "" for source tasks)."""

    kind: str
    model: str
    prompt_version: str
    served: int
    reacted: int
    mean_reward: float | None

    @classmethod
    def of(cls, k: KindReward) -> KindRewards:
        """From the recommender's rollup."""
        return cls(**k.__dict__)


@strawberry.type
class LlmStats:
    """How the tip writers are doing over the last `days` days."""

    days: int
    tip_generator: str = strawberry.field(
        description='The model behind tip-generator now ("template": none configured).'
    )
    writers: list[LlmWriterStats]
    rewards_by_kind: list[KindRewards]


@strawberry.type
class RegenerateCandidatesPayload:
    """Whether a generation was queued."""

    queued: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


def _tip_generator() -> str:
    try:
        return load_gateway_config().model_of(TIP_GENERATOR) or TEMPLATE_MODEL
    except LlmConfigError as err:
        return f"misconfigured: {err}"


@strawberry.type
class LlmAdminQuery:
    """Admin LLM queries."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="A person's stored tip candidates (servable first), with model and prompt.",
    )
    async def candidates(self, info: Info, user_id: strawberry.ID) -> list[TipCandidate]:
        uid = parse_user_id(user_id)
        if uid is None:
            return []
        return [TipCandidate.of(v) for v in await service.candidates_for(uid)]

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Calls, latency p50/p95, retry and fallback rates by model and prompt.",
    )
    async def llm_stats(self, info: Info, days: int = 7) -> LlmStats:
        days = max(1, min(days, 90))
        since = datetime.now(UTC) - timedelta(days=days)
        return LlmStats(
            days=days,
            tip_generator=_tip_generator(),
            writers=[LlmWriterStats.of(s) for s in await llm_stats(days)],
            rewards_by_kind=[KindRewards.of(k) for k in await rewards_by_kind(since)],
        )


@strawberry.type
class LlmAdminMutation:
    """Admin LLM mutations (audit-logged)."""

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Rewrite a person's tip candidates now, on a worker.",
    )
    async def regenerate_candidates(
        self, info: Info, user_id: strawberry.ID, reason: str
    ) -> RegenerateCandidatesPayload:
        admin = await info.context.user()
        if refused := missing_reason(reason):
            return RegenerateCandidatesPayload(errors=[refused])
        uid = await existing_user_id(user_id)
        if uid is None:
            return RegenerateCandidatesPayload(errors=[NO_USER])
        return RegenerateCandidatesPayload(
            queued=await service.regenerate(admin.user_id, uid, reason.strip())
        )
