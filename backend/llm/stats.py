"""How the tip writers are doing: calls, latency, retry and fallback rates per model and prompt.

A generation is one person's run; it makes one to three calls. Rates are per generation:
retried = needed at least one clarification; fell back = ended on template candidates after
invalid answers; error = a call failed outright (template candidates too).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backend.llm.tables import LlmCall

MAX_ROWS = 200_000
"""Calls read per request at most: the admin view is a rollup, not an export."""


@dataclass(frozen=True)
class LlmStatsRow:
    """The rollup of one (model, prompt_version)."""

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
    retry_rate: float | None
    fallback_rate: float | None
    error_rate: float | None


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def llm_stats(days: int = 7, now: datetime | None = None) -> list[LlmStatsRow]:
    """Rollups of the last `days` days, most used first."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    rows = (
        await LlmCall.select(
            LlmCall.generation,
            LlmCall.model,
            LlmCall.prompt_version,
            LlmCall.outcome,
            LlmCall.latency_ms,
        )
        .where(LlmCall.created_at >= since)
        .limit(MAX_ROWS)
    )
    latencies: dict[tuple[str, str], list[float]] = defaultdict(list)
    outcomes: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    generations: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        group = (r["model"], r["prompt_version"])
        gen = str(r["generation"])
        latencies[group].append(float(r["latency_ms"]))
        outcomes[group][r["outcome"]] += 1
        generations[group]["all"].add(gen)
        generations[group][r["outcome"]].add(gen)
    out: list[LlmStatsRow] = []
    for group, lat in latencies.items():
        gens = generations[group]
        total = len(gens["all"])
        counts = outcomes[group]
        out.append(
            LlmStatsRow(
                model=group[0],
                prompt_version=group[1],
                calls=len(lat),
                generations=total,
                ok=counts["ok"],
                retried=counts["retried"],
                fell_back=counts["fell_back"],
                errors=counts["error"],
                latency_p50_ms=percentile(lat, 50),
                latency_p95_ms=percentile(lat, 95),
                retry_rate=_rate(len(gens["retried"]), total),
                fallback_rate=_rate(len(gens["fell_back"] | gens["error"]), total),
                error_rate=_rate(len(gens["error"]), total),
            )
        )
    return sorted(out, key=lambda s: (-s.calls, s.model, s.prompt_version))
