"""Delayed rewards: a served task completed at its source (e.g. in Todoist) rather than in oO.

The reaction is inferred as "done" with the dwell from serving to completion, recorded with a
distinct reward source ("source") so analytics can tell it from a tap on the tip page.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import asyncpg

from backend.contracts.principal import authenticator
from backend.db import write_transaction
from backend.events.bus import publish
from backend.events.contracts import TipFeedback
from backend.recommender import tip_cache
from backend.recommender.learning import learn
from backend.recommender.reward import MAX_DWELL_MS, Action, infer_reward
from backend.recommender.tables import Feedback, ServedTip

REWARD_SOURCE = "source"


async def user_for_served_item(item_ref: str) -> str | None:
    """Who was last served this item (routes a provider event without an account id)."""
    row = (
        await ServedTip.select(ServedTip.user)
        .where(ServedTip.item_ref == item_ref)
        .order_by(ServedTip.served_at, ascending=False)
        .first()
    )
    return str(row["user"]) if row else None


async def record_source_completion(
    user_id: str, item_ref: str, completed_at: datetime | None
) -> bool:
    """Reward the open served tip of this item as done; False when there is none to reward."""
    principal = await authenticator().from_user_id(user_id, "job")
    if principal is None:
        return False
    when = completed_at or datetime.now(UTC)
    try:
        async with write_transaction():
            row = (
                await ServedTip.select()
                .where(
                    (ServedTip.user == user_id)
                    & (ServedTip.item_ref == item_ref)
                    & ServedTip.reacted_at.is_null()
                )
                .order_by(ServedTip.served_at, ascending=False)
                .output(load_json=True)
                .first()
            )
            if row is None:
                return False
            recorded_at = datetime.now(UTC)
            elapsed = int((when - row["served_at"]).total_seconds() * 1000)
            dwell_ms = max(0, min(elapsed, MAX_DWELL_MS))
            reward = infer_reward(Action.DONE, dwell_ms)
            await Feedback(
                tip=row["id"],
                user=user_id,
                action=Action.DONE.value,
                dwell_ms=dwell_ms,
                dwell_source="server",
                reward=reward,
                reward_source=REWARD_SOURCE,
                created_at=recorded_at,
            ).save()
            await ServedTip.update(
                {
                    ServedTip.reacted_at: when,
                    ServedTip.reaction: Action.DONE.value,
                    ServedTip.reward: reward,
                }
            ).where(ServedTip.id == row["id"])
            await learn(user_id, principal.timezone, row, reward)
    except (asyncpg.UniqueViolationError, sqlite3.IntegrityError):
        return False  # reacted to in oO at the same moment: that reaction stands
    await tip_cache.drop(user_id)
    await publish(
        user_id,
        TipFeedback(
            tip_id=str(row["id"]),
            item_ref=item_ref,
            action=Action.DONE.value,
            dwell_ms=dwell_ms,
            dwell_source="server",
            reward=reward,
            reward_source=REWARD_SOURCE,
            reacted_at=recorded_at.isoformat(),
        ),
    )
    return True
