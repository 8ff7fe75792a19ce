"""The settings page picks a control per value and reads the controls' posts back."""

from __future__ import annotations

import pytest

from backend.profile.web import _hour_text, _in_words, _value_text, control, editable, show


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("quiet_start", 22, "time"),
        ("peak_hours", [9, 10], "hours"),
        ("enabled", True, "toggle"),
        ("stdev", 0.5, "number"),
        ("lookback_days", 28, "number"),
        ("tz", "Europe/Paris", "words"),
        ("preferred_areas", ["work", "home"], "words"),
        ("weekly_cycle", {"peak": None, "strength": 0}, "none"),
        ("hour_profile", [0.5] * 24, "none"),
    ],
)
def test_control_fits_the_value(key: str, value: object, expected: str) -> None:
    assert control(value, key) == expected


def test_editable_is_what_people_type() -> None:
    assert editable(7, "quiet_end") == "07:00"
    assert editable(["work", "home"], "preferred_areas") == "work, home"
    assert editable(0.25, "stdev") == "0.25"


def test_posts_are_read_back() -> None:
    assert _hour_text("21:00") == "21"
    assert _hour_text("late") == "late"
    assert _value_text({"value": ["9", "14"]}, "peak_hours") == "9, 14"
    assert _value_text({"value": "07:00"}, "quiet_end") == "7"
    assert _value_text({}, "peak_hours") == ""


def test_refusals_use_the_setting_s_name() -> None:
    said = _in_words("quiet_start: must be an hour from 0 to 23.", "quiet_start", "Quiet from")
    assert said == "Quiet from: must be an hour from 0 to 23."
    assert _in_words("Something else.", "quiet_start", "Quiet from") == "Something else."


def test_an_hour_profile_reads_as_its_busiest_hours() -> None:
    profile = [0.05] * 24
    profile[9], profile[14], profile[21], profile[3] = 1.0, 0.8, 0.3, 0.2
    # The third busiest (21:00) is under half the busiest, so it is not named.
    assert show(profile, "hour_profile") == "busiest around 09:00, 14:00"
    assert show([1.0] * 24, "hour_profile_weekend") == "not known yet"
