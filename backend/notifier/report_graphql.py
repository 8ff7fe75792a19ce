"""`pushReport` — delivery rates and the decider's choices, for the console (admins only)."""

# Strawberry's field decorators are untyped; same exemption as pyproject gives `*.graphql`.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from datetime import date

import strawberry
from graphql import GraphQLError

from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin
from backend.notifier import report as report_service


@strawberry.type
class PushTally:
    """How many of one kind (an attempt outcome, a hold reason, a push outcome)."""

    key: str
    count: int


@strawberry.type
class PushReport:
    """The last days of push: attempts and the delivery rate, holds by reason, pushes by
    outcome (pending: not known yet) and reactions per push."""

    days: int
    since: date
    attempts: list[PushTally]
    delivery_rate: float | None
    holds: int
    hold_reasons: list[PushTally]
    pushes: int
    push_outcomes: list[PushTally]
    reactions_per_push: float | None


def _tallies(found: list[report_service.Tally]) -> list[PushTally]:
    return [PushTally(key=t.key, count=t.count) for t in found]


@strawberry.type
class PushReportQuery:
    """Admin: push, in figures."""

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Delivery rates and the decider's choices over the last `days` (1, 7, 30).",
    )
    async def push_report(self, info: Info, days: int = 7) -> PushReport:
        try:
            r = await report_service.report(days)
        except report_service.ReportError as err:
            raise GraphQLError(
                err.message, extensions={"code": err.code, "field": err.field}
            ) from None
        return PushReport(
            days=r.days,
            since=r.since,
            attempts=_tallies(r.attempts),
            delivery_rate=r.delivery_rate,
            holds=r.holds,
            hold_reasons=_tallies(r.decisions),
            pushes=r.pushes,
            push_outcomes=_tallies(r.outcomes),
            reactions_per_push=r.reactions_per_push,
        )
