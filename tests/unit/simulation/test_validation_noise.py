"""The validation's reward noise and floor: the part of an estimate's error the log decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from backend.simulation.ope import Estimate, OpeInput
from backend.simulation.replay import LoggedDecision, PreparedLog
from backend.simulation.validation import (
    ValidationReport,
    ValidationRow,
    decisions_for,
    reward_noise,
    summary,
    target_row,
)

EXPECTED = (np.array([0.5, -0.5, 0.0]), np.array([0.2, 0.4, -1.0]))
"""The simulator's exact expected reward of each candidate, per decision."""


def _log(rewards: tuple[float, float], chosen: tuple[int, int]) -> list[LoggedDecision]:
    return [
        LoggedDecision(
            user="u",
            at=datetime(2026, 3, 2, 9, tzinfo=UTC) + timedelta(minutes=i),
            refs=["a", "b", "c"],
            keys=("priority",),
            values=np.array([[1.0], [2.0], [3.0]]),
            chosen=chosen[i],
            propensity=1 / 3,
            reward=rewards[i],
            expected=EXPECTED[i],
        )
        for i in range(2)
    ]


def test_reward_noise_is_the_weighted_residual_around_the_exact_expectation() -> None:
    # Served a (μ 0.5, r 1.0) then b (μ 0.4, r −1.0); the target's probabilities of them are
    # 0.6 and 0.3, so w = (1.8, 0.9) and the terms w (r − μ) are (0.9, −1.26).
    log = _log((1.0, -1.0), (0, 1))
    x = OpeInput(
        reward=np.array([1.0, -1.0]),
        logging=np.array([1 / 3, 1 / 3]),
        target=np.array([0.6, 0.3]),
        direct=np.zeros(2),
        q_served=np.zeros(2),
    )
    noise, floor = reward_noise(log, x)
    assert noise == pytest.approx((0.9 - 1.26) / 2)
    assert floor == pytest.approx(np.sqrt(0.9**2 + 1.26**2) / 2)


def test_dr_with_the_exact_reward_model_misses_the_truth_by_the_noise_exactly() -> None:
    # Whatever the target, DR whose model is μ itself errs by the reward noise and nothing else:
    # the noise is what no reward model can remove.
    log = _log((1.0, -1.0), (0, 1))
    prepared = PreparedLog(
        log=log,
        rewards=np.array([1.0, -1.0]),
        logging=np.array([1 / 3, 1 / 3]),
        q=[e.copy() for e in EXPECTED],
    )
    probs = [np.array([0.6, 0.2, 0.2]), np.array([0.1, 0.3, 0.6])]
    row = target_row("t", prepared, probs)
    truth = (0.6 * 0.5 - 0.2 * 0.5 + 0.1 * 0.2 + 0.3 * 0.4 - 0.6 * 1.0) / 2
    assert row.truth == pytest.approx(truth)
    assert row.estimates["dr"].value - row.truth == pytest.approx(row.noise)
    assert row.noise_error() == pytest.approx(abs(row.noise) / abs(truth))
    assert row.beyond_noise("dr") == pytest.approx(0.0, abs=1e-12)
    # SNIPS (w = 1.8, 0.9 on rewards 1, −1) is 0.9 / 2.7 = 1/3; what the noise leaves is its own.
    snips_own = abs(1 / 3 - truth - row.noise) / abs(truth)
    assert row.beyond_noise("snips") == pytest.approx(snips_own)
    assert snips_own > 0.1


def test_a_log_without_expectations_has_no_noise_to_report() -> None:
    log = _log((1.0, -1.0), (0, 1))
    log[1].expected = None
    x = OpeInput(np.zeros(2), np.full(2, 1 / 3), np.ones(2), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="simulated log"):
        reward_noise(log, x)


def _row(policy_id: str, truth: float, floor: float) -> ValidationRow:
    e = Estimate("dr", truth, truth - 0.1, truth + 0.1)
    estimates = dict.fromkeys(("ips", "snips", "dr", "switch-dr", "clipped-dr"), e)
    return ValidationRow(policy_id, truth, estimates, ess=100.0, noise=-floor, floor=floor)


def test_decisions_for_scales_the_widest_floor_to_the_target() -> None:
    # Floors of 20 % and 5 % of the truth from 1,000 decisions: the 20 % one decides, and
    # 1.96 floors within 10 % needs 1,000 · (1.96 · 0.2 / 0.1)² = 15,366.4 → 15,367 decisions.
    report = ValidationReport(1000, 0, [_row("wide", 0.5, 0.1), _row("narrow", 0.4, 0.02)])
    assert decisions_for([report]) == 15_367
    assert decisions_for([report], target=0.2) == 3_842
    text = summary([report])
    assert "NOISE" in text
    # The variants do not carry the noise, so no error "beyond" it is claimed for them.
    assert "DR          worst relative error   0.0%   beyond the noise  20.0%" in text
    assert "SWITCH-DR   worst relative error   0.0%   beyond the noise      —" in text
    assert "(wide)" in text
    assert "15,367" in text
