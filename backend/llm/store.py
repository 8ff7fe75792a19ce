"""Writing and reading the LLM tables (the only module that touches them besides stats)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from backend.db import write_transaction
from backend.llm.tables import LlmCall, TipCandidate


@dataclass(frozen=True)
class CallRecord:
    """One model call (or template run) of a generation, as logged."""

    alias: str
    model: str
    prompt_version: str
    attempt: int
    outcome: str
    latency_ms: float
    error: str = ""


@dataclass(frozen=True)
class CandidateRecord:
    """One candidate to store."""

    content: str
    kind: str
    source: str
    model: str
    prompt_version: str
    confidence: float
    source_ref: str
    agents: tuple[str, ...]
    detail: dict[str, Any]
    context_hash: str
    created_at: datetime
    expires_at: datetime


async def is_fresh(user_id: str, context_hash: str, fresh_until: datetime) -> bool:
    """True when the stored candidates come from this very context and stay valid long enough."""
    row = (
        await TipCandidate.select(TipCandidate.context_hash, TipCandidate.expires_at)
        .where(TipCandidate.user == user_id)
        .order_by(TipCandidate.expires_at)
        .first()
    )
    return bool(row and row["context_hash"] == context_hash and row["expires_at"] > fresh_until)


async def replace_candidates(
    user_id: str,
    generation: uuid.UUID,
    candidates: Sequence[CandidateRecord],
    calls: Sequence[CallRecord],
    now: datetime,
) -> bool:
    """Swap in a generation's candidates and log its calls, atomically.

    False when the person's account is gone meanwhile (nothing is written then).
    """
    try:
        async with write_transaction():
            await TipCandidate.delete().where(TipCandidate.user == user_id)
            if candidates:
                await TipCandidate.insert(
                    *[
                        TipCandidate(
                            user=user_id,
                            content=c.content,
                            kind=c.kind,
                            source=c.source,
                            model=c.model,
                            prompt_version=c.prompt_version,
                            confidence=c.confidence,
                            source_ref=c.source_ref,
                            agents=list(c.agents),
                            detail=c.detail,
                            context_hash=c.context_hash,
                            created_at=c.created_at,
                            expires_at=c.expires_at,
                        )
                        for c in candidates
                    ]
                )
            if calls:
                await LlmCall.insert(
                    *[
                        LlmCall(
                            user=user_id,
                            generation=generation,
                            alias=c.alias,
                            model=c.model,
                            prompt_version=c.prompt_version,
                            attempt=c.attempt,
                            outcome=c.outcome,
                            latency_ms=round(c.latency_ms, 3),
                            error=c.error[:500],
                            created_at=now,
                        )
                        for c in calls
                    ]
                )
    except (asyncpg.ForeignKeyViolationError, sqlite3.IntegrityError):
        return False  # the account was deleted while the model was writing
    return True


async def unexpired(user_id: str, now: datetime) -> list[dict[str, Any]]:
    """The person's candidates that have not expired, newest first."""
    rows: list[dict[str, Any]] = (
        await TipCandidate.select()
        .where((TipCandidate.user == user_id) & (TipCandidate.expires_at > now))
        .order_by(TipCandidate.created_at, ascending=False)
        .output(load_json=True)
    )
    return rows


async def all_candidates(user_id: str) -> list[dict[str, Any]]:
    """Every stored candidate of the person, expired ones too (admin view)."""
    rows: list[dict[str, Any]] = (
        await TipCandidate.select()
        .where(TipCandidate.user == user_id)
        .order_by(TipCandidate.expires_at, ascending=False)
        .output(load_json=True)
    )
    return rows


async def prune(now: datetime, calls_days: int = 30, grace: timedelta = timedelta(days=1)) -> int:
    """Delete long-expired candidates and call logs older than `calls_days`."""
    async with write_transaction():
        old = await TipCandidate.count().where(TipCandidate.expires_at < now - grace)
        await TipCandidate.delete().where(TipCandidate.expires_at < now - grace)
        await LlmCall.delete().where(LlmCall.created_at < now - timedelta(days=calls_days))
    return int(old)
