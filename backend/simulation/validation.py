"""OPE validation: estimate each policy from a simulated random log, compare with the truth.

The simulator logs a run under `random` (every propensity 1/n, the cleanest log there is). Each
target policy is replayed over that log exactly as `oo ope` replays the service's log (replay.py),
and its IPS, SNIPS, DR, switch-DR and clipped-DR estimates (with their 95 % intervals) are
compared with two truths the simulator knows:

- `truth` — Σₐ πᵢ(a) μᵢ(a) averaged over the logged moments, with μ the rule judge's exact
  expected reward: what the target would have earned, in expectation, had it served those very
  decisions. This is the quantity off-policy evaluation estimates, so the error against it is the
  estimator's error. The targets in issue 6 are measured against it.
- `noise` and `floor` — the part of the error no unbiased estimator can remove: the realised
  reward noise at the decisions the target would have kept, (1/n) Σᵢ wᵢ (rᵢ − μᵢ(aᵢ)), and its
  standard error. It is DR's exact error had its reward model been μ itself (so it is where a
  better reward model stops helping); IPS and SNIPS carry the same term. Where |noise| exceeds
  the target, an unbiased estimator meets it only if its own error happens to cancel the noise;
  `floor` says how many decisions the target needs (`decisions_for`). μ is read only here,
  never by the estimators.
- `on_policy` (optional) — the target's mean reward when it actually runs in the simulator on
  the same people: it also moves the world (what it serves gets done or wears people out) and
  learns only from its own picks, so it differs from `truth` by more than estimation error —
  the distance between "evaluated on yesterday's log" and "deployed".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import cast

import numpy as np

from backend.simulation.ope import (
    ESTIMATORS,
    VARIANTS,
    Estimate,
    OpeInput,
    effective_sample_size,
    estimate,
)
from backend.simulation.personas import select_personas
from backend.simulation.replay import (
    ORACLE_ID,
    LoggedDecision,
    PreparedLog,
    ope_input,
    prepare,
    replay,
    true_value,
)
from backend.simulation.runner import DEFAULT_POLICIES, SimConfig, simulate

DECISIONS_PER_USER = 200
TARGET = 0.10
"""Issue 18: worst relative error of SNIPS and DR over seeds 0–2 from 20,000 decisions."""
Z_95 = 1.96
REPORTED = (*ESTIMATORS, *VARIANTS)


@dataclass(frozen=True)
class ValidationRow:
    """One target policy's estimates against the truth."""

    policy_id: str
    truth: float
    estimates: dict[str, Estimate]
    ess: float
    noise: float = 0.0
    """(1/n) Σ wᵢ (rᵢ − μᵢ(aᵢ)): DR's error with the exact reward model (module docstring)."""
    floor: float = 0.0
    """Standard error of `noise`: √(Σ wᵢ² (rᵢ − μᵢ(aᵢ))²) / n."""
    on_policy: float | None = None

    def error(self, estimator: str) -> float:
        """|estimate − truth| / |truth| (inf when the truth is 0 and the estimate is not)."""
        diff = abs(self.estimates[estimator].value - self.truth)
        if self.truth == 0:
            return 0.0 if diff == 0 else math.inf
        return diff / abs(self.truth)

    def noise_error(self) -> float:
        """|noise| / |truth|: the relative error left with a perfect reward model."""
        return abs(self.noise) / abs(self.truth) if self.truth else math.inf

    def beyond_noise(self, estimator: str) -> float:
        """|estimate − truth − noise| / |truth|: the estimator's own share of its error, once the
        log's reward noise (which every unbiased estimator carries) is taken out."""
        diff = abs(self.estimates[estimator].value - self.truth - self.noise)
        return diff / abs(self.truth) if self.truth else math.inf

    def floor_share(self) -> float:
        """floor / |truth|: the relative standard error no estimator goes below on this log."""
        return self.floor / abs(self.truth) if self.truth else math.inf

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


def decisions_for(reports: list[ValidationReport], target: float = TARGET, z: float = Z_95) -> int:
    """Log size at which z floors fit within `target` of the truth for every (seed, target):
    the floor shrinks as 1/√n, so n · (z · floor share / target)²."""
    need = max(
        r.decisions * (z * row.floor_share() / target) ** 2 for r in reports for row in r.rows
    )
    return math.ceil(need)


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
        row = target_row(pid, prepared, replay(pid, log, seed=seed), seed, bootstrap)
        rows.append(replace(row, on_policy=on_policy_values.get(pid)))
    return ValidationReport(len(log), seed, rows)


