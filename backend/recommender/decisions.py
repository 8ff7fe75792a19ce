"""Picking a tip: the active policy serves, the decision is logged for the shadows to score.

The hot path reads everything it needs concurrently (snoozes, open items, the registry, the
user's policy states, the recent decision log, the cached population priors), computes the raw
features of each candidate once, lets the active policy pick, and writes the decision with every
candidate's raw features and project. The shadow policies score that same logged candidate set
in the worker, in order with the person's reactions (shadow_replay.py, ADR 0046): what they
would have picked costs the person's request nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import msgspec
import numpy as np

from backend.contracts.candidate import Candidate
from backend.contracts.clock import local_time
from backend.contracts.principal import Principal
from backend.contracts.sources import Gate, candidate_readers, gate_readers
from backend.db import Prepared
from backend.recommender import first_tip
from backend.recommender.candidate_columns import COLUMNS, CandidateColumns
from backend.recommender.candidate_log import compact
from backend.recommender.explain import explanation
from backend.recommender.feature_columns import (
    TableMappings,
    feature_table,
    row_mapping,
    shares,
)
from backend.recommender.feature_table import FeatureTable
from backend.recommender.features import Context
from backend.recommender.habits_cache import habits_of
from backend.recommender.history import HISTORY_DAYS, HISTORY_LIMIT, UserHistory
from backend.recommender.policies import Decision, Policy
from backend.recommender.population import population_priors
from backend.recommender.registry import serving
from backend.recommender.rows_insert import RowsInsert
from backend.recommender.state import state_for, states_for_pick
from backend.recommender.tables import NOT_SCORED, Feedback, ServedTip

log = logging.getLogger("oo.recommender.decisions")

_LOG_ENCODER = msgspec.json.Encoder()

DONE_GRACE_S = 15 * 60
"""An item answered "done" is not picked again for this long: closing it at the source is an
asynchronous job, and the task cache may still list it meanwhile."""


@dataclass(frozen=True)
class Served:
    """A logged decision: the served row's id and what the service shows and publishes."""

    tip_id: str
    candidate: Candidate
    features: dict[str, float]
    explanation: dict[str, Any]
    policy: Policy
    decision: Decision
    candidate_count: int
    latency_ms: float
    policy_id: str = ""
    """Who decided: the active policy's id, or a rule's (first_tip.RULE_ID)."""
    policy_version: str = ""
    phrasing: str | None = None
    """The task said as a person would (a newcomer's first task tip), else None."""


class TipAlreadyServed(Exception):
    """A tip served after `valid_after` is still unanswered: show it, pick nothing."""


def _unanswered_since(rows: list[dict[str, Any]], now: datetime, valid_after: datetime) -> bool:
    """Whether the person has an unanswered tip served after `valid_after`, told from the
    recent log when it covers that time (else by a query of its own)."""
    if any(r["reacted_at"] is None and r["served_at"] > valid_after for r in rows):
        return True
    covered = now - timedelta(days=HISTORY_DAYS) <= valid_after and (
        len(rows) < HISTORY_LIMIT or rows[-1]["served_at"] <= valid_after
    )
    return not covered


_HIDDEN = Prepared('SELECT item_ref FROM snooze WHERE "user" = {} AND until > {}')
_RECENT = Prepared(
    "SELECT item_ref, project, served_at, reaction, reacted_at FROM served_tip"
    ' WHERE "user" = {} AND served_at > {} ORDER BY served_at DESC LIMIT {}'
)


async def _hidden_refs(user_id: str, now: datetime) -> set[str]:
    return {r["item_ref"] for r in await _HIDDEN.rows(user_id, now)}


async def _history_rows(user_id: str, now: datetime) -> list[dict[str, Any]]:
    return await _RECENT.rows(user_id, now - timedelta(days=HISTORY_DAYS), HISTORY_LIMIT)


