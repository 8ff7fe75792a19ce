"""The LLM quality page's numbers: the writers' calls (backend/llm/stats.py), the gate's
rejections by reason, and reactions and mean reward per model and prompt version (from the
writer rollup, so the decision log is not scanned)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backend.admin import actions
from backend.admin.quality_tables import AdminWriterDay
from backend.identity.service import user_id_by_email
from backend.llm.quality import GateFailure, gate_failures, writer_stats
from backend.llm.stats import LlmStatsRow

PERIOD_DAYS = (1, 7, 30)


class LlmConsoleError(Exception):
    """Bad input (a period we do not offer, an unknown person)."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclass(frozen=True)
class WriterReward:
    """Served tips of one model and prompt version (model "" for source tasks), reactions
    and their mean reward."""

    model: str
    prompt_version: str
    served: int
    reactions: int
    mean_reward: float | None


@dataclass(frozen=True)
class LlmQualityReport:
    """Everything the LLM page shows."""

    days: int
    writers: list[LlmStatsRow]
    gate_failures: list[GateFailure]
    rewards: list[WriterReward]


async def writer_rewards(days: int, now: datetime | None = None) -> list[WriterReward]:
    """Reactions and mean reward per (model, prompt version) over the last `days` UTC days."""
    since = (now or datetime.now(UTC)).date() - timedelta(days=days - 1)
    rows = await AdminWriterDay.select(
        AdminWriterDay.model,
        AdminWriterDay.prompt_version,
        AdminWriterDay.served,
        AdminWriterDay.reacted,
        AdminWriterDay.reward_sum,
    ).where(AdminWriterDay.day >= since)
    sums: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        s = sums.setdefault((r["model"], r["prompt_version"]), [0, 0, 0.0])
        s[0] += r["served"]
        s[1] += r["reacted"]
        s[2] += r["reward_sum"]
    return sorted(
        (
            WriterReward(
                model=model,
                prompt_version=version,
                served=int(s[0]),
                reactions=int(s[1]),
                mean_reward=round(s[2] / s[1], 4) if s[1] else None,
            )
            for (model, version), s in sums.items()
        ),
        key=lambda w: (-w.served, w.model, w.prompt_version),
    )


async def report(days: int = 7, now: datetime | None = None) -> LlmQualityReport:
    """The LLM page for the last `days` days."""
    if days not in PERIOD_DAYS:
        raise LlmConsoleError(
            "BAD_USER_INPUT", f"Choose a period of {', '.join(map(str, PERIOD_DAYS))} days.", "days"
        )
    writers, gates, rewards = await asyncio.gather(  # independent reads, side by side
        writer_stats(days, now), gate_failures(days, now), writer_rewards(days, now)
    )
    return LlmQualityReport(days=days, writers=writers, gate_failures=gates, rewards=rewards)


async def regenerate_for(actor: str, person: str, reason: str) -> str:
    """Rewrite the candidates of a person named by id or e-mail (reason required; audited)."""
    person = person.strip()
    user_id = await user_id_by_email(person) if "@" in person else person
    if not user_id:
        raise actions.ActionRefused("NOT_FOUND", "Nobody with that e-mail.", "person")
    return await actions.run(actor, user_id, "regenerate_candidates", reason)
