"""People's push subscriptions: kept from the browser's PushSubscription.toJSON(), keys sealed."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from backend.contracts.errors import Refused
from backend.db import write_transaction
from backend.identity.vault import Secret, context_for, get_vault, register_encrypted_columns
from backend.notifier.endpoints import check_endpoint
from backend.notifier.tables import PushSubscription
from backend.notifier.vapid import current_key
from backend.settings import get_settings

register_encrypted_columns(PushSubscription, "p256dh_enc", "auth_enc")  # `oo rotate-keys`

MAX_LABEL = 100


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription as its owner sees it (no keys)."""

    id: str
    endpoint: str
    device_label: str
    created_at: datetime
    expires_at: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_failure: str


@dataclass(frozen=True)
class Target:
    """A subscription opened for delivery: where to POST and the keys to encrypt for."""

    id: str
    user_id: str
    endpoint: str
    p256dh: Secret
    auth: Secret
    vapid_key: str


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(value: str, name: str, length: int) -> str:
    field = f"subscription.keys.{name}"
    try:
        raw = _unb64(value.strip())
    except (binascii.Error, ValueError):
        raise Refused("INVALID_SUBSCRIPTION", f"keys.{name} is not base64url.", field) from None
    if len(raw) != length:
        raise Refused(
            "INVALID_SUBSCRIPTION", f"keys.{name} must be {length} bytes, not {len(raw)}.", field
        )
    if name == "p256dh":
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise Refused(
                "INVALID_SUBSCRIPTION", "keys.p256dh is not a P-256 public key.", field
            ) from None
    return value.strip()


def _expiry(expiration_ms: float | None) -> datetime | None:
    if expiration_ms is None:
        return None
    if not 0 < expiration_ms < 1e14:
        raise Refused("INVALID_SUBSCRIPTION", "expirationTime is out of range.", "expirationTime")
    return datetime.fromtimestamp(expiration_ms / 1000, UTC)


def _seal(row_id: str, column: str, value: str) -> str:
    return get_vault().encrypt(value, context_for(PushSubscription, row_id, column))


async def subscribe(
    user_id: str,
    endpoint: str,
    expiration_ms: float | None,
    p256dh: str,
    auth: str,
    device_label: str = "",
) -> SubscriptionView:
    """Keep (or move to this person, or refresh) the subscription of one browser.

    Everything is checked before anything is written: a refused subscription is stored nowhere.
    """
    settings = get_settings()
    endpoint = check_endpoint(
        endpoint.strip(), production=settings.is_production, allowed=settings.push_endpoint_hosts
    )
    p256dh = _key(p256dh, "p256dh", 65)
    auth = _key(auth, "auth", 16)
    expires_at = _expiry(expiration_ms)
    label = device_label.strip()[:MAX_LABEL]
    key_id = (await current_key()).id
    async with write_transaction():
        existing = await PushSubscription.select(PushSubscription.id).where(
            PushSubscription.endpoint == endpoint
        )
        if existing:
            row_id = str(existing[0]["id"])
            # The same browser re-subscribing (or signed in as someone else now): one row. Its
            # VAPID key stays: an endpoint is bound to the key it was made with (a new key
            # means unsubscribing first, which gives a new endpoint).
            await PushSubscription.update(
                {
                    PushSubscription.user: user_id,
                    PushSubscription.p256dh_enc: _seal(row_id, "p256dh_enc", p256dh),
                    PushSubscription.auth_enc: _seal(row_id, "auth_enc", auth),
                    PushSubscription.expires_at: expires_at,
                    PushSubscription.device_label: label,
                    PushSubscription.last_failure: "",
                }
            ).where(PushSubscription.id == row_id)
        else:
            row = PushSubscription(
                user=user_id,
                endpoint=endpoint,
                p256dh_enc="",
                auth_enc="",
                expires_at=expires_at,
                device_label=label,
                vapid_key=key_id,
            )
            await row.save()
            row_id = str(row.id)
            await PushSubscription.update(
                {
                    PushSubscription.p256dh_enc: _seal(row_id, "p256dh_enc", p256dh),
                    PushSubscription.auth_enc: _seal(row_id, "auth_enc", auth),
                }
            ).where(PushSubscription.id == row_id)
    views = [v for v in await subscriptions_of(user_id) if v.id == row_id]
    return views[0]


