"""Judges: the rule judge's expected reward is exact; the LLM judge has the same interface."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from backend.simulation.judges import (
    LlmJudge,
    RuleJudge,
    Situation,
    done_logit,
    is_month_end,
    moment,
    outlook,
)
from backend.simulation.personas import all_personas, get_persona

LOCAL = datetime(2026, 3, 3, 8, 30, tzinfo=ZoneInfo("Europe/London"))  # a Tuesday morning


def _situation(**kw: object) -> Situation:
    base: dict[str, object] = {
        "moment": moment(get_persona("lark"), LOCAL),
        "project": "Health",
        "content": "Go for a 30-minute run",
        "priority": 3,
        "days_to_due": 0,
        "age_days": 4.0,
        "recurring": False,
        "exposure": 0.0,
    }
    return Situation(**{**base, **kw})  # type: ignore[arg-type]


def test_expected_reward_matches_the_draws() -> None:
    judge, s = RuleJudge(), _situation()
    rng = np.random.default_rng(0)
    rewards = [
        judge.react(s, float(rng.random()), float(rng.standard_normal())).reward
        for _ in range(40_000)
    ]
    assert np.mean(rewards) == pytest.approx(judge.expected(s), abs=0.015)


def test_persona_terms_move_the_odds_the_documented_way() -> None:
    s = _situation()
    assert outlook(_situation(exposure=3.0)).p_done < outlook(s).p_done, "fatigue"
    assert outlook(_situation(priority=1)).p_done < outlook(s).p_done, "priority"
    evening = moment(get_persona("lark"), LOCAL.replace(hour=20))
    assert outlook(_situation(moment=evening)).p_done < outlook(s).p_done, "health in the morning"
    owl = moment(get_persona("night-owl"), LOCAL)
    overdue = outlook(_situation(moment=owl, days_to_due=-5)).p_done
    assert overdue < outlook(_situation(moment=owl, days_to_due=None)).p_done, "avoids overdue"


def test_llm_judge_uses_the_answer_and_falls_back_on_nonsense() -> None:
    answers = iter(['Sure! {"action": "done", "seconds": 42}', "no idea", '{"action": "nap"}'])
    judge = LlmJudge(complete=lambda prompt: next(answers))
    s = _situation()
    first = judge.react(s, 0.99, 0.0)
    assert (first.action, first.dwell_ms, first.reward) == ("done", 42_000, 1.0)
    assert judge.react(s, 0.99, 0.0) == RuleJudge().react(s, 0.99, 0.0)
    judge.react(s, 0.5, 0.0)
    assert (judge.calls, judge.fallbacks) == (3, 2)
    assert "Go for a 30-minute run" in judge.prompt(s)
    assert "due today" in judge.prompt(s)


def test_litellm_is_imported_only_when_the_llm_judge_is_used() -> None:
    code = (
        "import sys; from backend.simulation.runner import simulate, SimConfig; "
        "simulate(SimConfig(policies=('random',), personas=('lark',), decisions=3)); "
        "print('litellm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_short_tasks_and_month_end_move_the_done_logit() -> None:
    held = {p.id: p for p in all_personas("held-out")}
    quick = held["quick-wins"]
    m = moment(quick, datetime(2026, 3, 3, 10))
    base = Situation(m, "Work", "x", 1, None, 1.0, False, 0.0, duration_min=5)
    assert done_logit(base) > done_logit(replace(base, duration_min=120)) + 2
    closer = held["month-end-closer"]
    assert is_month_end(datetime(2026, 3, 29, 10))
    assert not is_month_end(datetime(2026, 3, 10, 10))
    early = Situation(
        moment(closer, datetime(2026, 3, 10, 10)), "Finance", "x", 4, None, 1.0, False, 0.0
    )
    late = replace(early, moment=moment(closer, datetime(2026, 3, 30, 10)))
    assert done_logit(late) > done_logit(early) + 3
