"""Integration health: connected, last sync, items seen, the last problem in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.db import write_transaction
from backend.integrations.tables import Integration
from backend.settings import get_settings

CONNECTED = "connected"
NEEDS_ATTENTION = "needs_attention"
NEEDS_RECONNECT = "needs_reconnect"
DISCONNECTED = "disconnected"
ACTIVE = (CONNECTED, NEEDS_ATTENTION)


@dataclass(frozen=True)
class IntegrationState:
    """A person's connection to one source."""

    source: str
    status: str
    account: str
    last_sync_at: datetime | None
    items_seen: int
    error: str
    failures: int


def _state(row: dict[str, object]) -> IntegrationState:
    return IntegrationState(
        source=str(row["source"]),
        status=str(row["status"]),
        account=str(row["account"]),
        last_sync_at=row["last_sync_at"] if isinstance(row["last_sync_at"], datetime) else None,
        items_seen=int(str(row["items_seen"])),
        error=str(row["error"]),
        failures=int(str(row["failures"])),
    )


async def get_state(user_id: str, source: str) -> IntegrationState | None:
    """One connection, if it was ever made."""
    row = (
        await Integration.select()
        .where((Integration.user == user_id) & (Integration.source == source))
        .first()
    )
    return _state(row) if row else None


async def list_states(user_id: str) -> list[IntegrationState]:
    """Every connection of the person."""
    rows = await Integration.select().where(Integration.user == user_id)
    return [_state(r) for r in rows]


async def connected_sources(user_id: str) -> list[str]:
    """Sources to read items from (connected, or struggling but not given up on)."""
    rows = await Integration.select(Integration.source).where(
        (Integration.user == user_id) & Integration.status.is_in(list(ACTIVE))
    )
    return [str(r["source"]) for r in rows]


async def active_pairs() -> list[tuple[str, str]]:
    """(user id, source) of every connection the scheduler keeps fresh.

    A source that needs attention is left alone (no retrying forever); "sync now" retries it.
    """
    rows = await Integration.select(Integration.user, Integration.source).where(
        Integration.status == CONNECTED
    )
    return [(str(r["user"]), str(r["source"])) for r in rows]


async def user_for_account(source: str, account: str) -> str | None:
    """Who a provider account (e.g. a Todoist user id in a webhook) belongs to."""
    row = (
        await Integration.select(Integration.user)
        .where((Integration.source == source) & (Integration.account == account))
        .first()
    )
    return str(row["user"]) if row else None


async def _upsert(user_id: str, source: str, **values: object) -> None:
    now = datetime.now(UTC)
    async with write_transaction():
        row = (
            await Integration.select(Integration.id)
            .where((Integration.user == user_id) & (Integration.source == source))
            .first()
        )
        if row is None:
            row_values: dict[str, Any] = {"created_at": now, "updated_at": now, **values}
            await Integration(user=user_id, source=source, **row_values).save()
        else:
            update = {getattr(Integration, k): v for k, v in values.items()}
            update[Integration.updated_at] = now
            await Integration.update(update).where(Integration.id == row["id"])


async def mark_connected(user_id: str, source: str, account: str = "") -> None:
    """A fresh connection (or a reconnection): clears old problems."""
    await _upsert(user_id, source, status=CONNECTED, account=account, error="", failures=0)


async def mark_synced(user_id: str, source: str, items: int) -> None:
    """A sync succeeded."""
    await _upsert(
        user_id,
        source,
        status=CONNECTED,
        last_sync_at=datetime.now(UTC),
        items_seen=items,
        error="",
        failures=0,
    )


async def mark_failed(user_id: str, source: str, reason: str, *, reconnect: bool = False) -> str:
    """A sync failed; after OO_SYNC_MAX_FAILURES in a row the source needs attention."""
    state = await get_state(user_id, source)
    failures = (state.failures if state else 0) + 1
    if reconnect:
        status = NEEDS_RECONNECT
    elif failures >= get_settings().sync_max_failures:
        status = NEEDS_ATTENTION
    else:
        status = state.status if state and state.status in ACTIVE else CONNECTED
    await _upsert(user_id, source, status=status, error=reason[:300], failures=failures)
    return status


async def mark_disconnected(user_id: str, source: str) -> None:
    """The person disconnected the source."""
    await _upsert(user_id, source, status=DISCONNECTED, error="", failures=0)


async def sources_by_person() -> dict[str, list[str]]:
    """Everyone's connected sources (connected, or struggling but not given up on)."""
    rows = await Integration.select(Integration.user, Integration.source).where(
        Integration.status.is_in(list(ACTIVE))
    )
    found: dict[str, list[str]] = {}
    for r in rows:
        found.setdefault(str(r["user"]), []).append(str(r["source"]))
    return found
