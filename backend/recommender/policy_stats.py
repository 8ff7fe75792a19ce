"""Live statistics of each registered policy over a recent window (admin only).

Three grouped queries, run concurrently: served decisions and their rewards per policy version,
shadow decisions split by agreement with the served pick, and the reward of the served tip when
a shadow agreed. A shadow's own mean reward cannot be observed (its picks are not shown); the
reward on agreement and the agreement rate are what online data says before off-policy
evaluation.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Avg, Count
from piccolo.querystring import QueryString

from backend.recommender.tables import ServedTip, ShadowDecision

WINDOW_DAYS = 30
"""Statistics cover the decision log's retention window."""


@dataclass(frozen=True)
class PolicyStats:
    """What one policy version did in the window."""

    served_decisions: int = 0
    rewarded_decisions: int = 0
    mean_reward: float | None = None
    shadow_decisions: int = 0
    agreed_decisions: int = 0
    agreed_mean_reward: float | None = None
    mean_squared_reward: float | None = None

    @property
    def reward_ci(self) -> tuple[float | None, float | None]:
        """95% interval of the mean reward over its rewarded decisions (normal approximation;
        None when fewer than two)."""
        n, m, sq = self.rewarded_decisions, self.mean_reward, self.mean_squared_reward
        if n < 2 or m is None or sq is None:
            return None, None
        variance = max(sq - m * m, 0.0) * n / (n - 1)
        half = 1.96 * math.sqrt(variance / n)
        return m - half, m + half

    @property
    def decisions(self) -> int:
        """Decisions it made, served or in shadow."""
        return self.served_decisions + self.shadow_decisions

    @property
    def agreement_rate(self) -> float | None:
        """Share of its shadow decisions that matched the served pick."""
        return self.agreed_decisions / self.shadow_decisions if self.shadow_decisions else None


async def _served(since: datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await ServedTip.select(
            ServedTip.policy_id,
            ServedTip.policy_version,
            Count(alias="n"),
            Count(ServedTip.reward, alias="rewarded"),
            Avg(ServedTip.reward, alias="mean_reward"),
            QueryString("AVG({} * {})", ServedTip.reward, ServedTip.reward, alias="mean_sq"),
        )
        .where(ServedTip.served_at > since)
        .group_by(ServedTip.policy_id, ServedTip.policy_version)
    )
    return rows


async def _shadow(since: datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await ShadowDecision.select(
            ShadowDecision.policy_id,
            ShadowDecision.policy_version,
            ShadowDecision.agrees,
            Count(alias="n"),
        )
        .where(ShadowDecision.created_at > since)
        .group_by(ShadowDecision.policy_id, ShadowDecision.policy_version, ShadowDecision.agrees)
    )
    return rows


async def _agreed_reward(since: datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await ShadowDecision.select(
            ShadowDecision.policy_id,
            ShadowDecision.policy_version,
            Avg(ShadowDecision.tip.reward, alias="mean_reward"),
        )
        .where(
            (ShadowDecision.created_at > since) & (ShadowDecision.agrees == True)  # noqa: E712 - Piccolo builds SQL from ==
        )
        .group_by(ShadowDecision.policy_id, ShadowDecision.policy_version)
    )
    return rows


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


async def policy_stats(
    versions: dict[str, str], window_days: int = WINDOW_DAYS
) -> dict[str, PolicyStats]:
    """Stats per policy id, for the version given for it (other versions are left out)."""
    since = datetime.now(UTC) - timedelta(days=window_days)
    served, shadow, agreed = await asyncio.gather(
        _served(since), _shadow(since), _agreed_reward(since)
    )
    acc: dict[str, dict[str, Any]] = {pid: {} for pid in versions}

    def mine(row: dict[str, Any]) -> dict[str, Any] | None:
        pid = row["policy_id"]
        return acc[pid] if versions.get(pid) == row["policy_version"] else None

    for row in served:
        if (a := mine(row)) is not None:
            a["served_decisions"] = int(row["n"])
            a["rewarded_decisions"] = int(row["rewarded"])
            a["mean_reward"] = _float(row["mean_reward"])
            a["mean_squared_reward"] = _float(row["mean_sq"])
    for row in shadow:
        if (a := mine(row)) is not None:
            a["shadow_decisions"] = a.get("shadow_decisions", 0) + int(row["n"])
            if row["agrees"]:
                a["agreed_decisions"] = int(row["n"])
    for row in agreed:
        if (a := mine(row)) is not None:
            a["agreed_mean_reward"] = _float(row["mean_reward"])
    return {pid: PolicyStats(**values) for pid, values in acc.items()}