def _recently_done(rows: list[dict[str, Any]], now: datetime) -> set[str]:
    since = now - timedelta(seconds=DONE_GRACE_S)
    return {
        r["item_ref"]
        for r in rows
        if r["reaction"] == "done" and r["reacted_at"] is not None and r["reacted_at"] > since
    }


def _candidate_log(table: FeatureTable, items: CandidateColumns, rows: np.ndarray) -> str:
    """Every candidate's raw features, by column, and its project (candidate_log.py; `rows`:
    the candidates' rows of `items`), encoded here (msgspec) rather than by the ORM's
    json.dumps, several times slower on tens of thousands of numbers."""
    projects = (items.projects, items.project[rows].tolist())
    return _LOG_ENCODER.encode(compact(table.refs, table.keys, table.values, projects)).decode()


def display_detail(
    candidate: Candidate, features: dict[str, float], phrasing: str | None = None
) -> dict[str, Any]:
    """What pages show under a tip (project, priority, due date, overdue days), and the tip said
    as a person would when it was phrased (first_tip)."""
    detail: dict[str, Any] = {
        "project": candidate.project,
        "priority": candidate.priority,
        "is_recurring": candidate.is_recurring,
        "due_date": candidate.due_date.isoformat() if candidate.due_date else None,
        "days_overdue": int(features["days_overdue"]),
    }
    # A written tip logs which model and prompt wrote it (and the task "done" would close).
    if candidate.written is not None:
        detail.update(candidate.written.as_detail())
    if candidate.task_ref:
        detail["task_ref"] = candidate.task_ref
    if phrasing:
        detail["phrasing"] = phrasing
    return detail


async def _candidates(user_id: str, now: datetime) -> CandidateColumns:
    """Every registered source's candidates (tasks, written tips), read concurrently, as the
    columns of their list (each source's list kept while its objects come back: a sync)."""
    found = await asyncio.gather(*(read(user_id, now) for read in candidate_readers()))
    return COLUMNS.combined(found)


async def _gates(user_id: str, now: datetime) -> list[Gate]:
    """The eligibility gates in force for the person now (e.g. the next meeting)."""
    found = await asyncio.gather(*(read(user_id, now) for read in gate_readers()))
    return [g for g in found if g is not None]


async def _never_answered(user_id: str, rows: list[dict[str, Any]]) -> bool:
    """True before the person's first answer (the recent log is checked first: no extra query
    for anyone who answered lately)."""
    if any(r["reaction"] is not None for r in rows):
        return False
    return not await Feedback.exists().where(Feedback.user == user_id)


def eligible_rows(columns: CandidateColumns, hidden: set[str], gates: list[Gate]) -> np.ndarray:
    """Rows of the candidates a pick may choose from, before anything is scored: not hidden,
    still relevant (see `still_relevant`, which it equals), and through every gate."""
    mask = columns.eligible(hidden)
    if gates:
        candidates = columns.candidates
        for i in np.flatnonzero(mask).tolist():
            mask[i] = all(g(candidates[i]) for g in gates)
    return np.flatnonzero(mask)


def still_relevant(items: list[Candidate], hidden: set[str]) -> list[Candidate]:
    """Not hidden; and a written tip about a task only while that task is open and not hidden
    (snoozed, dismissed, just done): a reminder of something finished is worse than no tip."""
    open_refs = {c.item_ref for c in items if c.about is None} - hidden
    return [
        c for c in items if c.item_ref not in hidden and (c.about is None or c.about in open_refs)
    ]