def target_row(
    policy_id: str,
    prepared: PreparedLog,
    probs: Sequence[np.ndarray],
    seed: int = 0,
    bootstrap: int = 0,
) -> ValidationRow:
    """One target's estimates, truth and reward noise from its pick distributions on the log."""
    x = ope_input(prepared, probs)
    noise, floor = reward_noise(prepared.log, x)
    return ValidationRow(
        policy_id=policy_id,
        truth=true_value(prepared.log, probs),
        estimates=estimate(x, seed=seed, bootstrap=bootstrap, names=REPORTED),
        ess=effective_sample_size(x),
        noise=noise,
        floor=floor,
    )


def reward_noise(log: Sequence[LoggedDecision], x: OpeInput) -> tuple[float, float]:
    """(noise, floor) of a target on a simulated log (module docstring)."""
    if any(d.expected is None for d in log):
        raise ValueError("the reward noise needs a simulated log")
    mu = np.array([cast(np.ndarray, d.expected)[d.chosen] for d in log])
    terms = x.weights * (x.reward - mu)
    n = terms.shape[0]
    return float(terms.mean()), float(np.sqrt((terms * terms).sum())) / n


def report_table(report: ValidationReport) -> str:
    """Per target: the truth, then each estimator's value, interval, relative error and whether
    the interval covers the truth (✓/✗); last the reward noise and floor, relative to the truth
    (module docstring)."""
    head = f"{'policy':<12} {'truth':>7} {'on-policy':>9}"
    for k in REPORTED:
        head += f" {k.upper():>27}"
    lines = [
        f"OPE validation: {report.decisions} decisions logged under random (seed {report.seed})",
        head + f" {'ESS':>7} {'noise':>7} {'floor':>6}",
    ]
    for r in report.rows:
        line = f"{r.policy_id:<12} {r.truth:>+7.3f} "
        line += f"{r.on_policy:>+9.3f}" if r.on_policy is not None else f"{'—':>9}"
        for k in REPORTED:
            e = r.estimates[k]
            mark = "✓" if r.covers(k) else "✗"
            line += f" {e.value:>+7.3f} [{e.low:+.2f},{e.high:+.2f}] {r.error(k):>5.1%} {mark}"
        noise = r.noise / abs(r.truth) if r.truth else math.inf
        lines.append(line + f" {r.ess:>7.0f} {noise:>+7.1%} {r.floor_share():>6.1%}")
    lines.append(
        "worst relative error: " + ", ".join(f"{k.upper()} {report.worst(k):.1%}" for k in REPORTED)
    )
    return "\n".join(lines)


def summary(reports: list[ValidationReport]) -> str:
    """Worst relative error, worst error beyond the reward noise and interval coverage per
    estimator over every (seed, target); then the noise and the floor (module docstring)."""
    pairs = sum(len(r.rows) for r in reports)
    seeds = ",".join(str(r.seed) for r in reports)
    rows = [row for r in reports for row in r.rows]
    lines = [f"over seeds {seeds} ({pairs} (seed, policy) pairs):"]
    for k in REPORTED:
        # The variants drop or cap the correction that carries the noise: it is not theirs.
        own = f"{max(row.beyond_noise(k) for row in rows):6.1%}" if k in ESTIMATORS else "     —"
        lines.append(
            f"  {k.upper():<11} worst relative error {worst(reports, k):6.1%}"
            f"   beyond the noise {own}"
            f"   95% CI coverage {coverage(reports, k):6.1%}"
        )
    noisiest = max(rows, key=lambda row: row.noise_error())
    widest = max(rows, key=lambda row: row.floor_share())
    lines += [
        f"  {'NOISE':<11} worst relative error {noisiest.noise_error():6.1%}"
        f"   ({noisiest.policy_id}: DR's error with the exact reward model)",
        f"  floor: standard error up to {widest.floor_share():.1%} of the truth"
        f" ({widest.policy_id}); {Z_95} floors within {TARGET:.0%} everywhere needs"
        f" ≈ {decisions_for(reports):,} decisions",
    ]
    return "\n".join(lines)
