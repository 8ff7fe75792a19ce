"""A person's history for agents, gathered through the owning domains' services."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from agents.types import History, HistoryEvent
from backend.contracts.sources import completions_since
from backend.identity.service import live_user_zones
from backend.profile.tip_history import reactions_since

HISTORY_DAYS = 90
"""How far back agents look (recent-patterns sizes its own window within this)."""

SAME_COMPLETION = timedelta(hours=1)
"""A "done" reaction and a completion of the same item this close together are one event."""


async def histories(
    user_ids: Sequence[str], now: datetime | None = None, zones: dict[str, str] | None = None
) -> dict[str, History]:
    """Histories of live users among `user_ids` (three queries, whatever the count).

    A done reaction on a tip closes its task at the source a moment later; both records
    describe one act, so the completion is kept (it carries the source's own time) and the
    reaction dropped. Snoozes and dismissals are kept as they are.
    """
    now = now or datetime.now(UTC)
    if zones is None:
        zones = await live_user_zones(list(user_ids))
    if not zones:
        return {}
    ids = list(zones)
    since = now - timedelta(days=HISTORY_DAYS)
    events: dict[str, list[HistoryEvent]] = defaultdict(list)
    completed: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for c in await completions_since(ids, since):
        events[c.user_id].append(
            HistoryEvent(
                at=c.at,
                kind="done",
                source="completion",
                item_ref=c.item_ref,
                project=c.project,
                content=c.content,
                due_date=c.due_date,
            )
        )
        completed[(c.user_id, c.item_ref)].append(c.at)
    for r in await reactions_since(ids, since):
        if r.action == "done" and any(
            abs(at - r.at) <= SAME_COMPLETION for at in completed.get((r.user_id, r.item_ref), ())
        ):
            continue
        events[r.user_id].append(
            HistoryEvent(
                at=r.at,
                kind=r.action,
                source="feedback",
                item_ref=r.item_ref,
                project=r.project,
                content=r.content,
                due_date=r.due_date,
            )
        )
    return {
        uid: History(
            user_id=uid,
            timezone=zone,
            now=now,
            events=tuple(sorted(events.get(uid, ()), key=lambda e: e.at)),
        )
        for uid, zone in zones.items()
    }
