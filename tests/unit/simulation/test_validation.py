"""OPE validation on a fixed seed: estimates from a random log stay close to the truth."""

from __future__ import annotations

from backend.simulation.validation import report_table, validate

BOUND = 0.25
"""Relative error allowed from a 2,000-decision log (the CLI's 20,000 do several times better)."""


def test_estimates_from_a_random_log_stay_under_the_bound() -> None:
    report = validate(decisions=2000, seed=0, policies=("random", "oo-v1"), bootstrap=100)
    assert report.decisions == 2000
    for estimator in ("snips", "dr"):
        assert report.worst(estimator) < BOUND, report_table(report)
    for row in report.rows:
        for estimator in ("snips", "dr"):
            e = row.estimates[estimator]
            assert e.low <= row.truth <= e.high, (row.policy_id, estimator, row.truth, e)
    by_id = {r.policy_id: r for r in report.rows}
    assert by_id["random"].ess == 2000, "a uniform target on a uniform log keeps every decision"
    assert by_id["oo-v1"].truth > by_id["random"].truth
    assert "worst relative error" in report_table(report)
