"""The orchestrator: context → prompt → model → JSON gate → (clarify ≤ 2 | fall back) → stored.

Runs in workers (backend.llm.jobs), so a model's latency never reaches a person. Without a
model, or when the model cannot produce a valid answer in three tries, the template writer
fills the slots: a person always has candidates as long as there is something to say.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.contracts.candidate import Candidate
from backend.events.bus import publish
from backend.events.contracts import TipCandidatesGenerated
from backend.llm import prompt, template
from backend.llm.config import TEMPLATE_MODEL, TIP_GENERATOR
from backend.llm.context import TipContext, gather_context
from backend.llm.eligibility import refresh_blocked
from backend.llm.gate import Drafted, check, decoding_schema
from backend.llm.gateway import Gateway, GatewayError
from backend.llm.store import CallRecord, CandidateRecord, is_fresh, replace_candidates
from backend.settings import get_settings

log = logging.getLogger("oo.llm.orchestrator")

MAX_CLARIFICATIONS = 2


def answer_tokens(n: int) -> int:
    """Room for n candidates (≈ 100 tokens each with their keys) and the braces.

    Tight on purpose: JSON-mode grammars allow trailing whitespace, and a small model given
    room fills it, one slow token at a time.
    """
    return 50 + 100 * n


@dataclass(frozen=True)
class Generation:
    """What one generation did."""

    user_id: str
    status: str  # "generated" | "unchanged" | "empty" | "gone"
    model: str = ""
    prompt_version: str = ""
    outcome: str = ""  # "ok" | "fell_back" | "error" (model), "template" (no model)
    attempts: int = 0
    candidates: int = 0
    latency_ms: float = 0.0


@dataclass
class _Attempts:
    """The model conversation of one generation and its log."""

    calls: list[CallRecord]
    drafted: list[Drafted]
    model: str


def context_hash(version: str, assembled: prompt.Assembled) -> str:
    """What the candidates were written from, minus the clock (which changes every minute)."""
    return hashlib.sha256(f"{version}\n{assembled.text}".encode()).hexdigest()


async def _ask(
    gateway: Gateway, ctx: TipContext, assembled: prompt.Assembled, n: int, version: str
) -> _Attempts:
    """Up to 1 + MAX_CLARIFICATIONS model calls; every attempt's outcome is logged."""
    messages = prompt.messages(ctx, assembled, n)
    refs = {t.item_ref for t in assembled.tasks}
    configured = gateway.config.model_of(TIP_GENERATOR)
    out = _Attempts(calls=[], drafted=[], model=configured)
    for attempt in range(1, MAX_CLARIFICATIONS + 2):
        try:
            answer = await gateway.complete(
                TIP_GENERATOR, messages, max_tokens=answer_tokens(n), schema=decoding_schema(n)
            )
        except GatewayError as err:
            out.calls.append(
                CallRecord(
                    TIP_GENERATOR, configured, version, attempt, "error", err.latency_ms, str(err)
                )
            )
            log.warning("tip-generator failed for a person (attempt %d): %s", attempt, err)
            return out
        out.model = answer.model
        verdict = check(answer.text, n, refs)
        if verdict.ok:
            out.calls.append(
                CallRecord(TIP_GENERATOR, answer.model, version, attempt, "ok", answer.latency_ms)
            )
            out.drafted = [
                Drafted(d.content, d.kind, d.source, d.confidence, d.source_ref, assembled.agents)
                for d in verdict.candidates
            ]
            return out
        last = attempt > MAX_CLARIFICATIONS
        out.calls.append(
            CallRecord(
                TIP_GENERATOR,
                answer.model,
                version,
                attempt,
                "fell_back" if last else "retried",
                answer.latency_ms,
                "; ".join(verdict.errors),
            )
        )
        messages = [
            *messages,
            {"role": "assistant", "content": answer.text[:4000]},
            prompt.clarification(verdict.errors, n),
        ]
    return out


