"""Reward per tip kind and writer (the llm console's table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.contracts.json import json_object
from backend.recommender.tables import ServedTip


@dataclass(frozen=True)
class KindReward:
    """Rewards of served tips of one kind, written by one model and prompt ("" for tasks)."""

    kind: str
    model: str
    prompt_version: str
    served: int
    reacted: int
    mean_reward: float | None


async def rewards_by_kind(since: datetime, limit: int = 100_000) -> list[KindReward]:
    """Reward per tip kind (and writer) of tips served since a time, most served first."""
    rows = (
        await ServedTip.select(ServedTip.kind, ServedTip.reward, ServedTip.detail)
        .where(ServedTip.served_at >= since)
        .limit(limit)
        .output(load_json=True)
    )
    groups: dict[tuple[str, str, str], list[float | None]] = {}
    for r in rows:
        detail = json_object(r["detail"])
        group = (r["kind"], str(detail.get("model") or ""), str(detail.get("prompt_version") or ""))
        groups.setdefault(group, []).append(r["reward"])
    out = []
    for (kind, model, version), rewards in groups.items():
        got = [float(x) for x in rewards if x is not None]
        out.append(
            KindReward(
                kind=kind,
                model=model,
                prompt_version=version,
                served=len(rewards),
                reacted=len(got),
                mean_reward=round(sum(got) / len(got), 4) if got else None,
            )
        )
    return sorted(out, key=lambda k: (-k.served, k.kind, k.model))
