"""A reaction's statements (ADR 0041): claim the tip, then write everything else at once.

Inside the reaction's transaction:

1. **The claim**: `UPDATE served_tip SET reacted_at, reaction[, reward] WHERE id, person and
   not yet answered RETURNING` what the reaction needs of the tip. The row lock it takes makes
   a second reaction wait, then find the tip answered (0 rows). On PostgreSQL the same
   statement takes the person's learning lock (the advisory lock `lock_user_learning` takes),
   so the states read next are read under it.
2. The policies' states are read (one SELECT) and updated in Python.
3. **One write**: the feedback row, the tip's reward (when it needed the served time), the
   snooze, the states' upsert and the outbox rows — on PostgreSQL one statement (data-modifying
   CTEs, each a plain INSERT/UPDATE of its own table), on SQLite one statement each (in
   process, no round trip to save).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from piccolo.query import Update
from piccolo.querystring import QueryString

from backend.db import Prepared, engine, json_value
from backend.recommender.rows_insert import RowsInsert
from backend.recommender.state import learning_lock_key
from backend.recommender.tables import ServedTip

Write = Update[Any] | RowsInsert
"""One of a reaction's write statements."""

CLAIMED = (
    ServedTip.id,
    ServedTip.item_ref,
    ServedTip.source,
    ServedTip.kind,
    ServedTip.content,
    ServedTip.project,
    ServedTip.detail,
    ServedTip.features,
    ServedTip.explanation,
    ServedTip.served_at,
)
"""What a reaction reads of its tip: not the candidate log (up to ~100 kB)."""

_JSON = ("detail", "features", "explanation")


def _postgres() -> bool:
    return engine().engine_type == "postgres"


def _claim_sql(reward: bool, lock: bool) -> str:
    sets = "reacted_at = {}, reaction = {}" + (", reward = {}" if reward else "")
    returning = ", ".join(c._meta.db_column_name for c in CLAIMED)
    if lock:  # the RETURNING list is evaluated on the claimed row: the lock comes with it
        returning += ", pg_advisory_xact_lock(hashtext({})) AS learning_locked"
    where = 'id = {} AND "user" = {} AND reacted_at IS NULL'
    return f"UPDATE served_tip SET {sets} WHERE {where} RETURNING {returning}"  # noqa: S608 (constants)


_CLAIMS = {
    (reward, lock): Prepared(_claim_sql(reward, lock), "update")
    for reward in (False, True)
    for lock in (False, True)
}
"""The claim with and without the reward, with and without the learning lock (PostgreSQL)."""


async def claim(
    tip_id: str, user_id: str, now: datetime, reaction: str, reward: float | None
) -> dict[str, Any] | None:
    """Mark the tip answered and return it (its JSON decoded); None when it is not the
    person's or already answered (nothing changed). On PostgreSQL this also takes the person's
    learning lock."""
    lock = _postgres()
    args: list[Any] = [now, reaction, *([reward] if reward is not None else []), tip_id, user_id]
    if lock:
        args.append(learning_lock_key(user_id))
    rows = await _CLAIMS[(reward is not None, lock)].rows(*args)
    if not rows:
        return None
    row = rows[0]
    row.pop("learning_locked", None)
    for name in _JSON:
        row[name] = json_value(row[name])
    return row


def reward_update(tip_id: str, reward: float) -> Update[Any]:
    """The tip's reward, when it could only be inferred after the claim (server dwell)."""
    return ServedTip.update({ServedTip.reward: reward}).where(ServedTip.id == tip_id)


async def write(statements: Sequence[Write]) -> None:
    """Run the reaction's writes (inside its transaction): one statement on PostgreSQL, one
    each on SQLite."""
    if not _postgres():
        for statement in statements:
            await statement
        return
    parts = [qs for statement in statements for qs in statement.querystrings]
    if not parts:
        return
    *ctes, last = parts
    template = "WITH " + ", ".join(f"w{i} AS ({{}})" for i in range(len(ctes))) + " {}"
    await engine().run_querystring(QueryString(template if ctes else "{}", *ctes, last))
