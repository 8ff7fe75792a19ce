"""The hard rules around the push learner: whatever it would like, these hold a push.

Pure functions over plain data, shared by the notifier's decider and the simulator. Each rule
that holds returns its reason code (logged with the decision); None means the rules allow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_QUIET = (22, 7)
DEFAULT_DAILY_MAX = 3
DEFAULT_MIN_SPACING_MIN = 90
ACTIVE_WINDOW_MIN = 5
"""A tip served or answered in the last 5 minutes: the person is on the tip page."""

NO_CANDIDATE = "no_candidate"
QUIET_HOURS = "quiet_hours"
ALREADY_PUSHED = "already_pushed"
DAILY_CAP = "daily_cap"
SPACING = "spacing"
ACTIVE = "active"
SILENCED = "silenced"
NO_SUBSCRIPTION = "no_subscription"


def in_quiet(hour: int, start: int, end: int) -> bool:
    """Whether a local hour falls in the window [start, end), which may wrap midnight."""
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


@dataclass(frozen=True)
class RuleInput:
    """What the rules look at, all in one place."""

    now_local: datetime
    """Now in the person's time zone."""
    quiet: tuple[int, int] = DEFAULT_QUIET
    daily_max: int = DEFAULT_DAILY_MAX
    min_spacing_min: int = DEFAULT_MIN_SPACING_MIN
    pushes_today: int = 0
    """Pushes sent since local midnight."""
    last_push_local: datetime | None = None
    last_activity_local: datetime | None = None
    """The person's last tip served or answered on a page (not by us)."""
    has_candidate: bool = True
    already_pushed: bool = False
    """The best candidate was pushed before (never the same tip twice)."""
    kind: str = "task"
    silenced_kinds: frozenset[str] = frozenset()
    context_silenced: bool = False
    """The active context mutes notifications altogether."""
    subscribed: bool = True


def hold_reason(r: RuleInput) -> str | None:
    """The first hard rule that holds a push now, or None."""
    if not r.subscribed:
        return NO_SUBSCRIPTION
    if not r.has_candidate:
        return NO_CANDIDATE
    if in_quiet(r.now_local.hour, *r.quiet):
        return QUIET_HOURS
    if r.context_silenced or r.kind in r.silenced_kinds:
        return SILENCED
    if r.already_pushed:
        return ALREADY_PUSHED
    if r.pushes_today >= r.daily_max:
        return DAILY_CAP
    if r.last_push_local is not None and r.now_local - r.last_push_local < timedelta(
        minutes=r.min_spacing_min
    ):
        return SPACING
    if r.last_activity_local is not None and r.now_local - r.last_activity_local < timedelta(
        minutes=ACTIVE_WINDOW_MIN
    ):
        return ACTIVE
    return None


def allowed_hours_ahead(now_local: datetime, quiet: tuple[int, int], hours: int) -> list[bool]:
    """For the next 1..hours hours: is that hour outside quiet hours (for the wait value)."""
    return [not in_quiet((now_local.hour + h) % 24, *quiet) for h in range(1, hours + 1)]
