"""What became of a push, and the learner learning from it.

reacted — the tip was answered done/snooze (from the notification's buttons or the page it
opened) · opened — the notification was tapped (POST /push/opened) · dismissed — answered
"dismiss" · ignored — no reaction before the push expired (the periodic sweep) · turned_off —
the person unsubscribed within a day of a push (the costliest).
Each outcome updates the person's push learner once, in the transaction that records it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from backend.db import write_transaction
from backend.notifier.decider import context_of, learner_state, mark_active
from backend.notifier.tables import PushDecision, PushLearnerState
from backend.recommender import push_policy

TURN_OFF_WINDOW = timedelta(hours=24)
SWEEP_LIMIT = 500


async def _learn(user_id: str, decision_id: object, context: object, outcome: str) -> None:
    now = datetime.now(UTC)
    await PushDecision.update({PushDecision.outcome: outcome, PushDecision.outcome_at: now}).where(
        PushDecision.id == decision_id
    )
    state = push_policy.update(await learner_state(user_id), context_of(context), outcome)
    updated = (
        await PushLearnerState.update(
            {PushLearnerState.state: state.as_json(), PushLearnerState.updated_at: now}
        )
        .where(PushLearnerState.user == user_id)
        .returning(PushLearnerState.id)
    )
    if not updated:
        await PushLearnerState(user=user_id, state=state.as_json(), updated_at=now).save()


def _open_push(user_id: str, tip_id: str) -> Any:
    return (
        PushDecision.select(PushDecision.id, PushDecision.context)
        .where(
            (PushDecision.user == user_id)
            & (PushDecision.tip_id == tip_id)
            & (PushDecision.push == True)  # noqa: E712 (a Piccolo expression)
            & PushDecision.outcome.is_null()
        )
        .output(load_json=True)
        .first()
    )


async def record_reaction(user_id: str, tip_id: str, action: str) -> str | None:
    """A tip was answered (action done/snooze/dismiss) or its notification tapped open
    (action "open"): if we pushed it and its outcome is open, learn from it."""
    # Most answered tips were never pushed: one read without the write lock says so, and
    # the lock (BEGIN IMMEDIATE on SQLite, a transaction on PostgreSQL) is taken only when
    # there is an outcome to record. Inside it the row is read again: another request may
    # have recorded it meanwhile.
    if await _open_push(user_id, tip_id) is None:
        return None
    async with write_transaction():
        row = await _open_push(user_id, tip_id)
        if row is None:
            return None
        outcome = {"dismiss": "dismissed", "open": "opened"}.get(action, "reacted")
        await _learn(user_id, row["id"], row["context"], outcome)
        return outcome


async def record_turned_off(user_id: str) -> bool:
    """The person unsubscribed: the latest push of the last day (if any) is blamed."""
    since = datetime.now(UTC) - TURN_OFF_WINDOW
    async with write_transaction():
        row = (
            await PushDecision.select(PushDecision.id, PushDecision.context, PushDecision.outcome)
            .where(
                (PushDecision.user == user_id)
                & (PushDecision.push == True)  # noqa: E712
                & (PushDecision.decided_at >= since)
            )
            .order_by(PushDecision.decided_at, ascending=False)
            .output(load_json=True)
            .first()
        )
        if row is None or row["outcome"] in ("reacted", "turned_off"):
            return False
        await _learn(user_id, row["id"], row["context"], "turned_off")
        return True


async def sweep_ignored(now: datetime | None = None) -> int:
    """Pushes past their expiry with no outcome are ignored; returns how many."""
    now = now or datetime.now(UTC)
    rows = (
        await PushDecision.select(PushDecision.id, PushDecision.user, PushDecision.context)
        .where(
            (PushDecision.push == True)  # noqa: E712
            & PushDecision.outcome.is_null()
            & (PushDecision.expires_at < now)
        )
        .limit(SWEEP_LIMIT)
        .output(load_json=True)
    )
    for r in rows:
        async with write_transaction():
            still_open = await PushDecision.exists().where(
                (PushDecision.id == r["id"]) & PushDecision.outcome.is_null()
            )
            if still_open:
                await _learn(str(r["user"]), r["id"], r["context"], "ignored")
    return len(rows)


HOLD_RETENTION = timedelta(days=30)
"""Decisions to hold are kept as long as the decision log (30 days): up to ~96 per person a
day, they explain recent holds; pushes stay longer (PUSH_RETENTION), the learner's evidence."""
PUSH_RETENTION = timedelta(days=180)


async def purge_old_decisions(now: datetime | None = None) -> int:
    """Forget holds past HOLD_RETENTION and pushes past PUSH_RETENTION; returns how many."""
    now = now or datetime.now(UTC)
    old = (
        (PushDecision.push == False) & (PushDecision.decided_at < now - HOLD_RETENTION)  # noqa: E712
    ) | ((PushDecision.push == True) & (PushDecision.decided_at < now - PUSH_RETENTION))  # noqa: E712
    count = int(await PushDecision.count().where(old))
    if count:
        await PushDecision.delete().where(old)
    return count


async def on_page_activity(user_id: str) -> None:
    """A tip served or answered on a page (events' handlers call this)."""
    await mark_active(user_id)
