"""`llmQuality`: the writers' calls, the gate's rejections by reason, and reward per model
and prompt version (rewriting a person's candidates is the LLM domain's
`regenerateCandidates`)."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from backend.admin import llm_console
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin
from backend.llm.graphql import LlmWriterStats


@strawberry.type
class GateFailureCount:
    """How often the gate rejected a model's answer for one reason."""

    reason: str
    count: int


@strawberry.type
class WriterRewards:
    """Served tips of one model and prompt version ("" for source tasks) and their reward."""

    model: str
    prompt_version: str
    served: int
    reactions: int
    mean_reward: float | None


@strawberry.type
class LlmQuality:
    """The tip writers over the last `days` days."""

    days: int
    writers: list[LlmWriterStats]
    gate_failures: list[GateFailureCount]
    rewards: list[WriterRewards]


@strawberry.type
class LlmQualityQuery:
    """Admin: LLM quality."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Calls, latency p50/p95, retries, fallbacks by model and prompt version; "
        "gate failures by reason; reactions and mean reward by model and prompt version "
        f"(days: one of {', '.join(map(str, llm_console.PERIOD_DAYS))}).",
    )
    async def llm_quality(self, info: Info, days: int = 7) -> LlmQuality:
        try:
            r = await llm_console.report(days)
        except llm_console.LlmConsoleError as err:
            raise GraphQLError(
                err.message, extensions={"code": err.code, "field": err.field}
            ) from None
        return LlmQuality(
            days=r.days,
            writers=[LlmWriterStats.of(w) for w in r.writers],
            gate_failures=[
                GateFailureCount(reason=g.reason, count=g.count) for g in r.gate_failures
            ],
            rewards=[
                WriterRewards(
                    model=w.model,
                    prompt_version=w.prompt_version,
                    served=w.served,
                    reactions=w.reactions,
                    mean_reward=w.mean_reward,
                )
                for w in r.rewards
            ],
        )
