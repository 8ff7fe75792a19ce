"""Personas are data: at least eight, distinct, documented, and 70% with overdue work."""

from __future__ import annotations

import pytest

from backend.simulation.personas import (
    PERSONA_DIR,
    PersonaError,
    all_personas,
    parse_persona,
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
