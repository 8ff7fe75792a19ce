"""`oo sim --push` on a small seeded run: the comparison table, and no quiet-hour push of ours."""

from __future__ import annotations

from click.testing import CliRunner

from backend.recommender import push_rules
from backend.simulation import push_sim
from backend.simulation.cli import sim
from backend.simulation.personas import all_personas, get_persona


def test_every_persona_has_push_habits() -> None:
    for persona in all_personas():
        habits = persona.push
        assert 0 < habits.notice <= 1
        assert habits.turn_off > 0
        assert habits.recovery_h > 0


def test_sim_push_prints_the_comparison_and_ours_never_pushes_in_quiet_hours() -> None:
    args = ["--push", "--persona", "lark", "--persona", "night-owl", "--users", "2", "--days", "7"]
    result = CliRunner().invoke(sim, [*args, "--seed", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "persona",
        "decider",
        "pushes",
        "reactions",
        "per",
        "push",
        "turn-off",
        "quiet",
    ]
    rows = {(r.split()[0], r.split()[1]): r.split() for r in lines[2:] if len(r.split()) == 7}
    for persona in ("lark", "night-owl", "overall"):
        assert {d for p, d in rows if p == persona} == set(push_sim.DECIDERS)
        assert rows[(persona, "learned")][6] == "0"
    assert "pushes in quiet hours 0 (target 0)" in result.output
    again = CliRunner().invoke(sim, [*args, "--seed", "3"])
    assert again.output == result.output  # seeded: the same run twice


def test_the_fixed_daily_push_lands_at_nine_and_the_learned_one_outside_quiet_hours() -> None:
    night_owl = get_persona("night-owl")
    assert push_sim.quiet_window(night_owl) == (2, 19)
    results = push_sim.compare((night_owl,), seed=1, users=2, days=5)
    assert (
        results["night-owl"]["fixed-9am"].quiet_pushes == results["night-owl"]["fixed-9am"].pushes
    )
    assert results["night-owl"]["learned"].quiet_pushes == 0


def test_every_decider_picks_by_what_the_system_knows_never_by_hidden_appeal() -> None:
    hidden_gem = push_sim.Candidate(
        id=1, at=push_sim.START, appeal=3.0, due_now=False, priority=0.0, kind="task", score=-0.5
    )
    looks_good = push_sim.Candidate(
        id=2, at=push_sim.START, appeal=-2.0, due_now=False, priority=0.0, kind="task", score=0.9
    )
    assert push_sim._best([hidden_gem, looks_good]) is looks_good


def test_personas_in_worker_processes_give_the_same_figures() -> None:
    personas = (get_persona("lark"), get_persona("student"))
    alone = push_sim.compare(personas, seed=2, users=1, days=3)
    pooled = push_sim.compare(personas, seed=2, users=1, days=3, processes=2)
    assert push_sim.table(pooled) == push_sim.table(alone)


def test_the_learned_decider_sees_the_peak_hours_the_time_of_day_agent_would_infer() -> None:
    lark = get_persona("lark")
    peaks = push_sim.peak_hours(lark)
    assert {7, 8} <= set(peaks)
    quiet = push_sim.quiet_window(lark)
    assert not any(push_rules.in_quiet(h, *quiet) for h in peaks)