async def pick(
    user: Principal, now: datetime, unless_served_after: datetime | None = None
) -> Served | None:
    """Score, pick, log (the candidates for the shadows, and the explanation); None when there
    is nothing to pick.

    `unless_served_after`: raise TipAlreadyServed instead when a tip served after it is still
    unanswered (told from the recent log the pick reads anyway: no query of its own, ADR 0041).
    """
    started = time.perf_counter()
    (
        (hidden, items, (active, _shadows), stored, rows, priors),
        gates,
        habits,
    ) = await asyncio.gather(
        asyncio.gather(  # typeshed types gather() up to six awaitables: nest the rest
            _hidden_refs(user.user_id, now),
            _candidates(user.user_id, now),  # written tips are pre-written: never a model call
            serving(),
            states_for_pick(user.user_id),
            _history_rows(user.user_id, now),
            population_priors(),
        ),
        _gates(user.user_id, now),
        habits_of(user.user_id, user.timezone, now),
    )
    if unless_served_after is not None and _unanswered_since(rows, now, unless_served_after):
        raise TipAlreadyServed
    hidden |= _recently_done(rows, now)
    # Eligibility first, then features of the eligible rows only: not hidden, still relevant,
    # and through every gate (e.g. no long task right before the next meeting).
    eligible = eligible_rows(items, hidden, gates)
    if not eligible.size:
        return None
    candidates = [items.candidates[i] for i in eligible.tolist()]
    base = Context(
        now=now,
        timezone=user.timezone,
        history=UserHistory.from_rows(rows, user.timezone),
        priors=priors,
        habits=habits,
    )
    open_share, overdue_share = shares(items, eligible, base.local.date().toordinal())
    base = replace(base, open_share=open_share, overdue_share=overdue_share)
    # One matrix of the raw features for every policy of this request (feature_table.py),
    # computed column by column (feature_columns.py: the numbers candidate_features gives).
    table = feature_table(items, eligible, candidates, base)
    context = replace(base, features=TableMappings(table), table=table)
    decision = active.score(state_for(active, stored), context, candidates)
    decided_by, decided_version = active.id, active.version
    phrasing: str | None = None
    if await _never_answered(user.user_id, rows):
        written = first_tip.written_choice(candidates)
        if written is not None:  # the rule overrides the policy, and is logged as the rule
            decision = first_tip.rule_decision(decision, written)
            decided_by, decided_version = first_tip.RULE_ID, first_tip.RULE_VERSION
        else:
            phrasing = first_tip.phrase_task(
                candidates[decision.choice], local_time(now, user.timezone).date()
            )
    chosen = candidates[decision.choice]
    features = row_mapping(table, decision.choice)
    why = explanation(active, decision, chosen, features, len(candidates))
    if decided_by == first_tip.RULE_ID:
        why.update(
            policy_id=decided_by,
            policy_version=decided_version,
            line="A written tip to start with; your answers teach oO what suits you.",
        )
    latency_ms = (time.perf_counter() - started) * 1000
    tip_id = uuid.uuid4()
    values = {
        ServedTip.id: tip_id,
        ServedTip.user: user.user_id,
        ServedTip.item_ref: chosen.item_ref,
        ServedTip.source: chosen.source,
        ServedTip.kind: chosen.kind,
        ServedTip.content: chosen.content,
        ServedTip.project: chosen.project,
        ServedTip.detail: display_detail(chosen, features, phrasing),
        ServedTip.features: features,
        ServedTip.candidates: _candidate_log(table, items, eligible),
        ServedTip.explanation: why,
        ServedTip.candidate_count: len(candidates),
        ServedTip.policy_id: decided_by,
        ServedTip.policy_version: decided_version,
        ServedTip.score: float(decision.scores[decision.choice]),
        ServedTip.propensity: decision.propensity,
        ServedTip.latency_ms: latency_ms,
        ServedTip.served_at: now,
        ServedTip.shadowed: NOT_SCORED,  # the shadows replay it in the worker (ADR 0046)
    }
    # One row from plain values: no Table instance to build (rows_insert.py).
    await RowsInsert(ServedTip, list(values), [list(values.values())])
    return Served(
        tip_id=str(tip_id),
        candidate=chosen,
        features=features,
        explanation=why,
        policy=active,
        decision=decision,
        candidate_count=len(candidates),
        latency_ms=latency_ms,
        policy_id=decided_by,
        policy_version=decided_version,
        phrasing=phrasing,
    )
