"""A person's push settings: quiet hours (their own override, else the time-of-day agent's),
the daily cap and the minimum spacing between pushes; and the agent's good hours, which seed
the push learner's hour of day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from backend.contracts.errors import Refused
from backend.db import write_transaction
from backend.notifier.tables import PushPreference
from backend.profile import service as profile
from backend.recommender.push_rules import (
    DEFAULT_DAILY_MAX,
    DEFAULT_MIN_SPACING_MIN,
    DEFAULT_QUIET,
)

TIME_OF_DAY = "agent:time-of-day"
MAX_DAILY = 20
MAX_SPACING_MIN = 24 * 60


@dataclass(frozen=True)
class PushSettings:
    """What the decider obeys for one person."""

    quiet_start: int
    quiet_end: int
    quiet_source: str
    """push (the person's push setting) · agent (the time-of-day agent, or the person's own
    value there) · default"""
    daily_max: int
    min_spacing_min: int
    peak_hours: tuple[int, ...] = ()
    """The time-of-day agent's peak hours (empty when it has none yet)."""
    preferred_hour: int | None = None
    """The time-of-day agent's busiest hour."""
    hour_profiles: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
    """The time-of-day agent's activity per hour (weekdays, weekends), relative to the busiest
    hour; empty when it has none."""

    def hour_profile(self, weekend: bool) -> tuple[float, ...]:
        """The activity profile for this kind of day."""
        return self.hour_profiles[1 if weekend else 0]

    @property
    def quiet(self) -> tuple[int, int]:
        """(start, end) local hours; end is the first hour after."""
        return self.quiet_start, self.quiet_end


def _hour(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 23:
        return value
    return None


def _profile(value: object) -> tuple[float, ...]:
    """24 activities in 0..1, or () when the stored value is of another shape."""
    if not isinstance(value, list) or len(value) != 24:
        return ()
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in value):
        return ()
    return tuple(max(0.0, min(1.0, float(v))) for v in value)


def _hours(value: object) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(sorted({h for h in (_hour(v) for v in value) if h is not None}))


async def settings_of(user_id: str) -> PushSettings:
    """The person's effective push settings."""
    row = await PushPreference.objects().where(PushPreference.user == user_id).first()
    daily = row.daily_max if row else DEFAULT_DAILY_MAX
    spacing = row.min_spacing_min if row else DEFAULT_MIN_SPACING_MIN
    agent = {p.key: p.value for p in await profile.preferences(user_id, TIME_OF_DAY)}
    peaks, preferred = _hours(agent.get("peak_hours")), _hour(agent.get("preferred_hour"))
    profiles = (_profile(agent.get("hour_profile")), _profile(agent.get("hour_profile_weekend")))
    learned = (peaks, preferred, profiles)
    if row is not None and row.quiet_start is not None and row.quiet_end is not None:
        return PushSettings(row.quiet_start, row.quiet_end, "push", daily, spacing, *learned)
    start, end = _hour(agent.get("quiet_start")), _hour(agent.get("quiet_end"))
    if start is not None and end is not None:
        return PushSettings(start, end, "agent", daily, spacing, *learned)
    quiet_start, quiet_end = DEFAULT_QUIET
    return PushSettings(quiet_start, quiet_end, "default", daily, spacing, *learned)


async def set_settings(
    user_id: str,
    *,
    quiet_start: int | None,
    quiet_end: int | None,
    daily_max: int | None,
    min_spacing_min: int | None,
) -> PushSettings:
    """Store the person's push settings (None keeps a number; None quiet hours → the agent's)."""
    if (quiet_start is None) != (quiet_end is None):
        raise Refused("INVALID_QUIET_HOURS", "Give both quiet hours, or neither.", "quietStart")
    for name, hour in (("quietStart", quiet_start), ("quietEnd", quiet_end)):
        if hour is not None and not 0 <= hour <= 23:
            raise Refused("INVALID_QUIET_HOURS", "Hours are 0 to 23.", name)
    if daily_max is not None and not 0 <= daily_max <= MAX_DAILY:
        raise Refused("INVALID_DAILY_MAX", f"At most {MAX_DAILY} a day.", "dailyMax")
    if min_spacing_min is not None and not 0 <= min_spacing_min <= MAX_SPACING_MIN:
        raise Refused("INVALID_SPACING", "Spacing is 0 to 1440 minutes.", "minSpacingMinutes")
    async with write_transaction():
        row = await PushPreference.objects().where(PushPreference.user == user_id).first()
        if row is None:
            row = PushPreference(user=user_id)
        row.quiet_start, row.quiet_end = quiet_start, quiet_end
        if daily_max is not None:
            row.daily_max = daily_max
        if min_spacing_min is not None:
            row.min_spacing_min = min_spacing_min
        row.updated_at = datetime.now(UTC)
        await row.save()
    return await settings_of(user_id)
