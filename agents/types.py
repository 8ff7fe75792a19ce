"""The agent contract: history in, inferred parameters and a prompt snippet out.

Agents are pure: they never touch the database, Redis or the network (focus-area's optional
embedder call is the one exception, and it runs only in workers). The profile domain gathers a
person's `History` through the owning domains' services and stores what agents return.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

T = TypeVar("T")

JsonValue = Any
"""A JSON-serialisable value (what preferences and snippets' params hold)."""


@dataclass(frozen=True)
class HistoryEvent:
    """One thing a person did: a completed task or a reaction to a tip."""

    at: datetime
    kind: str  # "done" | "snooze" | "dismiss"
    source: str  # "completion" (closed at the source) | "feedback" (reaction to a tip)
    item_ref: str = ""
    project: str = ""
    content: str = ""
    due_date: date | None = None


@dataclass(frozen=True)
class History:
    """What an agent may read about a person, oldest event first."""

    user_id: str
    timezone: str
    now: datetime
    events: tuple[HistoryEvent, ...] = ()
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()` once per history: several parameters (and agents) derive the same
        counts, and a worker runs thousands of agents a second."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    @cached_property
    def tz(self) -> ZoneInfo:
        """The person's zone (UTC when the stored name is unknown)."""
        try:
            return ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            return ZoneInfo("UTC")

    @cached_property
    def done(self) -> tuple[HistoryEvent, ...]:
        """Completions: the signal every agent infers from."""
        return tuple(e for e in self.events if e.kind == "done")

    @property
    def size(self) -> int:
        """How many done events there are; compared with a manifest's `min_history`."""
        return len(self.done)

    def local(self, at: datetime) -> datetime:
        """A timestamp in the person's zone."""
        return at.astimezone(self.tz)

    @cached_property
    def local_done(self) -> tuple[datetime, ...]:
        """Local times of the done events (same order as `done`)."""
        return tuple(self.local(e.at) for e in self.done)

    def done_since(self, days: int) -> tuple[HistoryEvent, ...]:
        """Done events of the last `days` days (once per window and history)."""

        def window() -> tuple[HistoryEvent, ...]:
            start = self.now - timedelta(days=days)
            return tuple(e for e in self.done if e.at >= start)

        return self.memo(f"done_since.{days}", window)


Infer = Callable[[History], JsonValue]
"""Infers one parameter from a history. May raise: the framework falls back to the default."""

Default = Callable[[History], JsonValue]


@dataclass(frozen=True)
class ParamSpec:
    """An inferred parameter: its key, cold-start default and how it is inferred.

    `infer=None` marks a cold-start-only parameter (time-of-day's tz comes from the sign-in
    provider, never from behaviour). `cold_start_default` may be a function of the history for
    values that come from what the person told us (their zone), not from what they did.
    """

    key: str
    description: str
    cold_start_default: JsonValue | Default
    infer: Infer | None = None
    validate: Callable[[JsonValue], str | None] | None = None
    """Checks a value the person sets: None when fine, else what is wrong (for people)."""

    def default(self, history: History) -> JsonValue:
        """The cold-start value for this history."""
        if callable(self.cold_start_default):
            return self.cold_start_default(history)
        # A copy: callers may change the value they get; the declared default must not move.
        return copy.deepcopy(self.cold_start_default)

    def check(self, value: JsonValue) -> str | None:
        """Why `value` cannot be set by the person, or None when it can."""
        if self.validate is not None:
            return self.validate(value)
        if callable(self.cold_start_default):
            return None
        return same_shape(self.cold_start_default, value)


def same_shape(example: JsonValue, value: JsonValue) -> str | None:
    """None when `value` has the JSON type of `example` (an int is a fine float)."""
    if isinstance(example, bool) or isinstance(value, bool):
        ok = isinstance(example, bool) and isinstance(value, bool)
    elif isinstance(example, float):
        ok = isinstance(value, int | float)
    else:
        ok = isinstance(value, type(example))
    names = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
    }
    return None if ok else f"must be {names.get(type(example), type(example).__name__)}."


def check_hour(value: JsonValue) -> str | None:
    """A local hour 0..23."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        return "must be an hour from 0 to 23."
    return None


def check_hours(value: JsonValue) -> str | None:
    """A list of distinct local hours."""
    if not isinstance(value, list) or any(check_hour(v) for v in value):
        return "must be a list of hours from 0 to 23."
    return None


def check_zone(value: JsonValue) -> str | None:
    """An IANA zone name such as Europe/Paris."""
    if not isinstance(value, str) or not value:
        return "must be a time zone name such as Europe/Paris."
    try:
        ZoneInfo(value)
    except (KeyError, ValueError):
        return f"{value!r} is not a time zone we know (try e.g. Europe/Paris)."
    return None


@dataclass(frozen=True)
class AgentContext:
    """What `compute` gets: the history and the effective parameters (user-set win)."""

    history: History
    params: Mapping[str, JsonValue]
    inferred_from: int  # events the inferred values rest on (0 at cold start)


Compute = Callable[[AgentContext], Awaitable[str]]


@dataclass(frozen=True)
class Manifest:
    """An agent's declaration (DESIGN.md §4: the agent manifest contract)."""

    id: str
    name: str
    version: str
    description: str
    consent_key: str
    ttl_s: int
    schedule: str  # human-readable; the fan-out cron decides when (OO_AGENTS_INTERVAL)
    min_history: int
    params: tuple[ParamSpec, ...]
    compute: Compute
    enabled: bool = True
    tags: tuple[str, ...] = field(default_factory=tuple)

    def param(self, key: str) -> ParamSpec:
        """One parameter spec by key."""
        for spec in self.params:
            if spec.key == key:
                return spec
        raise KeyError(key)
