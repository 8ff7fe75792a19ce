"""The console's view of push: delivery rates and what the decider did, over the last days.

Deleted people's rows are gone with them (every table hangs off the person), so they are in
no figure. Read from the attempt and decision logs (both indexed by time, both purged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from piccolo.query.functions.aggregate import Count

from backend.contracts.errors import Refused
from backend.notifier.tables import PushAttempt, PushDecision

PERIOD_DAYS = (1, 7, 30)


class ReportError(Refused):
    """A report that cannot be made (an unknown period)."""


@dataclass(frozen=True)
class Tally:
    """How many of one kind."""

    key: str
    count: int


@dataclass(frozen=True)
class PushReport:
    """Attempts by outcome, the delivery rate, decisions by reason, pushes by outcome."""

    days: int
    since: date
    attempts: list[Tally]
    delivery_rate: float | None
    decisions: list[Tally]
    outcomes: list[Tally]
    pushes: int
    holds: int
    reactions_per_push: float | None


def _tallies(rows: list[dict[str, object]], column: str) -> list[Tally]:
    found = [Tally(str(r[column] or "pending"), int(r["n"])) for r in rows]  # type: ignore[call-overload]
    return sorted(found, key=lambda t: (-t.count, t.key))


async def report(days: int = 7, now: datetime | None = None) -> PushReport:
    """The last `days` (one of PERIOD_DAYS) of push."""
    if days not in PERIOD_DAYS:
        raise ReportError(
            "BAD_USER_INPUT", f"days must be one of {', '.join(map(str, PERIOD_DAYS))}.", "days"
        )
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    attempts = await (
        PushAttempt.select(PushAttempt.outcome, Count(PushAttempt.id, alias="n"))
        .where(PushAttempt.created_at >= since)
        .group_by(PushAttempt.outcome)
    )
    decided = PushDecision.decided_at >= since
    decisions = await (
        PushDecision.select(PushDecision.reason, Count(PushDecision.id, alias="n"))
        .where(decided & (PushDecision.push == False))  # noqa: E712
        .group_by(PushDecision.reason)
    )
    outcomes = await (
        PushDecision.select(PushDecision.outcome, Count(PushDecision.id, alias="n"))
        .where(decided & (PushDecision.push == True))  # noqa: E712
        .group_by(PushDecision.outcome)
    )
    by_attempt = {t.key: t.count for t in _tallies(list(attempts), "outcome")}
    tried = sum(by_attempt.values())
    pushed = _tallies(list(outcomes), "outcome")
    pushes = sum(t.count for t in pushed)
    reacted = sum(t.count for t in pushed if t.key == "reacted")
    return PushReport(
        days=days,
        since=since.date(),
        attempts=_tallies(list(attempts), "outcome"),
        delivery_rate=round(by_attempt.get("delivered", 0) / tried, 4) if tried else None,
        decisions=_tallies(list(decisions), "reason"),
        outcomes=pushed,
        pushes=pushes,
        holds=sum(int(r["n"]) for r in decisions),
        reactions_per_push=round(reacted / pushes, 4) if pushes else None,
    )
