"""Population models of pooled policies: learned from every user's rewards, read as priors.

A worker job folds new feedback (joined to the features logged when the tip was served) into
each pooled policy's population state. It only reads feedback older than `SETTLE_S`, so a
reaction whose transaction commits late is not skipped by the watermark. The serving path reads
the priors through a short in-process cache: a prior a minute old is as good as a fresh one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.custom_types import Combinable

from backend.db import write_transaction
from backend.recommender.policies import PooledPolicy, UserState, all_policies, get_policy
from backend.recommender.tables import Feedback, PopulationState

PRIOR_TTL_S = 60.0
"""Seconds a process keeps the priors it read."""

SETTLE_S = 60
"""Feedback younger than this is left for the next run (late commits are not skipped)."""

BATCH = 5000
"""Feedback rows folded in per query."""

_cache: tuple[float, dict[str, UserState]] | None = None


def pooled_policies() -> list[PooledPolicy]:
    """Registered policies that learn a population model."""
    return [p for p in all_policies() if isinstance(p, PooledPolicy)]


async def population_priors() -> dict[str, UserState]:
    """Population states by policy id (current versions only), cached for PRIOR_TTL_S."""
    global _cache
    if _cache is not None and time.monotonic() - _cache[0] < PRIOR_TTL_S:
        return _cache[1]
    rows = await PopulationState.select(
        PopulationState.policy_id, PopulationState.policy_version, PopulationState.state
    ).output(load_json=True)
    priors: dict[str, UserState] = {}
    for row in rows:
        try:
            policy = get_policy(row["policy_id"])
        except KeyError:
            continue
        if row["policy_version"] == policy.version and isinstance(row["state"], dict):
            priors[policy.id] = row["state"]
    _cache = (time.monotonic(), priors)
    return priors


def forget_priors() -> None:
    """Drop the cached priors (the next read goes to the database)."""
    global _cache
    _cache = None


async def _refresh_one(policy: PooledPolicy, until: datetime) -> int:
    row = (
        await PopulationState.select()
        .where(PopulationState.policy_id == policy.id)
        .output(load_json=True)
        .first()
    )
    current = row is not None and row["policy_version"] == policy.version
    state: UserState = row["state"] if current and row else policy.pooled_initial()
    watermark: datetime | None = row["watermark"] if current and row else None
    folded = 0
    while True:
        where: Combinable = Feedback.created_at <= until
        if watermark is not None:
            where = where & (Feedback.created_at > watermark)
        batch: list[dict[str, Any]] = (
            await Feedback.select(
                Feedback.reward, Feedback.created_at, Feedback.tip.features.as_alias("features")
            )
            .where(where)
            .order_by(Feedback.created_at)
            .limit(BATCH)
            .output(load_json=True)
        )
        if not batch:
            break
        pairs = [
            (r["features"], float(r["reward"])) for r in batch if isinstance(r["features"], dict)
        ]
        state = policy.pooled_update(state, pairs)
        watermark = batch[-1]["created_at"]
        folded += len(batch)
        if len(batch) < BATCH:
            break
    now = datetime.now(UTC)
    async with write_transaction():
        if row is None:
            await PopulationState(
                policy_id=policy.id,
                policy_version=policy.version,
                state=state,
                rows=folded,
                watermark=watermark,
                updated_at=now,
            ).save()
        else:
            await PopulationState.update(
                {
                    PopulationState.policy_version: policy.version,
                    PopulationState.state: state,
                    PopulationState.rows: (row["rows"] if current else 0) + folded,
                    PopulationState.watermark: watermark,
                    PopulationState.updated_at: now,
                }
            ).where(PopulationState.id == row["id"])
    return folded


async def refresh_population(settle_s: int = SETTLE_S) -> dict[str, int]:
    """Fold new feedback into every pooled policy's population model; rows folded per policy."""
    until = datetime.now(UTC) - timedelta(seconds=settle_s)
    done = {policy.id: await _refresh_one(policy, until) for policy in pooled_policies()}
    forget_priors()
    return done