_VIEW_COLUMNS = (
    PushSubscription.id,
    PushSubscription.endpoint,
    PushSubscription.device_label,
    PushSubscription.created_at,
    PushSubscription.expires_at,
    PushSubscription.last_success_at,
    PushSubscription.last_failure_at,
    PushSubscription.last_failure,
)


def _view(row: dict[str, Any]) -> SubscriptionView:
    return SubscriptionView(
        id=str(row["id"]),
        endpoint=row["endpoint"],
        device_label=row["device_label"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_success_at=row["last_success_at"],
        last_failure_at=row["last_failure_at"],
        last_failure=row["last_failure"],
    )


async def subscriptions_of(user_id: str) -> list[SubscriptionView]:
    """A person's subscriptions, newest first."""
    rows = (
        await PushSubscription.select(*_VIEW_COLUMNS)
        .where(PushSubscription.user == user_id)
        .order_by(PushSubscription.created_at, ascending=False)
    )
    return [_view(r) for r in rows]


async def unsubscribe(user_id: str, endpoint: str) -> None:
    """Forget one of the person's subscriptions; Refused(NOT_FOUND) when they have none there."""
    async with write_transaction():
        gone = (
            await PushSubscription.delete()
            .where((PushSubscription.user == user_id) & (PushSubscription.endpoint == endpoint))
            .returning(PushSubscription.id)
        )
    if not gone:
        raise Refused("NOT_FOUND", "You have no notifications set up at that endpoint.", "endpoint")


def _target(row: dict[str, Any]) -> Target:
    vault, row_id = get_vault(), str(row["id"])
    return Target(
        id=row_id,
        user_id=str(row["user"]),
        endpoint=row["endpoint"],
        p256dh=Secret(
            vault.decrypt(row["p256dh_enc"], context_for(PushSubscription, row_id, "p256dh_enc"))
        ),
        auth=Secret(
            vault.decrypt(row["auth_enc"], context_for(PushSubscription, row_id, "auth_enc"))
        ),
        vapid_key=str(row["vapid_key"]),
    )


async def target(subscription_id: str) -> Target | None:
    """A subscription opened for delivery (None: removed since the job was queued)."""
    row = await PushSubscription.select().where(PushSubscription.id == subscription_id).first()
    return _target(row) if row is not None else None


async def subscription_ids_of(user_id: str) -> list[str]:
    """The ids of a person's subscriptions (what a delivery fans out to)."""
    rows = await PushSubscription.select(PushSubscription.id).where(
        PushSubscription.user == user_id
    )
    return [str(r["id"]) for r in rows]


async def record_outcome(subscription_id: str, ok: bool, failure: str = "") -> None:
    """Keep when the subscription last worked, or last failed and why."""
    now = datetime.now(UTC)
    changes: dict[Any, Any] = (
        {PushSubscription.last_success_at: now}
        if ok
        else {PushSubscription.last_failure_at: now, PushSubscription.last_failure: failure[:200]}
    )
    await PushSubscription.update(changes).where(PushSubscription.id == subscription_id)


async def remove(subscription_id: str) -> None:
    """Drop a subscription the push service says is gone (404/410)."""
    await PushSubscription.delete().where(PushSubscription.id == subscription_id)


async def subscribed_user_ids() -> list[str]:
    """Everyone with at least one subscription (whom the periodic check visits)."""
    rows = await PushSubscription.select(PushSubscription.user).distinct()
    return sorted({str(r["user"]) for r in rows})
