"""The deployment's VAPID key pair: made once, kept in the token vault, rotatable.

The private half is sealed by the vault (docs/adr/0004-token-vault.md) like any provider token,
so `oo rotate-keys` re-seals it too. `oo push rotate-vapid` makes a new current pair; the old
one is retired but keeps signing for the subscriptions made with it (a push service refuses a
JWT signed by any other key), until the browser re-subscribes with the new public key — the
page does that when `pushPublicKey` differs from its subscription's — and rotation then drops
retired keys nobody uses any more.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from backend.db import write_transaction
from backend.identity.vault import context_for, get_vault, register_encrypted_columns
from backend.notifier.tables import PushSubscription, PushVapidKey
from backend.redis import get_redis, key

register_encrypted_columns(PushVapidKey, "private_key_enc")  # re-sealed by `oo rotate-keys`


def b64url(data: bytes) -> str:
    """Unpadded base64url, as the Push API writes keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class VapidKey:
    """An opened VAPID key: its id, the public key browsers subscribe with, the signer."""

    id: str
    public_key: str
    signer: Vapid02

    def __repr__(self) -> str:
        return f"VapidKey(id={self.id!r}, public_key={self.public_key!r})"


def _context(key_id: str) -> str:
    return context_for(PushVapidKey, key_id, "private_key_enc")


class _Opened:
    # Key rows never change once written (rotation adds a row), so an opened key can be kept.
    by_id: dict[str, VapidKey] = {}


def _open(row: dict[str, object]) -> VapidKey:
    key_id = str(row["id"])
    cached = _Opened.by_id.get(key_id)
    if cached is not None:
        return cached
    pem = get_vault().decrypt(str(row["private_key_enc"]), _context(key_id))
    opened = VapidKey(key_id, str(row["public_key"]), Vapid02.from_pem(pem.encode()))
    _Opened.by_id[key_id] = opened
    return opened


async def _create() -> VapidKey:
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    row = PushVapidKey(public_key=b64url(public), private_key_enc="")
    async with write_transaction():
        await row.save()
        await PushVapidKey.update(
            {PushVapidKey.private_key_enc: get_vault().encrypt(pem, _context(str(row.id)))}
        ).where(PushVapidKey.id == row.id)
    return await key_by_id(str(row.id))  # type: ignore[return-value]


async def _newest() -> dict[str, object] | None:
    row: dict[str, object] | None = (
        await PushVapidKey.select()
        .where(PushVapidKey.retired_at.is_null())
        .order_by(PushVapidKey.created_at, ascending=False)
        .first()
    )
    return row


async def current_key() -> VapidKey:
    """The key new subscriptions use; made on first need (once per deployment)."""
    row = await _newest()
    if row is not None:
        return _open(row)
    # Two processes asking at once must not make two keys: one makes it, the other reads it.
    async with get_redis().lock(key("vapid-create"), timeout=30, blocking_timeout=30):
        row = await _newest()
        return _open(row) if row is not None else await _create()


async def key_by_id(key_id: str) -> VapidKey | None:
    """A key (current or retired) by id; None when it was dropped."""
    cached = _Opened.by_id.get(key_id)
    if cached is not None:
        return cached
    row = await PushVapidKey.select().where(PushVapidKey.id == key_id).first()
    return _open(row) if row is not None else None


@dataclass(frozen=True)
class Rotation:
    """What `rotate_vapid` did."""

    public_key: str
    retired: int
    dropped: int


async def rotate_vapid() -> Rotation:
    """A new current key; the old ones retired; retired keys no subscription uses dropped."""
    now = datetime.now(UTC)
    async with get_redis().lock(key("vapid-create"), timeout=30, blocking_timeout=30):
        old = await PushVapidKey.select(PushVapidKey.id).where(PushVapidKey.retired_at.is_null())
        await PushVapidKey.update({PushVapidKey.retired_at: now}).where(
            PushVapidKey.retired_at.is_null()
        )
        new = await _create()
    in_use = {
        str(r["vapid_key"])
        for r in await PushSubscription.select(PushSubscription.vapid_key).distinct()
    }
    retired = await PushVapidKey.select(PushVapidKey.id).where(
        PushVapidKey.retired_at.is_not_null()
    )
    unused = [str(r["id"]) for r in retired if str(r["id"]) not in in_use]
    if unused:
        await PushVapidKey.delete().where(PushVapidKey.id.is_in(unused))
        for key_id in unused:
            _Opened.by_id.pop(key_id, None)
    return Rotation(public_key=new.public_key, retired=len(old), dropped=len(unused))
