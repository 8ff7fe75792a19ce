"""The audit log: every administrative change, from any domain, with who, what and why.

Shared infrastructure (like the event bus): every domain records its admin actions here, and
the admin domain reads it. Call `record` inside the transaction of the change it describes,
so a change is never stored without its audit line (nor the line without the change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.columns import JSON, UUID, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.contracts.json import json_object


class AdminAudit(Table, tablename="admin_audit"):
    """Who changed what, when and why. No foreign key: the record outlives the actor.

    Listed in the admin domain's Piccolo app (migrations/admin/)."""

    id = UUID(primary_key=True)
    actor_user_id = UUID(null=True, default=None)
    action = Varchar(length=100)
    target = Varchar(length=200, default="")
    detail = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


@dataclass(frozen=True)
class AuditEntry:
    """One audit line."""

    id: str
    actor_user_id: str | None
    action: str
    target: str
    detail: dict[str, Any]
    created_at: datetime


async def record(
    actor_user_id: str | None, action: str, target: str, detail: dict[str, Any] | None = None
) -> None:
    """Write an audit line. `action` is dotted (e.g. "policy.promote"); `detail` carries the why.

    `actor_user_id` is None for changes the system makes by itself (e.g. a version bump).
    """
    await AdminAudit(
        actor_user_id=actor_user_id,
        action=action,
        target=target,
        detail=detail or {},
        created_at=datetime.now(UTC),
    ).save()


async def recent(
    limit: int = 50,
    action_prefix: str | None = None,
    target: str | None = None,
    actor: str | None = None,
    offset: int = 0,
) -> list[AuditEntry]:
    """The newest audit lines first, optionally for one kind of action, target or actor."""
    query = (
        AdminAudit.select()
        .order_by(AdminAudit.created_at, ascending=False)
        .order_by(AdminAudit.id)
        .limit(limit)
        .offset(offset)
    )
    if actor is not None:
        query = query.where(AdminAudit.actor_user_id == actor)
    if action_prefix:
        query = query.where(AdminAudit.action.like(f"{action_prefix}%"))
    if target is not None:
        query = query.where(AdminAudit.target == target)
    rows = await query.output(load_json=True)
    return [
        AuditEntry(
            id=str(r["id"]),
            actor_user_id=str(r["actor_user_id"]) if r["actor_user_id"] else None,
            action=r["action"],
            target=r["target"],
            detail=json_object(r["detail"]),
            created_at=r["created_at"],
        )
        for r in rows
    ]
