"""The console's people: a searchable, sortable, paged list from the rollups, and one person's
summary. Deleted people appear nowhere."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.admin.overview import DayCounts, day_counts
from backend.admin.tables import AdminUserDay, AdminUserTotals
from backend.contracts.errors import Refused

ORDERS = {
    "SIGNED_UP": AdminUserTotals.user.created_at,
    "LAST_SEEN": AdminUserTotals.last_at,
    "TIPS": AdminUserTotals.served,
    "REACTIONS": AdminUserTotals.reactions,
    "MEAN_REWARD": AdminUserTotals.mean_reward,
    "SOURCES": AdminUserTotals.sources,
}
MAX_PAGE = 100
_COLUMNS = (
    AdminUserTotals.user,
    AdminUserTotals.user.email,
    AdminUserTotals.user.name,
    AdminUserTotals.user.role,
    AdminUserTotals.user.created_at,
    AdminUserTotals.last_at,
    AdminUserTotals.served,
    AdminUserTotals.reactions,
    AdminUserTotals.mean_reward,
    AdminUserTotals.sources,
)


class AdminError(Refused):
    """A refused admin request (a bad cursor, page size or order)."""


@dataclass(frozen=True)
class PersonRow:
    """One person in the list."""

    id: str
    email: str | None
    name: str
    role: str
    signed_up_at: datetime
    last_seen_at: datetime | None
    tips: int
    reactions: int
    mean_reward: float | None
    sources: int


@dataclass(frozen=True)
class PeoplePage:
    """A page of people and where the next one starts."""

    rows: list[PersonRow]
    total: int
    offset: int
    has_next: bool


def cursor_of(offset: int, kind: str = "people") -> str:
    """An opaque cursor for a position in a list."""
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode()


def offset_of(cursor: str | None, kind: str = "people") -> int:
    """The position a cursor names (a clear error for a cursor we did not give out)."""
    if not cursor:
        return 0
    try:
        found, _, raw = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(raw)
    except ValueError:
        raise AdminError(
            "INVALID_CURSOR", "That cursor is not one this list gave.", "after"
        ) from None
    if found != kind or offset < 0:
        raise AdminError("INVALID_CURSOR", "That cursor is not one this list gave.", "after")
    return offset


def is_uuid(text: str) -> bool:
    """Whether the text is a UUID (ids are)."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _row(r: dict[str, Any]) -> PersonRow:
    return PersonRow(
        id=str(r["user"]),
        email=r["user.email"],
        name=str(r["user.name"] or ""),
        role=str(r["user.role"]),
        signed_up_at=r["user.created_at"],
        last_seen_at=r["last_at"],
        tips=int(r["served"]),
        reactions=int(r["reactions"]),
        mean_reward=r["mean_reward"],
        sources=int(r["sources"]),
    )


async def people(
    search: str | None = None,
    first: int = 20,
    after: str | None = None,
    order_by: str = "LAST_SEEN",
    descending: bool = True,
) -> PeoplePage:
    """Live people matching `search` (e-mail, name or id), sorted, one page."""
    if not 1 <= first <= MAX_PAGE:
        raise AdminError("INVALID_PAGE_SIZE", f"first must be 1 to {MAX_PAGE}.", "first")
    column = ORDERS.get(order_by)
    if column is None:
        raise AdminError("INVALID_ORDER", f"orderBy is one of {', '.join(ORDERS)}.", "orderBy")
    offset = offset_of(after)
    live = AdminUserTotals.user.deleted_at.is_null()
    where = live
    text = (search or "").strip()
    if text:
        if is_uuid(text):
            where = live & (AdminUserTotals.user == text)
        else:
            pattern = f"%{text}%"
            where = live & (
                AdminUserTotals.user.email.ilike(pattern) | AdminUserTotals.user.name.ilike(pattern)
            )
    rows = (
        await AdminUserTotals.select(*_COLUMNS)
        .where(where)
        .order_by(column, ascending=not descending)
        .order_by(AdminUserTotals.user, ascending=True)
        .limit(first + 1)
        .offset(offset)
    )
    total = await AdminUserTotals.count().where(where)
    return PeoplePage(
        rows=[_row(r) for r in rows[:first]],
        total=int(total),
        offset=offset,
        has_next=len(rows) > first,
    )


async def reward_history(user_id: str, days: int = 90) -> list[DayCounts]:
    """The person's last `days` active days, oldest first."""
    rows = (
        await AdminUserDay.select()
        .where(AdminUserDay.user == user_id)
        .order_by(AdminUserDay.day, ascending=False)
        .limit(days)
    )
    return [day_counts(r["day"], r) for r in reversed(rows)]


async def person_row(user_id: str) -> PersonRow | None:
    """One live person's list row (None: unknown or deleted)."""
    rows = (
        await AdminUserTotals.select(*_COLUMNS)
        .where((AdminUserTotals.user == user_id) & AdminUserTotals.user.deleted_at.is_null())
        .limit(1)
    )
    return _row(rows[0]) if rows else None