def _task_detail(task: Candidate | None, kind: str) -> dict[str, Any]:
    if task is None:
        return {}
    detail: dict[str, Any] = {
        "about": task.item_ref,  # served only while this task is open and not hidden
        "project": task.project,
        "priority": task.priority,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "is_recurring": task.is_recurring,
    }
    if kind == "task":
        detail["task_ref"] = task.item_ref  # "done" closes this task at its source
    return detail


def _records(
    ctx: TipContext,
    drafted: list[Drafted],
    model: str,
    version: str,
    chash: str,
) -> list[CandidateRecord]:
    settings = get_settings()
    tasks = {t.item_ref: t for t in ctx.tasks}
    notes = {n.agent_id: n for n in ctx.notes}
    latest = ctx.now + timedelta(seconds=settings.llm_candidate_ttl_s)
    records: list[CandidateRecord] = []
    for d in drafted:
        # Never valid past the notes it was written from: stale notes make stale tips.
        expiry = min([latest, *(notes[a].expires_at for a in d.agents if a in notes)])
        records.append(
            CandidateRecord(
                content=d.content,
                kind=d.kind,
                source=d.source,
                model=model,
                prompt_version=version,
                confidence=d.confidence,
                source_ref=d.source_ref,
                agents=d.agents,
                detail=_task_detail(tasks.get(d.source_ref), d.kind),
                context_hash=chash,
                created_at=ctx.now,
                expires_at=expiry,
            )
        )
    return records


async def generate(
    user_id: str,
    gateway: Gateway | None = None,
    *,
    now: datetime | None = None,
    force: bool = False,
) -> Generation:
    """Write and store fresh candidates for one person (unless their context is unchanged).

    `gateway=None` or a gateway without `tip-generator` → the template writer.
    """
    now = now or datetime.now(UTC)
    settings = get_settings()
    n = settings.llm_candidates
    ctx = await gather_context(user_id, now)
    if ctx is None:
        return Generation(user_id, "gone")
    use_model = gateway is not None and gateway.has(TIP_GENERATOR)
    version = (
        prompt.prompt_version(prompt.ORCHESTRATOR, n) if use_model else template.template_version()
    )
    assembled = prompt.assemble(ctx, settings.llm_context_tokens)
    chash = context_hash(version, assembled)
    fresh_until = now + timedelta(seconds=settings.llm_candidate_ttl_s / 2)
    if not force and await is_fresh(user_id, chash, fresh_until):
        return Generation(user_id, "unchanged", prompt_version=version)
    if not ctx.notes and not ctx.tasks:
        return Generation(user_id, "empty", prompt_version=version)
    generation = uuid.uuid4()
    started = time.perf_counter()
    if gateway is not None and use_model:
        asked = await _ask(gateway, ctx, assembled, n, version)
        calls, drafted, model = asked.calls, asked.drafted, asked.model
        outcome = calls[-1].outcome if calls else "error"
    else:
        calls, drafted, model, outcome = [], [], TEMPLATE_MODEL, "template"
    if not drafted:
        # No model, or no valid answer: the template writer's candidates are the fallback.
        drafted = template.write(ctx, n)
        model, version = TEMPLATE_MODEL, template.template_version()
        if outcome == "template":
            latency = (time.perf_counter() - started) * 1000
            calls = [CallRecord(TIP_GENERATOR, TEMPLATE_MODEL, version, 1, "ok", latency)]
    records = _records(ctx, drafted[:n], model, version, chash)
    if not await replace_candidates(user_id, generation, records, calls, now):
        return Generation(user_id, "gone")
    # Decided now, on what is stored: a consent revoked while the model wrote counts too.
    await refresh_blocked(user_id)
    latency_ms = (time.perf_counter() - started) * 1000
    await publish(
        user_id,
        TipCandidatesGenerated(
            generation_id=str(generation),
            model=model,
            prompt_version=version,
            outcome=outcome,
            attempts=sum(1 for c in calls if c.model != TEMPLATE_MODEL),
            candidates=len(records),
            latency_ms=round(latency_ms, 3),
        ),
    )
    return Generation(
        user_id,
        "generated",
        model=model,
        prompt_version=version,
        outcome=outcome,
        attempts=len(calls),
        candidates=len(records),
        latency_ms=latency_ms,
    )
