"""Shadow policies off the request path (ADR 0046): they score and learn in the worker.

A shadow policy answers "what would it have picked?" for every decision, and learns every
reward as if it ran — the evidence promotion and off-policy evaluation read. None of it changes
what the person is shown, so none of it runs in their request: the pick logs every candidate's
raw features and project (candidate_log.py) and the reaction logs its reward; a worker pass then
replays each person's new decisions and rewards in the order they happened:

- a decision not scored yet (`served_tip.shadowed = 0`): every shadow scores the logged candidate
  set with its state as it is at that point, as it would have at serve time;
- a reward not learned yet (`shadowed = 1` with a reward): every shadow learns it, as the active
  policy did in the reaction.

The shadows compute outside any transaction; each person's replay then writes in one short
transaction (their shadow decisions, the shadows' states, the rows' progress) under a
per-person advisory lock of its own, after checking that no other replay moved the same rows
meanwhile. The lock is not the learning lock the reaction takes: the reaction holds its tip's
row while it waits for that one, and the replay updates the same rows. A pass takes the people
with the oldest pending decisions first.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import numpy as np
from piccolo.querystring import QueryString

from backend.contracts.candidate import Candidate
from backend.contracts.principal import authenticator
from backend.db import engine, json_value, write_transaction
from backend.recommender.candidate_log import logged_projects, logged_rows
from backend.recommender.feature_columns import TableMappings
from backend.recommender.feature_table import FeatureTable
from backend.recommender.features import Context
from backend.recommender.learning import learned
from backend.recommender.policies import Decision, Policy, UserState
from backend.recommender.population import population_priors
from backend.recommender.registry import Evidence, RegistryEntry, serving
from backend.recommender.registry import promote as switch_active
from backend.recommender.rows_insert import RowsInsert
from backend.recommender.state import StoredState, state_for, states_upsert, stored_states
from backend.recommender.tables import NOT_SCORED, REPLAYED, SCORED, ServedTip, ShadowDecision

log = logging.getLogger("oo.recommender.shadow_replay")


PENDING_SQL = "shadowed = 0 OR (shadowed = 1 AND reward IS NOT NULL)"
"""The replay's work, as the partial index served_tip_shadow_pending says it (literally: a
bound parameter would keep PostgreSQL from using that index)."""

PERSON_ROWS = 500
"""Decisions of one person per transaction (a backlog is replayed over several)."""

PASS_PEOPLE = 200
"""People per query for pending work in a pass."""

SHADOW_COLUMNS = (
    ShadowDecision.id,
    ShadowDecision.tip,
    ShadowDecision.policy_id,
    ShadowDecision.policy_version,
    ShadowDecision.item_ref,
    ShadowDecision.score,
    ShadowDecision.propensity,
    ShadowDecision.served_propensity,
    ShadowDecision.agrees,
    ShadowDecision.explored,
    ShadowDecision.created_at,
)


# Written out (not joined from PENDING_SQL): plain constants; a test checks they carry it.
_PENDING_PEOPLE = (
    'SELECT "user", MIN(served_at) AS waiting FROM served_tip'
    " WHERE shadowed = 0 OR (shadowed = 1 AND reward IS NOT NULL)"
    ' GROUP BY "user" ORDER BY waiting LIMIT {}'
)
_PENDING_OF_PERSON = (
    "SELECT id, item_ref, source, kind, content, project, features, served_at, reacted_at,"
    " reward, shadowed, CASE WHEN shadowed = 0 THEN candidates END AS candidates"
    ' FROM served_tip WHERE "user" = {}'
    " AND (shadowed = 0 OR (shadowed = 1 AND reward IS NOT NULL))"
    " ORDER BY served_at LIMIT {}"
)


@dataclass(frozen=True)
class Replayed:
    """What a replay did: decisions scored by the shadows, rewards they learned."""

    people: int = 0
    scored: int = 0
    learned: int = 0

    def __add__(self, other: Replayed) -> Replayed:
        return Replayed(
            self.people + other.people, self.scored + other.scored, self.learned + other.learned
        )


def shadow_row(
    tip_id: Any,
    policy: Policy,
    d: Decision,
    candidates: Sequence[Candidate],
    served: int,
    decided_at: datetime,
) -> tuple[Any, ...]:
    """A shadow decision's values, in the order of SHADOW_COLUMNS (`decided_at`: when the
    decision it shadows was served)."""
    probs = d.probabilities
    return (
        uuid.uuid4(),
        tip_id,
        policy.id,
        policy.version,
        candidates[d.choice].item_ref,
        float(d.scores[d.choice]),
        d.propensity,
        float(probs[served]) if len(probs) == len(candidates) else 0.0,
        candidates[d.choice].item_ref == candidates[served].item_ref,
        d.explored,
        decided_at,
    )


_KINDS = (("kind_advice", "advice"), ("kind_insight", "insight"), ("kind_reminder", "reminder"))


def logged_candidates(log: Any) -> tuple[list[Candidate], FeatureTable] | None:
    """The candidates of a logged decision as its policies saw them, and their raw features
    as one table; None when the log cannot be replayed.

    A candidate is rebuilt from what policies read of it: its ref, project (logged beside the
    features), priority and length (raw features; a length of 0 is "unknown", as the features
    write it) and kind (the kind_* flags)."""
    logged = logged_rows(log)
    if logged is None or not logged[0]:
        return None
    refs, keys, values = logged
    matrix = np.asarray(values, dtype=float)
    if matrix.shape != (len(refs), len(keys)):
        return None
    column = {k: j for j, k in enumerate(keys)}
    projects = logged_projects(log, len(refs))

    def value(row: int, key: str) -> float:
        j = column.get(key)
        return float(matrix[row, j]) if j is not None else 0.0

    candidates = []
    for i, ref in enumerate(refs):
        minutes = value(i, "duration_min")
        kind = next((name for key, name in _KINDS if value(i, key) > 0), "task")
        candidates.append(
            Candidate(
                item_ref=ref,
                source=ref.split(":", 1)[0],
                kind=kind,
                content="",
                project=projects[i],
                priority=int(value(i, "priority")) if "priority" in column else 1,
                duration_min=int(minutes) if minutes > 0 else None,
            )
        )
    return candidates, FeatureTable(candidates, keys, matrix)


async def _pending_rows(user_id: str) -> list[dict[str, Any]]:
    """The person's pending decisions, oldest first; the candidate log only where the
    decision still has to be scored."""
    rows: list[dict[str, Any]] = await ServedTip.raw(_PENDING_OF_PERSON, user_id, PERSON_ROWS)
    return rows


async def _lock_person(user_id: str) -> None:
    """One replay per person at a time (PostgreSQL; SQLite's writer lock serialises)."""
    if engine().engine_type == "postgres":
        await engine().run_querystring(
            QueryString("SELECT pg_advisory_xact_lock(hashtext({}))", f"oo-shadow:{user_id}")
        )


class _PersonReplay:
    """One person's replay: the shadows' states as they move, and what to write."""

    def __init__(
        self,
        shadows: Sequence[Policy],
        stored: Mapping[str, StoredState],
        timezone: str,
        priors: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self.shadows = shadows
        self.timezone = timezone
        self.priors = priors
        self.current: dict[str, StoredState] = dict(stored)
        self.states: dict[str, tuple[Policy, UserState]] = {}
        self.updates: dict[str, int] = {}
        self.decisions: list[tuple[Any, ...]] = []

    def score(self, row: dict[str, Any]) -> None:
        try:
            found = logged_candidates(json_value(row["candidates"]))
        except (ValueError, TypeError, msgspec.DecodeError):
            found = None  # a log that does not read is left unscored, not retried forever
        if found is None:
            return
        candidates, table = found
        served = next((i for i, c in enumerate(candidates) if c.item_ref == row["item_ref"]), None)
        if served is None:
            return
        context = Context(
            now=row["served_at"],
            timezone=self.timezone,
            features=TableMappings(table),
            table=table,
            priors=self.priors,
        )
        for policy in self.shadows:
            try:
                d = policy.score(state_for(policy, self.current), context, candidates)
            except Exception:  # one broken shadow must not hold back the others
                log.exception("shadow policy %s failed to score", policy.id)
                continue
            self.decisions.append(
                shadow_row(row["id"], policy, d, candidates, served, row["served_at"])
            )

    def learn(self, row: dict[str, Any]) -> None:
        try:
            tip = dict(row, features=json_value(row["features"]))
        except msgspec.DecodeError:
            tip = dict(row, features={})
        # PostgreSQL keeps a reward as a 4-byte real: 6 decimals give back the value the
        # reaction computed (rewards are short decimals), which policies compare exactly.
        reward = round(float(row["reward"]), 6)
        new = learned(self.shadows, self.current, self.timezone, tip, reward, self.priors)
        for policy_id, (policy, state) in new.items():
            self.states[policy_id] = (policy, state)
            self.updates[policy_id] = self.updates.get(policy_id, 0) + 1
            # What the next event of this replay starts from (saved once, at the end).
            self.current[policy_id] = StoredState(None, policy.version, 0, state)


async def replay_person(user_id: str) -> Replayed:
    """Replay one person's pending decisions and rewards (up to PERSON_ROWS decisions).

    The shadows score and learn outside any transaction (SQLite's single writer is never held
    while they compute); the write is a short transaction that first checks no other replay
    moved the same rows meanwhile (else it writes nothing: that replay did the work)."""
    principal = await authenticator().from_user_id(user_id, "job")
    if principal is None:  # deleted: nothing to learn about them any more
        await ServedTip.update({ServedTip.shadowed: REPLAYED}).where(
            (ServedTip.user == user_id) & (ServedTip.shadowed < REPLAYED)
        )
        return Replayed(1)
    _active, shadows = await serving()
    priors = await population_priors()
    rows = await _pending_rows(user_id)  # first the rows, then the states they move on from
    if not rows:
        return Replayed()
    stored = await stored_states(user_id)
    replay = _PersonReplay(shadows, stored, principal.timezone, priors)
    progress, scored, learned_count = _replay_in_order(replay, rows)
    async with write_transaction():
        await _lock_person(user_id)
        if not await _still_pending(rows):
            return Replayed()
        await _write(user_id, replay, stored, rows, progress)
    return Replayed(1, scored, learned_count)


def _replay_in_order(
    replay: _PersonReplay, rows: list[dict[str, Any]]
) -> tuple[dict[Any, int], int, int]:
    """Score each decision and learn each reward in the order they happened; returns each
    row's progress and how many were scored and learned."""
    # Cut at the last row read: a reward given after a decision not read yet waits for it.
    until = rows[-1]["served_at"] if len(rows) == PERSON_ROWS else None
    events: list[tuple[datetime, int, dict[str, Any]]] = []
    for r in rows:
        if r["shadowed"] == NOT_SCORED:
            events.append((r["served_at"], 0, r))
        if r["reward"] is not None:
            events.append((r["reacted_at"] or r["served_at"], 1, r))
    events.sort(key=lambda e: (e[0], e[1]))
    if until is not None and events[0][0] > until:
        until = None  # rewards only, all after the cut: learn them rather than stall
    progress = {r["id"]: int(r["shadowed"]) for r in rows}
    scored = learned_count = 0
    for when, kind, r in events:
        if until is not None and when > until:
            break
        if kind == 0:
            replay.score(r)
            progress[r["id"]] = SCORED
            scored += 1
        else:
            replay.learn(r)
            progress[r["id"]] = REPLAYED
            learned_count += 1
    return progress, scored, learned_count


async def _still_pending(rows: list[dict[str, Any]]) -> bool:
    """Whether the rows are still as this replay read them (another replay of the same
    person, on another worker, may have moved them since)."""
    found = await ServedTip.select(ServedTip.id, ServedTip.shadowed).where(
        ServedTip.id.is_in([r["id"] for r in rows])
    )
    now = {str(r["id"]): r["shadowed"] for r in found}  # a row deleted meanwhile: moved too
    return all(now.get(str(r["id"])) == r["shadowed"] for r in rows)


async def _write(
    user_id: str,
    replay: _PersonReplay,
    stored: Mapping[str, StoredState],
    rows: list[dict[str, Any]],
    progress: dict[Any, int],
) -> None:
    if replay.decisions:
        await RowsInsert(ShadowDecision, SHADOW_COLUMNS, replay.decisions)
    upsert, _after = states_upsert(user_id, replay.states, stored, replay.updates)
    if upsert is not None:
        await upsert
    # Last: the rows a reaction may be claiming right now are held for the shortest time.
    for step in (SCORED, REPLAYED):
        ids = [r["id"] for r in rows if progress[r["id"]] == step and r["shadowed"] != step]
        if ids:
            await ServedTip.update({ServedTip.shadowed: step}).where(ServedTip.id.is_in(ids))


async def pending_people(limit: int = PASS_PEOPLE) -> list[str]:
    """People with pending shadow work, the longest waiting first."""
    rows = await ServedTip.raw(_PENDING_PEOPLE, limit)
    return [str(r["user"]) for r in rows]


async def replay_pending(budget_s: float = 10.0) -> Replayed:
    """A pass: replay everyone's pending work, the longest waiting first, until none is left
    or `budget_s` has passed (the rest waits for the next pass)."""
    deadline = time.monotonic() + budget_s
    done = Replayed()
    while time.monotonic() < deadline:
        people = await pending_people()
        if not people:
            break
        failed = 0
        for user_id in people:  # each replay moves its person's rows on: no pass repeats one
            if time.monotonic() >= deadline:
                break
            try:
                done += await replay_person(user_id)
            except Exception:  # one person's failure must not hold back everyone after them
                log.exception("shadow replay failed for a person; retried next pass")
                failed += 1
        if failed == len(people):
            break  # nothing moved: the next pass tries again
    return done


PROMOTION_REPLAY_S = 60.0
"""How long a promotion lets the shadows catch up before it switches."""


async def promote(
    actor_user_id: str | None, policy_id: str, force: bool = False, reason: str = ""
) -> tuple[RegistryEntry, Evidence]:
    """registry.promote after the pending replay: the promoted policy takes over with every
    reward learned so far, and the incumbent, a shadow from now on, does not learn again what
    it learned as the active one."""
    await replay_pending(budget_s=PROMOTION_REPLAY_S)
    return await switch_active(actor_user_id, policy_id, force, reason)
