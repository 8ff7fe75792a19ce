"""OPE validation: estimate each policy from a simulated random log, compare with the truth.

The simulator logs a run under `random` (every propensity 1/n, the cleanest log there is). Each
target policy is replayed over that log exactly as `oo ope` replays the service's log (replay.py),
and its IPS, SNIPS, DR, switch-DR and clipped-DR estimates (with their 95 % intervals) are
compared with two truths the simulator knows:

- `truth` — Σₐ πᵢ(a) μᵢ(a) averaged over the logged moments, with μ the rule judge's exact
  expected reward: what the target would have earned, in expectation, had it served those very
  decisions. This is the quantity off-policy evaluation estimates, so the error against it is the
  estimator's error. The targets in issue 6 are measured against it.
- `on_policy` (optional) — the target's mean reward when it actually runs in the simulator on
  the same people: it also moves the world (what it serves gets done or wears people out) and
  learns only from its own picks, so it differs from `truth` by more than estimation error —
  the distance between "evaluated on yesterday's log" and "deployed".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backend.simulation.ope import (
    ESTIMATORS,
    VARIANTS,
    Estimate,
    effective_sample_size,
    estimate,
)
from backend.simulation.personas import select_personas
from backend.simulation.replay import ORACLE_ID, ope_input, prepare, replay, true_value
from backend.simulation.runner import DEFAULT_POLICIES, SimConfig, simulate

DECISIONS_PER_USER = 200
REPORTED = (*ESTIMATORS, *VARIANTS)


@dataclass(frozen=True)
class ValidationRow:
    """One target policy's estimates against the truth."""

    policy_id: str
    truth: float
    estimates: dict[str, Estimate]
    ess: float
    on_policy: float | None = None

    def error(self, estimator: str) -> float:
        """|estimate − truth| / |truth| (inf when the truth is 0 and the estimate is not)."""
        diff = abs(self.estimates[estimator].value - self.truth)
        if self.truth == 0:
            return 0.0 if diff == 0 else math.inf
        return diff / abs(self.truth)

    def covers(self, estimator: str) -> bool:
        """Whether the estimator's interval contains the truth."""
        e = self.estimates[estimator]
        return e.low <= self.truth <= e.high


@dataclass(frozen=True)
class ValidationReport:
    """Every target's row, and the log it came from."""

    decisions: int
    seed: int
    rows: list[ValidationRow]

    def worst(self, estimator: str) -> float:
        """The largest relative error of one estimator over the targets."""
        return max(r.error(estimator) for r in self.rows)


def worst(reports: list[ValidationReport], estimator: str) -> float:
    """The largest relative error of one estimator over every (seed, target)."""
    return max(r.worst(estimator) for r in reports)


def coverage(reports: list[ValidationReport], estimator: str) -> float:
    """Share of (seed, target) pairs whose interval covers the truth."""
    rows = [row for r in reports for row in r.rows]
    return sum(row.covers(estimator) for row in rows) / len(rows)


def validate(
    decisions: int = 20_000,
    seed: int = 0,
    policies: tuple[str, ...] = (*DEFAULT_POLICIES, ORACLE_ID),
    personas: tuple[str, ...] = (),
    bootstrap: int = 0,
    on_policy: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> ValidationReport:
    """Log `decisions` random decisions and evaluate each target from them (module docstring)."""
    people = len(select_personas(personas))
    per_user = min(DECISIONS_PER_USER, max(1, decisions // people))
    users_per_persona = max(1, math.ceil(decisions / (people * per_user)))
    config = SimConfig(
        policies=("random",),
        personas=personas,
        seed=seed,
        users_per_persona=users_per_persona,
        decisions=per_user,
        events="none",
    )
    say = on_progress or (lambda _: None)
    say(f"logging {decisions} decisions under random")
    log = simulate(config, keep_log=True).log[:decisions]
    prepared = prepare(log)
    on_policy_values: dict[str, float] = {}
    if on_policy:
        say("running every target on-policy on the same people")
        live = simulate(
            SimConfig(
                policies=tuple(p for p in policies if p != ORACLE_ID),
                personas=personas,
                seed=seed,
                users_per_persona=users_per_persona,
                decisions=per_user,
                events="none",
            )
        )
        on_policy_values = {pid: float(np.nanmean(run.reward)) for pid, run in live.runs.items()}
    rows: list[ValidationRow] = []
    for pid in policies:
        say(f"replaying {pid}")
        probs = replay(pid, log, seed=seed)
        x = ope_input(prepared, probs)
        rows.append(
            ValidationRow(
                policy_id=pid,
                truth=true_value(log, probs),
                estimates=estimate(x, seed=seed, bootstrap=bootstrap, names=REPORTED),
                ess=effective_sample_size(x),
                on_policy=on_policy_values.get(pid),
            )
        )
    return ValidationReport(len(log), seed, rows)


def report_table(report: ValidationReport) -> str:
    """Per target: the truth, then each estimator's value, interval, relative error and whether
    the interval covers the truth (✓/✗)."""
    head = f"{'policy':<12} {'truth':>7} {'on-policy':>9}"
    for k in REPORTED:
        head += f" {k.upper():>27}"
    lines = [
        f"OPE validation: {report.decisions} decisions logged under random (seed {report.seed})",
        head + f" {'ESS':>7}",
    ]
    for r in report.rows:
        line = f"{r.policy_id:<12} {r.truth:>+7.3f} "
        line += f"{r.on_policy:>+9.3f}" if r.on_policy is not None else f"{'—':>9}"
        for k in REPORTED:
            e = r.estimates[k]
            mark = "✓" if r.covers(k) else "✗"
            line += f" {e.value:>+7.3f} [{e.low:+.2f},{e.high:+.2f}] {r.error(k):>5.1%} {mark}"
        lines.append(line + f" {r.ess:>7.0f}")
    lines.append(
        "worst relative error: " + ", ".join(f"{k.upper()} {report.worst(k):.1%}" for k in REPORTED)
    )
    return "\n".join(lines)


def summary(reports: list[ValidationReport]) -> str:
    """Worst relative error and interval coverage per estimator over every (seed, target)."""
    pairs = sum(len(r.rows) for r in reports)
    seeds = ",".join(str(r.seed) for r in reports)
    lines = [f"over seeds {seeds} ({pairs} (seed, policy) pairs):"]
    for k in REPORTED:
        lines.append(
            f"  {k.upper():<11} worst relative error {worst(reports, k):6.1%}"
            f"   95% CI coverage {coverage(reports, k):6.1%}"
        )
    return "\n".join(lines)
