"""A run's summary: per policy and per persona, against the oracle; and the CLI's table.

Definitions (the same everywhere: CLI, GraphQL, stored summary):

- mean reward — realised rewards averaged over every decision of every simulated user.
- 95% CI — over simulated users (each user's mean is one observation: decisions of one person
  are not independent), mean ± 1.96 · sd / √users.
- % of oracle — mean reward ÷ the oracle's mean reward on the same people and days.
- regret — per decision, the best expected reward available at that moment minus the expected
  reward of what was served (≥ 0 by construction; the oracle's is 0), averaged.
- gap closed — (policy − random) ÷ (oracle − random): how much of the room above chance a
  policy takes, which unlike the % does not depend on where zero reward lies.
- model regret / exploration regret — the regret split at the policy's own best guess (its
  highest-scored candidate): best − best guess is what its model of the person gets wrong,
  best guess − served what exploring costs. Each is also given for the first and the second
  half of the decisions: a model that learns the person shrinks its part from one to the other.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from backend.simulation.gaps import gap_lines, gap_table
from backend.simulation.runner import ACTIONS, ORACLE_ID, PolicyRun, RunResult

CURVE_POINTS = 10


def _mean(a: np.ndarray) -> float | None:
    a = a[~np.isnan(a)]
    return float(a.mean()) if a.size else None


def _ci(per_user: np.ndarray) -> tuple[float | None, float | None]:
    per_user = per_user[~np.isnan(per_user)]
    if per_user.size < 2:
        return None, None
    m = float(per_user.mean())
    half = 1.96 * float(per_user.std(ddof=1)) / math.sqrt(per_user.size)
    return m - half, m + half


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _curve(run: PolicyRun) -> list[float | None]:
    """Mean reward over each tenth of the decisions (the reward curve)."""
    steps = run.reward.shape[1]
    edges = np.linspace(0, steps, CURVE_POINTS + 1).astype(int)
    return [_mean(run.reward[:, a:b]) for a, b in itertools.pairwise(edges) if b > a]


def _policy_summary(run: PolicyRun, rows: np.ndarray) -> dict[str, Any]:
    reward = run.reward[rows]
    with np.errstate(invalid="ignore"):
        per_user = np.nanmean(reward, axis=1) if reward.size else np.array([])
    low, high = _ci(per_user)
    decisions = int((~np.isnan(reward)).sum())
    actions = run.action[rows]
    return {
        "decisions": decisions,
        "mean_reward": _mean(reward),
        "ci_low": low,
        "ci_high": high,
        "mean_expected": _mean(run.expected[rows]),
        "regret": _mean(run.best[rows] - run.expected[rows]),
        **_regret_split(run, rows),
        "actions": {a: int((actions == k).sum()) for k, a in enumerate(ACTIONS)},
    }


def _regret_split(run: PolicyRun, rows: np.ndarray) -> dict[str, Any]:
    """Model and exploration regret, over all decisions and per half (module docstring)."""
    if run.greedy.shape != run.best.shape:
        return {}
    half = run.best.shape[1] // 2
    parts = {"": slice(None), "_first_half": slice(0, half), "_second_half": slice(half, None)}
    split: dict[str, Any] = {}
    for suffix, steps in parts.items():
        best, greedy = run.best[rows, steps], run.greedy[rows, steps]
        split["model_regret" + suffix] = _mean(best - greedy)
        split["exploration_regret" + suffix] = _mean(greedy - run.expected[rows, steps])
    return split


def summarise(result: RunResult, last: int = 50) -> dict[str, Any]:
    """The stored summary of a run (see module docstring for the definitions)."""
    personas = sorted({u.persona.id for u in result.users})
    all_rows = np.arange(len(result.users))
    oracle = result.runs[ORACLE_ID]
    oracle_mean = _mean(oracle.reward)
    random_mean = _mean(result.runs["random"].reward) if "random" in result.runs else None
    tail = slice(max(0, result.config.decisions - last), None)
    oracle_tail = _mean(oracle.reward[:, tail])
    policies: dict[str, Any] = {}
    for pid, run in result.runs.items():
        s = _policy_summary(run, all_rows)
        s["pct_oracle"] = _ratio(s["mean_reward"], oracle_mean)
        s["pct_oracle_last"] = _ratio(_mean(run.reward[:, tail]), oracle_tail)
        if random_mean is not None and oracle_mean is not None and s["mean_reward"] is not None:
            room = oracle_mean - random_mean
            s["gap_closed"] = (s["mean_reward"] - random_mean) / room if room else None
        s["us_per_decision"] = run.seconds / s["decisions"] * 1e6 if s["decisions"] else None
        s["curve"] = _curve(run)
        by_persona: dict[str, Any] = {}
        for persona in personas:
            rows = np.array([u.index for u in result.users if u.persona.id == persona])
            p = _policy_summary(run, rows)
            p["pct_oracle"] = _ratio(p["mean_reward"], _mean(oracle.reward[rows]))
            by_persona[persona] = p
        s["personas"] = by_persona
        policies[pid] = s
    return {
        "users": len(result.users),
        "decisions_per_user": result.config.decisions,
        "personas": personas,
        "overdue_share": result.overdue_start,
        "last": last,
        "policies": policies,
        "gaps": gap_table(result),
    }


def _f(value: float | None, fmt: str = "{:+.3f}") -> str:
    return "—" if value is None else fmt.format(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def table(summary: dict[str, Any]) -> str:
    """The CLI's closing table: per policy, then per persona (mean reward and % of oracle)."""
    pols = summary["policies"]
    lines = [
        f"{summary['users']} simulated users × {summary['decisions_per_user']} decisions; "
        f"{summary['overdue_share'] * 100:.0f}% start with an overdue task",
        "",
        f"{'policy':<12} {'mean reward':>11} {'95% CI':>17} {'% of oracle':>11} "
        f"{'last ' + str(summary['last']):>9} {'regret':>7} {'gap closed':>10} {'µs/dec':>8}",
    ]
    for pid, s in pols.items():
        ci = f"[{_f(s['ci_low'])}, {_f(s['ci_high'])}]"
        lines.append(
            f"{pid:<12} {_f(s['mean_reward']):>11} {ci:>17} {_pct(s['pct_oracle']):>11} "
            f"{_pct(s['pct_oracle_last']):>9} {_f(s['regret'], '{:.3f}'):>7} "
            f"{_pct(s.get('gap_closed')):>10} {_f(s['us_per_decision'], '{:.0f}'):>8}"
        )
    lines += ["", "per persona — mean reward (% of oracle)"]
    ids = list(pols)
    lines.append(f"{'persona':<16}" + "".join(f"{pid:>20}" for pid in ids))
    for persona in summary["personas"]:
        cells = []
        for pid in ids:
            p = pols[pid]["personas"][persona]
            cells.append(f"{_f(p['mean_reward'])} ({_pct(p['pct_oracle'])})")
        lines.append(f"{persona:<16}" + "".join(f"{c:>20}" for c in cells))
    lines += _split_lines(pols)
    lines += gap_lines(summary.get("gaps") or {})
    return "\n".join(lines)


def _split_lines(pols: dict[str, Any]) -> list[str]:
    """Regret at the policy's best guess (model) and from exploring, by half of the run."""
    rows = [
        (pid, s)
        for pid, s in pols.items()
        if pid != ORACLE_ID and s.get("model_regret") is not None
    ]
    if not rows:
        return []
    lines = [
        "",
        "regret split — model (best − the policy's best guess), exploration (guess − served)",
        f"{'policy':<12} {'model':>7} {'1st half':>9} {'2nd half':>9} {'exploration':>12}",
    ]
    for pid, s in rows:
        lines.append(
            f"{pid:<12} {_f(s['model_regret'], '{:.3f}'):>7} "
            f"{_f(s['model_regret_first_half'], '{:.3f}'):>9} "
            f"{_f(s['model_regret_second_half'], '{:.3f}'):>9} "
            f"{_f(s['exploration_regret'], '{:.3f}'):>12}"
        )
    return lines
