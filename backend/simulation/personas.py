"""Simulated personas: data (YAML under personas/), validated into frozen dataclasses.

What each field means is documented once, in personas/README.md; the rule judge
(judges.py) is the only reader of `reaction` and `dwell`, the world (world.py) of the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import yaml

from backend.integrations.taskgen import PROJECT_TASKS

PERSONA_DIR = Path(__file__).resolve().parent / "personas"

PERSONA_SETS = {"standard": PERSONA_DIR, "held-out": PERSONA_DIR / "held-out"}
"""Named persona sets: `standard` (tuning and the default) and `held-out` (judging only)."""

SLOTS = ("base", "weekday", "weekend", "morning", "afternoon", "evening", "night", "month_end")
REACTION_KEYS = (
    "engagement",
    "weekend",
    "energy",
    "priority",
    "stale",
    "overdue",
    "overdue_days",
    "due_today",
    "due_soon",
    "recurring",
    "fatigue",
    "snooze_share",
)
OPTIONAL_REACTION = {"duration": 0.0, "month_end_priority": 0.0}
"""Reaction terms a persona may leave out (0: no effect), so older files stay valid."""


PUSH_DEFAULTS = {
    "notice": 0.6,
    "react": 0.0,
    "fatigue": 0.4,
    "recovery_h": 48.0,
    "turn_off": 5.0,
    "quiet_annoyance": 2.0,
}
"""Push behaviour of a persona whose file says nothing about it (see personas/README.md)."""


@dataclass(frozen=True)
class PushHabits:
    """How a persona answers notifications (personas/README.md, "push")."""

    notice: float
    react: float
    fatigue: float
    recovery_h: float
    turn_off: float
    quiet_annoyance: float


class PersonaError(ValueError):
    """A persona file that does not say what the simulator needs."""


@dataclass(frozen=True)
class Persona:
    """One simulated person's habits (see personas/README.md for every field)."""

    id: str
    name: str
    summary: str
    timezone: str
    rhythm_weekday: tuple[float, ...]
    rhythm_weekend: tuple[float, ...]
    sessions_weekday: float
    sessions_weekend: float
    tips_per_session: float
    task_count: tuple[int, int]
    overdue: bool
    arrivals: float
    keep_up: float
    background: float
    reaction: Mapping[str, float]
    projects: Mapping[str, Mapping[str, float]]
    dwell_median_s: float
    dwell_sigma: float
    dwell_off_peak: float
    push: PushHabits = PushHabits(**PUSH_DEFAULTS)
    rotation: tuple[tuple[float, ...], ...] = ()
    """Weekly rotating shifts: one 24-hour rhythm per week, in turn (empty: no rotation)."""

    def rhythm(self, weekend: bool, on: date | None = None) -> tuple[float, ...]:
        """Session weights per local hour (of the rotation's week of `on`, when rotating)."""
        if self.rotation and on is not None:
            return self.rotation[on.isocalendar().week % len(self.rotation)]
        return self.rhythm_weekend if weekend else self.rhythm_weekday

    def hour_odds(self, weekend: bool, on: date | None = None) -> np.ndarray:
        """The rhythm as probabilities per local hour (what session and completion hours are
        drawn from)."""
        weights = np.array(self.rhythm(weekend, on))
        return np.asarray(weights / weights.sum())

    def energy(self, hour: int, weekend: bool, on: date | None = None) -> float:
        """0..1: the rhythm weight of this hour relative to the day's peak."""
        weights = self.rhythm(weekend, on)
        return weights[hour] / max(weights)


def _number(raw: Mapping[str, Any], key: str, where: str) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PersonaError(f"{where}.{key} must be a number, got {value!r}")
    return float(value)


def _hours(raw: object, where: str) -> tuple[float, ...]:
    if not isinstance(raw, list) or len(raw) != 24:
        raise PersonaError(f"{where} must list 24 hourly weights")
    weights = tuple(float(w) for w in raw)
    if min(weights) < 0 or max(weights) <= 0:
        raise PersonaError(f"{where} weights must be ≥ 0 with at least one > 0")
    return weights


