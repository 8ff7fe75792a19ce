"""Population models of pooled policies: learned from consenting people's rewards, read as priors.

Only people who granted the opt-in consent `learning.everyone` (asked through the consent port,
backend/contracts/consent.py) contribute. A worker job rebuilds each pooled policy's population
state from scratch on every run, from the feedback of the people who consent *now* (joined to
the features logged when the tip was served): so withdrawing consent removes a person's
contribution at the next run, which an incremental fold could not undo. It reads feedback older
than `SETTLE_S`, so a reaction whose transaction commits late is picked up by a later run. A
state is served as a prior only when it pools at least `MIN_PEOPLE` people; otherwise a pooled
policy starts each person from its own default prior. The serving path reads the priors through a
short in-process cache: a prior a minute old is as good as a fresh one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.custom_types import Combinable

from backend.contracts.consent import LEARNING_EVERYONE, people_granting
from backend.db import write_transaction
from backend.recommender.policies import PooledPolicy, UserState, all_policies, get_policy
from backend.recommender.tables import Feedback, PopulationState

PRIOR_TTL_S = 60.0
"""Seconds a process keeps the priors it read."""

SETTLE_S = 60
"""Feedback younger than this is left for the next run (late commits are not skipped)."""

BATCH = 5000
"""Feedback rows folded in per query."""

MIN_PEOPLE = 20
"""A population model is used as a prior only once it pools this many people: below that it
would mostly be a few people's habits served to everyone else (and would say a lot about them)."""

PEOPLE_KEY = "people"
"""Key of the number of contributing people in a stored population state."""

_cache: tuple[float, dict[str, UserState]] | None = None


def pools_enough(state: UserState) -> bool:
    """Whether a population state pools at least MIN_PEOPLE people (else it is not used)."""
    people = state.get(PEOPLE_KEY)
    return isinstance(people, int) and people >= MIN_PEOPLE


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
        state = row["state"]
        if (
            row["policy_version"] == policy.version
            and isinstance(state, dict)
            and pools_enough(state)
        ):
            priors[policy.id] = state
    _cache = (time.monotonic(), priors)
    return priors


def forget_priors() -> None:
    """Drop the cached priors (the next read goes to the database)."""
    global _cache
    _cache = None


async def _rebuild_one(policy: PooledPolicy, people: frozenset[str], until: datetime) -> int:
    """The policy's population state rebuilt from scratch over `people`'s settled feedback."""
    state: UserState = policy.pooled_initial()
    watermark: datetime | None = None
    contributors: set[str] = set()
    folded = 0
    while people:
        where: Combinable = (Feedback.created_at <= until) & Feedback.user.is_in(sorted(people))
        if watermark is not None:
            where = where & (Feedback.created_at > watermark)
        batch: list[dict[str, Any]] = (
            await Feedback.select(
                Feedback.user,
                Feedback.reward,
                Feedback.created_at,
                Feedback.tip.features.as_alias("features"),
            )
            .where(where)
            .order_by(Feedback.created_at)
            .limit(BATCH)
            .output(load_json=True)
        )
        if not batch:
            break
        usable = [r for r in batch if isinstance(r["features"], dict)]
        state = policy.pooled_update(state, [(r["features"], float(r["reward"])) for r in usable])
        contributors.update(str(r["user"]) for r in usable)
        watermark = batch[-1]["created_at"]
        folded += len(batch)
        if len(batch) < BATCH:
            break
    state = {**state, PEOPLE_KEY: len(contributors)}
    now = datetime.now(UTC)
    async with write_transaction():
        row = (
            await PopulationState.select(PopulationState.id)
            .where(PopulationState.policy_id == policy.id)
            .first()
        )
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
                    PopulationState.rows: folded,
                    PopulationState.watermark: watermark,
                    PopulationState.updated_at: now,
                }
            ).where(PopulationState.id == row["id"])
    return folded


async def refresh_population(settle_s: int = SETTLE_S) -> dict[str, int]:
    """Rebuild every pooled policy's population model from the feedback of the people who
    consent now; rows folded per policy."""
    until = datetime.now(UTC) - timedelta(seconds=settle_s)
    people = await people_granting(LEARNING_EVERYONE)
    done = {policy.id: await _rebuild_one(policy, people, until) for policy in pooled_policies()}
    forget_priors()
    return done
