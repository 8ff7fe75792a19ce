"""The decision log as other domains read it: rewarded decisions with their candidate sets.

Off-policy evaluation (backend/simulation) needs, per served tip that has a reward: who, when,
the raw features of every candidate scored (logged by decisions.py, read by candidate_log.py),
which one was served, its propensity under the serving policy, and the reward. Rows logged
before candidate sets were recorded, or whose served item is missing from its own candidate
set, cannot be replayed and are left out; so are a rule's decisions (first_tip.RULE_PREFIX):
a deterministic choice gives no other candidate a chance, so no estimator can learn from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from piccolo.custom_types import Combinable

from backend.recommender.candidate_log import logged_rows
from backend.recommender.first_tip import RULE_PREFIX
from backend.recommender.tables import ServedTip

MAX_DECISIONS = 200_000
"""A bound on one read (30 days of a large deployment is read in pages by the caller)."""


@dataclass(frozen=True)
class LoggedTip:
    """One rewarded decision of the service."""

    tip_id: str
    user_id: str
    served_at: datetime
    refs: list[str]
    keys: list[str]
    values: list[list[float]]
    chosen: int
    propensity: float
    reward: float
    policy_id: str
    policy_version: str


def _logged(row: dict[str, Any]) -> LoggedTip | None:
    logged = logged_rows(row["candidates"])
    if logged is None:
        return None
    refs, keys, values = logged
    if row["item_ref"] not in refs or len(values) != len(refs) or not refs:
        return None
    try:  # a log whose values are not numbers of the right shape cannot be replayed
        if np.asarray(values, dtype=float).shape != (len(refs), len(keys)):
            return None
    except (TypeError, ValueError):
        return None
    propensity = float(row["propensity"] or 0.0)
    if propensity <= 0 or str(row["policy_id"]).startswith(RULE_PREFIX):
        return None
    return LoggedTip(
        tip_id=str(row["id"]),
        user_id=str(row["user"]),
        served_at=row["served_at"],
        refs=refs,
        keys=keys,
        values=values,
        chosen=refs.index(row["item_ref"]),
        propensity=propensity,
        reward=float(row["reward"]),
        policy_id=row["policy_id"],
        policy_version=row["policy_version"],
    )


async def rewarded_decisions(
    since: datetime, until: datetime | None = None, limit: int = MAX_DECISIONS
) -> list[LoggedTip]:
    """Rewarded decisions served in [since, until), oldest first (replayable ones only)."""
    where: Combinable = (ServedTip.served_at >= since) & ServedTip.reward.is_not_null()
    if until is not None:
        where = where & (ServedTip.served_at < until)
    rows = (
        await ServedTip.select(
            ServedTip.id,
            ServedTip.user,
            ServedTip.served_at,
            ServedTip.item_ref,
            ServedTip.propensity,
            ServedTip.reward,
            ServedTip.policy_id,
            ServedTip.policy_version,
            ServedTip.candidates,
        )
        .where(where)
        .order_by(ServedTip.served_at)
        .limit(limit)
        .output(load_json=True)
    )
    return [tip for tip in map(_logged, rows) if tip is not None]
