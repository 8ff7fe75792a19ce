"""Personas are data: at least eight, distinct, documented, and 70% with overdue work."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.simulation.personas import (
    PERSONA_DIR,
    PersonaError,
    all_personas,
    parse_persona,
    select_personas,
)


def test_at_least_eight_distinct_personas_are_stored_as_yaml() -> None:
    personas = all_personas()
    assert len(personas) >= 8
    assert len({p.id for p in personas}) == len(personas)
    assert len(list(PERSONA_DIR.glob("*.yaml"))) == len(personas)
    assert all(p.summary for p in personas)


def test_about_seventy_percent_let_work_go_overdue() -> None:
    personas = all_personas()
    share = sum(p.overdue for p in personas) / len(personas)
    assert 0.6 <= share <= 0.8


def test_rhythms_cover_morning_night_office_and_irregular() -> None:
    by_id = {p.id: p for p in all_personas()}
    peak = {pid: max(range(24), key=lambda h: p.rhythm_weekday[h]) for pid, p in by_id.items()}
    assert peak["lark"] < 9
    assert peak["night-owl"] >= 20
    assert 8 <= peak["nine-to-five"] <= 17
    flat = by_id["irregular"].rhythm_weekday
    assert min(flat) > 0
    assert max(flat) / min(flat) <= 6


def test_behaviours_differ_where_the_issue_asks() -> None:
    r = {p.id: p.reaction for p in all_personas()}
    assert r["night-owl"]["overdue"] < 0 < r["deadline-driven"]["overdue"], "attitude to overdue"
    assert r["nine-to-five"]["priority"] > 3 * r["student"]["priority"], "priority sensitivity"
    assert r["deadline-driven"]["snooze_share"] > 2 * r["keeps-up"]["snooze_share"], "snoozing"
    assert r["irregular"]["fatigue"] > 2 * r["deadline-driven"]["fatigue"], "fatigue"
    warrior = {p.id: p for p in all_personas()}["weekend-warrior"]
    assert warrior.sessions_weekend > 3 * warrior.sessions_weekday, "weekday/weekend"


def test_a_malformed_persona_says_what_is_wrong() -> None:
    with pytest.raises(PersonaError, match="timezone"):
        parse_persona({"id": "x", "timezone": "Mars/Base"})
    good = {p.id: p for p in all_personas()}
    assert good  # parse_persona of a real file is exercised by all_personas()


def test_held_out_personas_load_validate_and_stay_out_of_the_standard_set() -> None:
    standard = {p.id for p in all_personas()}
    held_out = {p.id: p for p in all_personas("held-out")}
    assert len(held_out) >= 4
    assert not standard & set(held_out), "held-out personas never join the tuning set"
    assert len(held_out["rotating-shifts"].rotation) >= 2, "a weekly rotation"
    assert held_out["backlog-hoarder"].task_count[0] >= 1000, "a very large backlog"
    assert held_out["quick-wins"].reaction["duration"] < 0, "acts on short tasks only"
    closer = held_out["month-end-closer"]
    assert closer.reaction["month_end_priority"] > 0
    assert any("month_end" in slots for slots in closer.projects.values())
    assert select_personas((), "held-out") == all_personas("held-out")


def test_rotation_moves_the_good_hours_each_week() -> None:
    shifts = {p.id: p for p in all_personas("held-out")}["rotating-shifts"]
    peaks = {
        max(range(24), key=lambda h: shifts.energy(h, False, date(2026, 3, 2) + timedelta(weeks=w)))
        for w in range(3)
    }
    assert len(peaks) == 3


def test_old_persona_files_need_no_new_fields() -> None:
    lark = {p.id: p for p in all_personas()}["lark"]
    assert lark.rotation == ()
    assert lark.reaction["duration"] == 0.0 == lark.reaction["month_end_priority"]
