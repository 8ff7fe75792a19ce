"""Account deletion and delete-by-category, generic over every registered table.

Deleting an account: lock the person out (deleted_at set, so no session or token works from this
instant), revoke their provider tokens at the providers, delete every row the ownership map
(registry.py) ties to them — children first — and clear the personal fields of the User row, then
remove every Redis trace (sessions included) and queued jobs. Running it again on a deleted
account repeats the purge; the retention cron does that for recent deletions, to catch rows a job
that was already running wrote afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.table import Table

from backend.db import write_transaction
from backend.identity.revocation import RevocationReport, revoke_all
from backend.identity.service import announce_change
from backend.identity.tables import User
from backend.identity.vault import VaultError, list_credentials
from backend.integrations.service import forget_items
from backend.privacy.categories import category_of, get_category
from backend.privacy.redis_purge import RedisPurge, purge_redis
from backend.privacy.registry import Owned, nullify_map, owner_clause, ownership_map
from backend.recommender.service import forget_habits

log = logging.getLogger("oo.privacy")

# What survives on the User row: the id (other systems' logs may name it), when the account was
# created and when it was deleted. Every other column goes back to NULL or its default.
_KEPT_USER_COLUMNS = {"id", "created_at", "deleted_at"}


class ConfirmationError(Exception):
    """The confirmation typed for a destructive action does not match."""


@dataclass
class DeletionReport:
    """What an account deletion removed."""

    rows: dict[str, int] = field(default_factory=dict)
    redis: RedisPurge = field(default_factory=RedisPurge)
    revocation: RevocationReport = field(default_factory=RevocationReport)

    @property
    def total_rows(self) -> int:
        """Rows deleted across all tables."""
        return sum(self.rows.values())


def confirmation_matches(email: str | None, typed: str) -> bool:
    """The person typed their e-mail address (any case) or the word DELETE."""
    typed = typed.strip()
    if typed == "DELETE":
        return True
    return bool(email) and typed.lower() == str(email).strip().lower()


def deletion_clauses(
    plan: Sequence[Owned],
    user_id: str,
    targets: set[type[Table]] | None = None,
    narrow: dict[type[Table], Any] | None = None,
) -> list[tuple[Owned, Any]]:
    """(table, WHERE) pairs, children first: the person's rows of `targets` (None: all; a
    table in `narrow` only where that clause holds too) and every row elsewhere that points at
    one of them (it would dangle or block otherwise)."""
    narrow = narrow or {}
    clauses: dict[type[Table], Any] = {}
    clause: Any
    for owned in reversed(plan):  # parents first, so a child can refer to its parent's clause
        if targets is None or owned.table in targets:
            clause = owner_clause(owned, plan, user_id)
            if owned.table in narrow:
                clause = clause & narrow[owned.table]
            clauses[owned.table] = clause
            continue
        clause = None
        for fk, parent in owned.parent_links:
            if parent not in clauses:
                continue
            target = fk._foreign_key_meta.resolved_target_column
            part = fk.is_in(parent.select(target).where(clauses[parent]))
            clause = part if clause is None else clause | part
        if clause is not None:
            clauses[owned.table] = clause
    return [(o, clauses[o.table]) for o in plan if o.table in clauses]


async def _delete_rows(
    plan: Sequence[Owned],
    user_id: str,
    targets: set[type[Table]] | None,
    narrow: dict[type[Table], Any] | None = None,
) -> tuple[dict[str, int], set[str]]:
    """Delete in one transaction; returns rows per table and the deleted primary keys."""
    counts: dict[str, int] = {}
    ids: set[str] = set()
    async with write_transaction():
        for owned, clause in deletion_clauses(plan, user_id, targets, narrow):
            pk = owned.table._meta.primary_key
            rows = await owned.table.select(pk).where(clause)
            if not rows:
                continue
            ids.update(str(r[pk._meta.name]) for r in rows)
            await owned.table.delete().where(clause)
            counts[owned.name] = len(rows)
        if targets is None:
            # Rows that outlive the person (audit lines) lose the link to them instead.
            for name, table, column in nullify_map():
                linked = int(await table.count().where(column == user_id))
                if linked:
                    await table.update({column: None}).where(column == user_id)
                    counts[f"{name}.{column._meta.name}→null"] = linked
    return counts, ids


def _anonymous_values(now: datetime) -> dict[Any, Any]:
    values: dict[Any, Any] = {User.deleted_at: now}
    for column in User._meta.columns:
        if column._meta.name in _KEPT_USER_COLUMNS:
            continue
        values[column] = None if column._meta.null else column.get_default_value()
    return values


async def _revoke(user_id: str) -> RevocationReport:
    try:
        credentials = await list_credentials(user_id)
    except VaultError:
        # A credential sealed under a key that is gone cannot be revoked by us; say so, and
        # delete it anyway with the rest.
        log.warning("credentials of user %s could not be opened; deleting unrevoked", user_id)
        return RevocationReport(failed=["(unreadable)"])
    return await revoke_all(credentials)


async def delete_account(user_id: str) -> DeletionReport:
    """Delete everything about a person, leaving a soft-deleted User row with no personal data."""
    now = datetime.now(UTC)
    # First the lock-out: principal lookups ignore deleted users, so every session and token of
    # the person stops working before anything else happens (announced to the caches too).
    await User.update({User.deleted_at: now}).where(
        (User.id == user_id) & User.deleted_at.is_null()
    )
    # Committed: every process's cached principals of the person stop answering (ADR 0043).
    await announce_change(user_id)
    report = DeletionReport(revocation=await _revoke(user_id))
    report.rows, ids = await _delete_rows(ownership_map(), user_id, None)
    async with write_transaction():
        row = await User.select(User.deleted_at).where(User.id == user_id).first()
        deleted_at = row["deleted_at"] if row and row["deleted_at"] else now
        await User.update(_anonymous_values(deleted_at)).where(User.id == user_id)
    report.redis = await purge_redis({user_id, *ids})
    log.info(
        "account %s deleted: %d rows, %d redis keys, %d stream entries, %d jobs; "
        "revoked %s, skipped %s, failed %s",
        user_id,
        report.total_rows,
        report.redis.keys,
        report.redis.stream_entries,
        report.redis.jobs,
        report.revocation.revoked,
        report.revocation.skipped,
        report.revocation.failed,
    )
    return report


async def sweep_deleted_accounts(within: timedelta = timedelta(days=7)) -> int:
    """Repeat the purge for accounts deleted recently; returns how many rows it still found."""
    since = datetime.now(UTC) - within
    rows = await User.select(User.id).where(User.deleted_at > since)
    found = 0
    for row in rows:
        found += (await delete_account(str(row["id"]))).total_rows
    return found


async def delete_category(user_id: str, key: str) -> dict[str, int]:
    """Delete one category of a person's data; returns rows removed per table.

    Rows elsewhere that point at the deleted ones go too (deleting tip history takes the feedback
    on those tips with it). Integrations are revoked at their providers first.
    """
    category = get_category(key)
    if category is None or not category.deletable:
        raise LookupError(f"no deletable data category {key!r}")
    plan = ownership_map()
    targets = {o.table for o in plan if category_of(o).key == key}
    narrow: dict[type[Table], Any] = {}
    for owned in plan:
        for table, column, value in category.keep:
            if owned.name == table:
                narrow[owned.table] = owned.table._meta.get_column_by_name(column) != value
    if key == "integrations":
        await _revoke(user_id)
    counts, _ = await _delete_rows(plan, user_id, targets, narrow)
    if key == "integrations":
        await forget_items(user_id)  # the task cache holds what the sources sent
        await forget_habits(user_id)  # …and the habits counted from their completions
    log.info("user %s deleted category %s: %s", user_id, key, counts)
    return counts
