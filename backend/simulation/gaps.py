"""Share of the random→oracle gap each policy closes, per persona, with CIs over seeds.

gap closed = (policy − random) ÷ (oracle − random), on mean rewards over the same people and
days. The point figure pools every seed (a ratio of means, not a mean of per-seed ratios, which
explode on a seed where random happens to come close to the oracle). The 95% interval is a
percentile bootstrap over seeds: seeds are resampled with replacement — all personas of a seed
together for the overall figure — and the ratio recomputed; the resampling stream is fixed, so
the same run prints the same intervals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.simulation.runner import ORACLE_ID, RunResult

RESAMPLES = 1000


def _per_user(result: RunResult, policy_id: str) -> np.ndarray:
    reward = result.runs[policy_id].reward
    with np.errstate(invalid="ignore"):
        return np.asarray(np.nanmean(reward, axis=1)) if reward.size else np.array([])


def _ratio(pol: np.ndarray, rnd: np.ndarray, orc: np.ndarray) -> float | None:
    room = float(orc.mean() - rnd.mean())
    return None if abs(room) < 1e-12 else float((pol.mean() - rnd.mean()) / room)


def _gap(
    pol: np.ndarray, rnd: np.ndarray, orc: np.ndarray, seed_of: np.ndarray
) -> dict[str, float | None]:
    """Point and bootstrap interval for users `pol/rnd/orc` (aligned), grouped by seed."""
    point = _ratio(pol, rnd, orc)
    seeds = np.unique(seed_of)
    if point is None or seeds.size < 2:
        return {"gap": point, "low": None, "high": None}
    groups = [np.flatnonzero(seed_of == s) for s in seeds]
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(RESAMPLES):
        rows = np.concatenate([groups[i] for i in rng.integers(len(groups), size=len(groups))])
        value = _ratio(pol[rows], rnd[rows], orc[rows])
        if value is not None:
            samples.append(value)
    if not samples:
        return {"gap": point, "low": None, "high": None}
    low, high = np.percentile(samples, [2.5, 97.5])
    return {"gap": point, "low": float(low), "high": float(high)}


def gap_table(result: RunResult) -> dict[str, Any]:
    """{policy: {"overall": gap, "personas": {persona: gap}}} (needs random in the run)."""
    if "random" not in result.runs:
        return {}
    users = result.users
    seed_of = np.array([u.seed for u in users])
    persona_of = np.array([u.persona.id for u in users])
    rnd, orc = _per_user(result, "random"), _per_user(result, ORACLE_ID)
    ok = ~(np.isnan(rnd) | np.isnan(orc))
    out: dict[str, Any] = {}
    for pid in result.runs:
        if pid in (ORACLE_ID, "random"):
            continue
        pol = _per_user(result, pid)
        keep = ok & ~np.isnan(pol)
        by_persona = {}
        for persona in sorted(set(persona_of.tolist())):
            rows = keep & (persona_of == persona)
            by_persona[persona] = _gap(pol[rows], rnd[rows], orc[rows], seed_of[rows])
        out[pid] = {
            "overall": _gap(pol[keep], rnd[keep], orc[keep], seed_of[keep]),
            "personas": by_persona,
        }
    return out


def _cell(g: dict[str, float | None]) -> str:
    if g["gap"] is None:
        return "—"
    if g["low"] is None or g["high"] is None:
        return f"{g['gap'] * 100:.1f}%"
    return f"{g['gap'] * 100:.1f}% [{g['low'] * 100:.0f}, {g['high'] * 100:.0f}]"


def gap_lines(gaps: dict[str, Any]) -> list[str]:
    """The CLI's gap section: one row per persona and overall, one column per policy."""
    if not gaps:
        return []
    ids = list(gaps)
    personas = list(next(iter(gaps.values()))["personas"])
    lines = [
        "",
        "share of the random→oracle gap closed (95% CI, bootstrap over seeds)",
        f"{'persona':<18}" + "".join(f"{pid:>22}" for pid in ids),
    ]
    for persona in personas:
        lines.append(
            f"{persona:<18}" + "".join(f"{_cell(gaps[p]['personas'][persona]):>22}" for p in ids)
        )
    lines.append(f"{'overall':<18}" + "".join(f"{_cell(gaps[p]['overall']):>22}" for p in ids))
    return lines
