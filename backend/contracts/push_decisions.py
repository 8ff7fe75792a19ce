"""A person's push decisions, for floors that may not import the notifier (the admin console).

The notifier registers its reader here when the composer installs it; the admin person page
asks through this port. With nothing registered (the notifier not installed) the answer is an
empty list, and the page says there are none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PushDecisionRow:
    """One logged push-or-hold decision as the console shows it."""

    decided_at: datetime
    trigger: str
    tip_id: str
    push: bool
    reason: str
    """`value` for a push; why it was held otherwise: `below_threshold`, `better_hour`
    (`better_later` in older rows), `rest` (the budget), or the hard rule (quiet_hours,
    daily_cap, spacing, active, …)."""
    value_now: float | None
    value_wait: float | None
    threshold: float | None
    propensity: float
    policy_id: str
    outcome: str | None


PushDecisionReader = Callable[[str, int], Awaitable[list[PushDecisionRow]]]
"""(user id, how many) → that person's latest decisions, newest first."""


class _Registry:
    reader: PushDecisionReader | None = None


def register_push_decisions(reader: PushDecisionReader) -> None:
    """Offer the notifier's decision log (registering again replaces)."""
    _Registry.reader = reader


async def push_decisions_of(user_id: str, first: int = 20) -> list[PushDecisionRow]:
    """A person's latest push decisions from the registered reader; [] with none."""
    if _Registry.reader is None:
        return []
    return await _Registry.reader(user_id, first)
