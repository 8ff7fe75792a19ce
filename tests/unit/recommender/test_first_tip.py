"""The first-tip rule's choice and the task phrasing (pure functions)."""

from __future__ import annotations

from datetime import date

from backend.contracts.candidate import Candidate, WrittenBy
from backend.recommender.first_tip import (
    MAX_TITLE,
    RULE_ID,
    phrase_task,
    rule_decision,
    written_choice,
)
from backend.recommender.policies import Decision

TODAY = date(2026, 12, 6)


def task(title: str = "Call the dentist", **kw: object) -> Candidate:
    return Candidate(item_ref=f"demo:{title}", source="demo", kind="task", content=title, **kw)  # type: ignore[arg-type]


def written(ref: str, model: str, confidence: float, kind: str = "advice") -> Candidate:
    return Candidate(
        item_ref=ref,
        source="momentum",
        kind=kind,
        content=f"A tip {ref}",
        written=WrittenBy(model=model, prompt_version="v1", confidence=confidence),
    )


def test_due_dates_are_said_in_words_and_the_title_stays_intact() -> None:
    assert (
        phrase_task(task(due_date=TODAY), TODAY)
        == "Start with “Call the dentist” — it's due today."
    )
    assert (
        phrase_task(task(due_date=date(2026, 12, 7)), TODAY)
        == "Start with “Call the dentist” — it's due tomorrow."
    )
    assert (
        phrase_task(task(due_date=date(2026, 12, 5)), TODAY)
        == "Start with “Call the dentist” — it's 1 day overdue."
    )
    assert (
        phrase_task(task(due_date=date(2026, 12, 1)), TODAY)
        == "Start with “Call the dentist” — it's 5 days overdue."
    )


def test_without_a_near_due_date_the_project_or_nothing() -> None:
    assert (
        phrase_task(task(project="Home", due_date=date(2026, 12, 20)), TODAY)
        == "One thing from Home to start with: “Call the dentist”."
    )
    assert phrase_task(task(), TODAY) == "One thing to start with: “Call the dentist”."
    title = "Renew passport (form B-12, 2 photos!)"
    phrased = phrase_task(task(title), TODAY)
    assert phrased is not None
    assert f"“{title}”" in phrased, "the title is quoted exactly as written"


def test_no_phrasing_for_long_titles_written_tips_or_other_kinds() -> None:
    assert phrase_task(task("x" * (MAX_TITLE + 1)), TODAY) is None
    assert phrase_task(written("llm:1", "openai/m", 0.9, kind="task"), TODAY) is None
    reminder = Candidate(item_ref="r", source="cal", kind="reminder", content="Water the plants")
    assert phrase_task(reminder, TODAY) is None


def test_the_rule_prefers_model_written_then_confidence_then_a_task() -> None:
    cands = [
        task(),
        written("llm:template-high", "template", 0.95),
        written("llm:model-low", "openai/m", 0.4),
        written("llm:model-high-advice", "openai/m", 0.8, kind="advice"),
        written("llm:model-high-task", "openai/m", 0.8, kind="task"),
    ]
    assert written_choice(cands) == 4
    assert written_choice(cands[:2]) == 1, "a template tip beats no written tip"
    assert written_choice([task(), task("Buy milk")]) is None


def test_the_rule_decision_is_certain_and_keeps_the_policy_scores() -> None:
    policy = Decision(choice=0, propensity=0.7, scores=[0.9, 0.1, 0.3], explored=True)
    ruled = rule_decision(policy, 2)
    assert (ruled.choice, ruled.propensity, ruled.explored) == (2, 1.0, False)
    assert ruled.probabilities == [0.0, 0.0, 1.0]
    assert ruled.scores == [0.9, 0.1, 0.3]
    assert RULE_ID.startswith("rule:")
