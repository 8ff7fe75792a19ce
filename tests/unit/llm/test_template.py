"""The template writer: varied, deterministic, habit-aware, within the gate's rules."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from backend.llm import template
from backend.llm.gate import MAX_CONTENT, check
from tests.unit.llm.helpers import NOTES, NOW, context


def test_one_of_each_kind_first_and_the_tasks_they_name() -> None:
    written = template.write(context(), 4)
    assert [d.kind for d in written] == ["task", "reminder", "insight", "advice"]
    task, reminder = written[0], written[1]
    assert task.source_ref == "demo:1", "the overdue task in the project whose dates are real"
    assert "Send the quarterly numbers to Anna" in task.content
    assert task.agents == ("overdue-task",)
    assert reminder.source_ref == "demo:2", "due today"
    assert all(d.content == d.content.strip() for d in written)


def test_deterministic_for_a_person_and_day_varied_across_days() -> None:
    assert template.write(context("u-1"), 6) == template.write(context("u-1"), 6)
    days = {
        tuple(d.content for d in template.write(context("u-1", now=NOW + timedelta(days=i)), 6))
        for i in range(6)
    }
    assert len(days) > 1, "a new day brings new words"
    people = {tuple(d.content for d in template.write(context(f"u-{i}"), 6)) for i in range(8)}
    assert len(people) > 1


def test_quiet_hours_bring_rest_not_effort() -> None:
    written = template.write(context(now=NOW.replace(hour=23)), 6)
    quiet = [d for d in written if d.source == "time-of-day" and d.kind == "advice"]
    assert quiet
    assert "quiet" in quiet[0].content or "wind down" in quiet[0].content


def test_cold_start_defaults_are_not_quoted_as_habits() -> None:
    cold = tuple(
        type(n)(**{**n.__dict__, "evidence": 0})  # same notes, but no history behind them
        for n in NOTES
    )
    written = template.write(context(notes=cold), 6)
    assert written, "tasks still make tips"
    assert all(not d.agents for d in written)
    assert {d.source for d in written} <= {"tasks", "time"}
    clock = [d for d in written if d.source == "time"]
    assert len(clock) == 1, "one gentle word from the clock, no claimed habits"
    assert "usually" not in clock[0].content


def test_muted_kinds_are_not_written() -> None:
    written = template.write(context(silenced=frozenset({"advice", "insight"})), 6)
    assert written
    assert {d.kind for d in written} <= {"task", "reminder"}


def test_nothing_known_means_nothing_written() -> None:
    assert template.write(context(notes=(), tasks=()), 4) == []


@pytest.mark.parametrize("hour", [6, 9, 14, 23])
def test_every_candidate_passes_the_gate(hour: int) -> None:
    ctx = context(now=NOW.replace(hour=hour))
    written = template.write(ctx, 8)
    doc = {
        "candidates": [
            {"content": d.content, "kind": d.kind, "source": d.source, "source_ref": d.source_ref}
            for d in written
        ]
    }
    verdict = check(json.dumps(doc), 8, task_refs={t.item_ref for t in ctx.tasks})
    assert verdict.ok, verdict.errors
    assert all(len(d.content) <= MAX_CONTENT for d in written)


def test_template_version_is_a_hash_of_the_phrases(monkeypatch: pytest.MonkeyPatch) -> None:
    before = template.template_version()
    assert before.startswith("template-")
    assert template.template_version() == before
    monkeypatch.setitem(template.PHRASES, "quiet", ("Rest now.",))
    assert template.template_version() != before