def parse_persona(raw: Mapping[str, Any]) -> Persona:
    """A persona from its YAML mapping; PersonaError says what is wrong."""
    pid = str(raw.get("id") or "")
    if not pid:
        raise PersonaError("a persona needs an id")
    try:
        ZoneInfo(str(raw.get("timezone")))
    except (KeyError, ValueError):
        raise PersonaError(f"{pid}: unknown timezone {raw.get('timezone')!r}") from None
    rhythm, sessions, tasks = raw.get("rhythm", {}), raw.get("sessions", {}), raw.get("tasks", {})
    reaction, dwell = raw.get("reaction", {}), raw.get("dwell", {})
    projects = reaction.get("projects", {}) or {}
    for project, slots in projects.items():
        if project not in PROJECT_TASKS:
            raise PersonaError(f"{pid}: unknown project {project!r}")
        unknown = set(slots) - set(SLOTS)
        if unknown:
            raise PersonaError(f"{pid}: unknown slots {sorted(unknown)} for {project}")
    count = tasks.get("count")
    if not (isinstance(count, list) and len(count) == 2 and 1 <= count[0] <= count[1]):
        raise PersonaError(f"{pid}: tasks.count must be [min, max]")
    push_raw = {**PUSH_DEFAULTS, **(raw.get("push") or {})}
    push = PushHabits(**{k: _number(push_raw, k, f"{pid}.push") for k in PUSH_DEFAULTS})
    if not 0 <= push.notice <= 1 or push.recovery_h <= 0 or push.turn_off <= 0:
        raise PersonaError(f"{pid}: push.notice must be within 0..1, recovery_h and turn_off > 0")
    rotation = tuple(
        _hours(week, f"{pid}.rhythm.rotation[{i}]")
        for i, week in enumerate(rhythm.get("rotation") or [])
    )
    share = _number(reaction, "snooze_share", f"{pid}.reaction")
    if not 0 <= share <= 1:
        raise PersonaError(f"{pid}: reaction.snooze_share must be within 0..1")
    return Persona(
        id=pid,
        name=str(raw.get("name") or pid),
        summary=" ".join(str(raw.get("summary") or "").split()),
        timezone=str(raw["timezone"]),
        rhythm_weekday=_hours(rhythm.get("weekday"), f"{pid}.rhythm.weekday"),
        rhythm_weekend=_hours(rhythm.get("weekend"), f"{pid}.rhythm.weekend"),
        sessions_weekday=_number(sessions, "weekday", f"{pid}.sessions"),
        sessions_weekend=_number(sessions, "weekend", f"{pid}.sessions"),
        tips_per_session=max(1.0, _number(sessions, "tips", f"{pid}.sessions")),
        task_count=(int(count[0]), int(count[1])),
        overdue=bool(tasks.get("overdue")),
        arrivals=_number(tasks, "arrivals", f"{pid}.tasks"),
        keep_up=_number(tasks, "keep_up", f"{pid}.tasks"),
        background=_number(tasks, "background", f"{pid}.tasks"),
        reaction={
            **{k: _number(reaction, k, f"{pid}.reaction") for k in REACTION_KEYS},
            **{
                k: _number({k: reaction.get(k, d)}, k, f"{pid}.reaction")
                for k, d in OPTIONAL_REACTION.items()
            },
        },
        projects={p: {s: float(v) for s, v in slots.items()} for p, slots in projects.items()},
        dwell_median_s=_number(dwell, "median_s", f"{pid}.dwell"),
        dwell_sigma=_number(dwell, "sigma", f"{pid}.dwell"),
        dwell_off_peak=_number(dwell, "off_peak", f"{pid}.dwell"),
        push=push,
        rotation=rotation,
    )


@cache
def all_personas(persona_set: str = "standard") -> tuple[Persona, ...]:
    """Every persona of a set (KeyError when unknown), in file-name order (stable)."""
    return tuple(
        parse_persona(yaml.safe_load(path.read_text()))
        for path in sorted(PERSONA_SETS[persona_set].glob("*.yaml"))
    )


def get_persona(persona_id: str) -> Persona:
    """A persona by id, from any set (KeyError when unknown)."""
    for name in PERSONA_SETS:
        for persona in all_personas(name):
            if persona.id == persona_id:
                return persona
    raise KeyError(persona_id)


def select_personas(
    ids: tuple[str, ...] | list[str] | None, persona_set: str = "standard"
) -> tuple[Persona, ...]:
    """The personas named (the whole set when empty); KeyError names an unknown id or set."""
    return tuple(get_persona(i) for i in ids) if ids else all_personas(persona_set)
