"""Stored candidates that are stale or refused, and why the gate rejected model answers
(the console's data quality and LLM pages)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from piccolo.engine.postgres import PostgresEngine
from piccolo.query.functions.aggregate import Count

from backend.db import engine
from backend.llm.stats import LlmStatsRow, llm_stats
from backend.llm.tables import LlmCall, TipCandidate

MAX_ROWS = 200_000
"""Rejected calls read per request at most (the admin view is a rollup, not an export)."""


@dataclass(frozen=True)
class CandidateHealth:
    """Stored candidates of one writer: servable, past their expiry, refused (blocked)."""

    model: str
    candidates: int
    stale: int
    refused: int


@dataclass(frozen=True)
class GateFailure:
    """How often the gate rejected an answer for one reason."""

    reason: str
    count: int


async def candidate_health(now: datetime | None = None) -> list[CandidateHealth]:
    """Stored candidates of live people per model, most first."""
    moment = now or datetime.now(UTC)
    live = TipCandidate.user.deleted_at.is_null()

    async def counted(extra: object = None) -> dict[str, int]:
        where = live if extra is None else live & extra  # type: ignore[operator]
        rows = (
            await TipCandidate.select(TipCandidate.model, Count(alias="n"))
            .where(where)
            .group_by(TipCandidate.model)
        )
        return {r["model"]: int(r["n"]) for r in rows}

    total, stale, refused = await asyncio.gather(
        counted(),
        counted(TipCandidate.expires_at < moment),
        counted(TipCandidate.blocked.is_not_null()),
    )
    return sorted(
        (CandidateHealth(m, n, stale.get(m, 0), refused.get(m, 0)) for m, n in total.items()),
        key=lambda c: (-c.candidates, c.model),
    )


_ITEM = re.compile(r"candidates/\d+")
_DETAIL = re.compile(r"\s*\(.*\)$")


def reason_of(error: str) -> str:
    """One gate error as a reason shared by its kind (item numbers and positions dropped)."""
    text = _ITEM.sub("candidates/N", error.strip())
    if text.startswith("not JSON"):
        return "not JSON"
    where, sep, message = text.partition(": ")
    if not sep:
        return _DETAIL.sub("", text)[:120]
    if "is not one of" in message:
        message = "not an allowed value"
    elif "is a required property" in message:
        message = "a required field is missing"
    elif "is too long" in message or "is too short" in message or "should be" in message:
        message = message.split(" is ", 1)[-1] if " is " in message else message
    elif message.startswith(("'", '"')):
        message = "invalid value"
    return f"{where}: {message}"[:120]


async def gate_failures(days: int = 7, now: datetime | None = None) -> list[GateFailure]:
    """Gate rejections (retried / fell back) of the last `days` days by reason, most first.
    The database counts each distinct error text (a handful); their reasons are merged here."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    rows = (
        await LlmCall.select(LlmCall.error, Count(alias="n"))
        .where((LlmCall.created_at >= since) & LlmCall.outcome.is_in(["retried", "fell_back"]))
        .group_by(LlmCall.error)
        .limit(MAX_ROWS)
    )
    counts: Counter[str] = Counter()
    for r in rows:
        for part in str(r["error"] or "").split("; "):
            if part.strip():
                counts[reason_of(part)] += int(r["n"])
    return [
        GateFailure(reason, n) for reason, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    ]


WRITER_STATS_SQL = """
SELECT model, prompt_version, count(*) AS calls, count(DISTINCT generation) AS generations,
  count(*) FILTER (WHERE outcome = 'ok') AS ok,
  count(*) FILTER (WHERE outcome = 'retried') AS retried,
  count(*) FILTER (WHERE outcome = 'fell_back') AS fell_back,
  count(*) FILTER (WHERE outcome = 'error') AS errors,
  percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
  percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
  count(DISTINCT generation) FILTER (WHERE outcome = 'retried') AS gen_retried,
  count(DISTINCT generation) FILTER (WHERE outcome IN ('fell_back', 'error')) AS gen_fell_back,
  count(DISTINCT generation) FILTER (WHERE outcome = 'error') AS gen_error
FROM llm_call WHERE created_at >= {} GROUP BY model, prompt_version
"""
"""backend/llm/stats.py's figures computed by PostgreSQL (percentile_disc is the same
nearest-rank percentile), so a month of calls is not read into the web process."""


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def writer_stats(days: int = 7, now: datetime | None = None) -> list[LlmStatsRow]:
    """Calls, latency p50/p95, retry / fallback / error rates by model and prompt version."""
    if not isinstance(engine(), PostgresEngine):
        return await llm_stats(days, now)  # embedded deployments: few calls, read them
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    rows = await LlmCall.raw(WRITER_STATS_SQL, since)
    out = [
        LlmStatsRow(
            model=r["model"],
            prompt_version=r["prompt_version"],
            calls=int(r["calls"]),
            generations=int(r["generations"]),
            ok=int(r["ok"]),
            retried=int(r["retried"]),
            fell_back=int(r["fell_back"]),
            errors=int(r["errors"]),
            latency_p50_ms=float(r["p50"]) if r["p50"] is not None else None,
            latency_p95_ms=float(r["p95"]) if r["p95"] is not None else None,
            retry_rate=_rate(int(r["gen_retried"]), int(r["generations"])),
            fallback_rate=_rate(int(r["gen_fell_back"]), int(r["generations"])),
            error_rate=_rate(int(r["gen_error"]), int(r["generations"])),
        )
        for r in rows
    ]
    return sorted(out, key=lambda s: (-s.calls, s.model, s.prompt_version))
