"""Stored candidates that are stale or refused, and why the gate rejected model answers
(the console's data quality and LLM pages)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from piccolo.query.functions.aggregate import Count

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

    total = await counted()
    stale = await counted(TipCandidate.expires_at < moment)
    refused = await counted(TipCandidate.blocked.is_not_null())
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
    """Gate rejections (retried / fell back) of the last `days` days by reason, most first."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    rows = (
        await LlmCall.select(LlmCall.error)
        .where((LlmCall.created_at >= since) & LlmCall.outcome.is_in(["retried", "fell_back"]))
        .limit(MAX_ROWS)
    )
    counts: Counter[str] = Counter()
    for r in rows:
        for part in str(r["error"] or "").split("; "):
            if part.strip():
                counts[reason_of(part)] += 1
    return [
        GateFailure(reason, n) for reason, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    ]
