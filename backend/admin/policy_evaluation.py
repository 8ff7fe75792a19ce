"""The policies page's off-policy evidence: IPS, SNIPS and DR of every policy on the logged
decisions, with their 95 % intervals, and whether each clears the promotion bar.

Replaying every policy over a month of decisions is CPU work measured in seconds to minutes, so
the console never computes it while a page loads: the hourly job (and the "Evaluate now" button)
stores the latest evaluation in Redis, and the page and the `policyEvaluation` query read it.
The estimators and the bar are the promotion's own (backend/simulation/evaluation.py), so what
the page shows is what a promotion would be decided on.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.recommender import registry
from backend.redis import get_redis, key
from backend.simulation.evaluation import (
    MIN_ESS,
    MIN_LOGGED,
    MIN_SERVED,
    PROMOTION_ESTIMATOR,
    PROMOTION_WINDOW_DAYS,
    PolicyEstimate,
    estimate_window,
)

BOOTSTRAP = 0
"""Bootstrap resamples (0: normal intervals from influence terms, as promotion uses)."""
KEEP_S = 3 * 86400
"""A stored evaluation older than this is dropped (the hourly job replaces it long before)."""


def _key() -> str:
    return key("admin", "policy-evaluation")


@dataclass(frozen=True)
class PolicyValue:
    """One policy's estimated value on the window."""

    policy_id: str
    served: int
    """Decisions of the window it served itself."""
    served_mean: float | None
    ess: float
    """Effective sample size of its importance weights."""
    estimates: dict[str, dict[str, float]]
    """estimator → {value, low, high}."""
    clears_bar: bool | None
    """Its promotion-estimator lower bound beats the incumbent from at least MIN_ESS effective
    decisions (None: active, or no estimate)."""


@dataclass(frozen=True)
class Evaluation:
    """The latest evaluation of every policy that is not disabled."""

    computed_at: datetime
    window_days: int
    decisions: int
    """Rewarded, replayable decisions in the window (all policies are estimated on them)."""
    min_decisions: int
    estimator: str
    incumbent_id: str
    incumbent_value: float | None
    policies: list[PolicyValue] = field(default_factory=list)

    @property
    def enough(self) -> bool:
        """Whether promotion would use an estimate from this many decisions."""
        return self.decisions >= MIN_LOGGED


def _incumbent_value(incumbent: PolicyEstimate | None) -> float | None:
    """What a candidate must beat: the incumbent's on-policy mean, or its own estimate."""
    if incumbent is None:
        return None
    if incumbent.served >= MIN_SERVED and incumbent.served_mean is not None:
        return incumbent.served_mean
    return incumbent.estimates[PROMOTION_ESTIMATOR].value


def build(
    computed_at: datetime, n: int, results: list[PolicyEstimate], incumbent_id: str
) -> Evaluation:
    """The evaluation from `estimate_window`'s answer (pure: tested on hand-made estimates)."""
    incumbent = next((r for r in results if r.policy_id == incumbent_id), None)
    bar = _incumbent_value(incumbent) if n >= MIN_LOGGED else None
    values = []
    for r in results:
        chosen = r.estimates[PROMOTION_ESTIMATOR]
        clears = (
            None
            if bar is None or r.policy_id == incumbent_id
            else chosen.low > bar and r.ess >= MIN_ESS
        )
        values.append(
            PolicyValue(
                policy_id=r.policy_id,
                served=r.served,
                served_mean=r.served_mean,
                ess=r.ess,
                estimates={
                    name: {"value": e.value, "low": e.low, "high": e.high}
                    for name, e in r.estimates.items()
                },
                clears_bar=clears,
            )
        )
    return Evaluation(
        computed_at=computed_at,
        window_days=PROMOTION_WINDOW_DAYS,
        decisions=n,
        min_decisions=MIN_LOGGED,
        estimator=PROMOTION_ESTIMATOR.upper(),
        incumbent_id=incumbent_id,
        incumbent_value=bar,
        policies=values,
    )


async def evaluate() -> Evaluation:
    """Estimate every known policy that is not disabled on the window, and store the result."""
    entries = [e for e in await registry.entries() if e.known and e.status != registry.DISABLED]
    incumbent_id = next((e.policy_id for e in entries if e.status == registry.ACTIVE), "")
    now = datetime.now(UTC)
    since = now - timedelta(days=PROMOTION_WINDOW_DAYS)
    ids = [e.policy_id for e in entries]
    n, results = await estimate_window(ids, since, bootstrap=BOOTSTRAP) if ids else (0, [])
    evaluation = build(now, n, results, incumbent_id)
    raw = asdict(evaluation)
    raw["computed_at"] = evaluation.computed_at.isoformat()
    await get_redis().set(_key(), json.dumps(raw), ex=KEEP_S)
    return evaluation


def _parse(raw: dict[str, Any]) -> Evaluation:
    return Evaluation(
        computed_at=datetime.fromisoformat(raw["computed_at"]),
        window_days=int(raw["window_days"]),
        decisions=int(raw["decisions"]),
        min_decisions=int(raw["min_decisions"]),
        estimator=str(raw["estimator"]),
        incumbent_id=str(raw["incumbent_id"]),
        incumbent_value=raw["incumbent_value"],
        policies=[PolicyValue(**p) for p in raw["policies"]],
    )


async def latest() -> Evaluation | None:
    """The stored evaluation, or None when none was computed (or it is unreadable)."""
    raw = await get_redis().get(_key())
    if not raw:
        return None
    try:
        return _parse(json.loads(raw))
    except (ValueError, KeyError, TypeError):  # a shape from an older release: recompute
        return None
