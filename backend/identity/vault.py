"""The token vault: provider tokens encrypted at rest, keys rotated without downtime.

Each key in OO_SECRET_KEYS (newest first) is stretched with HKDF-SHA256 into an AES-256-GCM key
(docs/adr/0004-token-vault.md says why). A sealed secret reads `v1.<key id>.<base64url(nonce |
ciphertext | tag)>`; the row it belongs to and the column are bound as associated data, so a
ciphertext copied into another row or user does not open. Encryption uses the newest key;
decryption tries the key named in the envelope first, then every other key, so a deploy that adds
a key in front keeps reading what older replicas wrote. `oo rotate-keys` re-seals everything under
the newest key; after that the old key can be dropped.

Plaintext never leaves this module except through `Secret.reveal()`: `Secret` and `Credential`
print as redacted, and `VaultError` never carries the secret.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from piccolo.table import Table

from backend.db import write_transaction
from backend.identity.tables import ProviderCredential
from backend.settings import get_settings

ENVELOPE_VERSION = "v1"
_KEY_INFO = b"oo/vault/aes-256-gcm/v1"
# A separate HKDF output names the key: it reveals nothing about the key itself.
_KID_INFO = b"oo/vault/key-id/v1"
_NONCE_BYTES = 12


class VaultError(Exception):
    """A secret could not be opened (wrong keys, tampered, malformed). Never holds the secret."""


class Secret:
    """A plaintext secret that does not print itself: `reveal()` is the only way out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The plaintext. Call it only where the secret is sent to its provider."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        # Pickling would write the plaintext into arq job payloads or caches.
        raise TypeError("a Secret cannot be pickled")


def _hkdf(secret: str, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=SHA256(), length=length, salt=None, info=info).derive(secret.encode())


@dataclass(frozen=True)
class _Key:
    kid: str
    aead: AESGCM


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Vault:
    """Authenticated encryption under a list of keys, newest first."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise VaultError("the vault needs at least one key (OO_SECRET_KEYS)")
        self._keys = [
            _Key(kid=_hkdf(k, _KID_INFO, 4).hex(), aead=AESGCM(_hkdf(k, _KEY_INFO, 32)))
            for k in keys
        ]

    @property
    def current_kid(self) -> str:
        """The id of the newest key (the one encryption uses)."""
        return self._keys[0].kid

    def encrypt(self, plaintext: str, context: str) -> str:
        """Seal `plaintext` under the newest key, bound to `context` (e.g. table:row:column)."""
        key = self._keys[0]
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = key.aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{ENVELOPE_VERSION}.{key.kid}.{_b64(nonce + sealed)}"

    def key_id(self, token: str) -> str:
        """The key id named in a sealed secret's envelope."""
        return self._parse(token)[0]

    def decrypt(self, token: str, context: str) -> str:
        """Open a sealed secret with whichever key sealed it; VaultError when none does."""
        kid, blob = self._parse(token)
        nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
        # The named key first; the rest too, so a (vanishingly rare) key-id clash still opens.
        ordered = sorted(self._keys, key=lambda k: k.kid != kid)
        for key in ordered:
            try:
                return key.aead.decrypt(nonce, sealed, context.encode()).decode()
            except InvalidTag:
                continue
        raise VaultError("no key in OO_SECRET_KEYS opens this secret (or it was tampered with)")

    def _parse(self, token: str) -> tuple[str, bytes]:
        version, _, rest = token.partition(".")
        kid, _, body = rest.partition(".")
        if version != ENVELOPE_VERSION or not kid or not body:
            raise VaultError("not a sealed secret of this vault")
        try:
            blob = _unb64(body)
        except (binascii.Error, ValueError):
            raise VaultError("a sealed secret is not valid base64") from None
        if len(blob) <= _NONCE_BYTES + 16:
            raise VaultError("a sealed secret is too short")
        return kid, blob


@lru_cache(maxsize=4)
def _vault_for(keys: tuple[str, ...]) -> Vault:
    return Vault(keys)


def get_vault() -> Vault:
    """The vault under this deployment's OO_SECRET_KEYS."""
    return _vault_for(get_settings().secret_keys)


# Which columns hold sealed secrets. Other domains register theirs so `oo rotate-keys` covers
# them; the associated data is always `<table>:<row id>:<column>`.
_ENCRYPTED: dict[type[Table], tuple[str, ...]] = {
    ProviderCredential: ("access_token_enc", "refresh_token_enc"),
}


def register_encrypted_columns(table: type[Table], *columns: str) -> None:
    """Declare columns of `table` that hold vault-sealed text (re-sealed by `oo rotate-keys`)."""
    _ENCRYPTED[table] = tuple(dict.fromkeys((*_ENCRYPTED.get(table, ()), *columns)))


def encrypted_columns() -> dict[type[Table], tuple[str, ...]]:
    """Every registered table → its sealed columns (exports and deletion use this too)."""
    return dict(_ENCRYPTED)


def context_for(table: type[Table], row_id: object, column: str) -> str:
    """The associated data binding a sealed value to its row and column."""
    return f"{table._meta.tablename}:{row_id}:{column}"


# Stored provider credentials --------------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    """A provider credential, opened. Its tokens print as redacted."""

    id: str
    user_id: str
    provider: str
    subject: str
    access_token: Secret
    refresh_token: Secret | None
    expires_at: datetime | None
    scopes: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ProviderLink:
    """A connected provider account, without secrets (dashboards, GraphQL, exports)."""

    provider: str
    subject: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _seal(row_id: str, column: str, value: str | None) -> str | None:
    if value is None:
        return None
    return get_vault().encrypt(value, context_for(ProviderCredential, row_id, column))


def _open(row: dict[str, Any]) -> Credential:
    sealer = get_vault()
    row_id = str(row["id"])
    refresh = row["refresh_token_enc"]
    return Credential(
        id=row_id,
        user_id=str(row["user"]),
        provider=row["provider"],
        subject=row["subject"],
        access_token=Secret(
            sealer.decrypt(
                row["access_token_enc"],
                context_for(ProviderCredential, row_id, "access_token_enc"),
            )
        ),
        refresh_token=Secret(
            sealer.decrypt(refresh, context_for(ProviderCredential, row_id, "refresh_token_enc"))
        )
        if refresh
        else None,
        expires_at=row["expires_at"],
        scopes=tuple(s for s in str(row["scopes"]).split(" ") if s),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def store_credential(
    user_id: str,
    provider: str,
    subject: str,
    access: str,
    refresh: str | None,
    expires_at: datetime | None,
    scopes: Sequence[str] = (),
) -> str:
    """Store (or replace) the tokens of one provider account; returns the credential id.

    A refresh with no new refresh token keeps the stored one: providers (Google among them)
    issue a refresh token only on the first consent, and losing it would disconnect the person.
    """
    now = datetime.now(UTC)
    scope_text = " ".join(dict.fromkeys(scopes))
    async with write_transaction():
        existing = (
            await ProviderCredential.select(ProviderCredential.id)
            .where(
                (ProviderCredential.user == user_id)
                & (ProviderCredential.provider == provider)
                & (ProviderCredential.subject == subject)
            )
            .first()
        )
        if existing is not None:
            row_id = str(existing["id"])
            values: dict[Any, Any] = {
                ProviderCredential.access_token_enc: _seal(row_id, "access_token_enc", access),
                ProviderCredential.expires_at: expires_at,
                ProviderCredential.scopes: scope_text,
                ProviderCredential.updated_at: now,
            }
            if refresh is not None:
                values[ProviderCredential.refresh_token_enc] = _seal(
                    row_id, "refresh_token_enc", refresh
                )
            await ProviderCredential.update(values).where(ProviderCredential.id == row_id)
            return row_id
        row_id = str(uuid.uuid4())
        await ProviderCredential(
            id=row_id,
            user=user_id,
            provider=provider,
            subject=subject,
            access_token_enc=_seal(row_id, "access_token_enc", access),
            refresh_token_enc=_seal(row_id, "refresh_token_enc", refresh),
            expires_at=expires_at,
            scopes=scope_text,
            created_at=now,
            updated_at=now,
        ).save()
        return row_id


def _where(user_id: str, provider: str | None, subject: str | None) -> Any:
    clause: Any = ProviderCredential.user == user_id
    if provider is not None:
        clause &= ProviderCredential.provider == provider
    if subject is not None:
        clause &= ProviderCredential.subject == subject
    return clause


async def get_credential(
    user_id: str, provider: str, subject: str | None = None
) -> Credential | None:
    """The person's credential for a provider (the most recently updated one), opened."""
    row = (
        await ProviderCredential.select()
        .where(_where(user_id, provider, subject))
        .order_by(ProviderCredential.updated_at, ascending=False)
        .first()
    )
    return _open(row) if row else None


async def list_credentials(user_id: str) -> list[Credential]:
    """Every credential of the person, opened (revocation at deletion needs them)."""
    rows = await ProviderCredential.select().where(_where(user_id, None, None))
    return [_open(r) for r in rows]


async def delete_credential(user_id: str, provider: str, subject: str | None = None) -> int:
    """Forget the person's credential(s) for a provider; returns how many were removed."""
    clause = _where(user_id, provider, subject)
    async with write_transaction():
        count = int(await ProviderCredential.count().where(clause))
        await ProviderCredential.delete().where(clause)
    return count


async def list_providers(user_id: str) -> list[ProviderLink]:
    """The person's connected provider accounts — never their tokens."""
    rows = (
        await ProviderCredential.select(
            ProviderCredential.provider,
            ProviderCredential.subject,
            ProviderCredential.scopes,
            ProviderCredential.expires_at,
            ProviderCredential.created_at,
            ProviderCredential.updated_at,
        )
        .where(ProviderCredential.user == user_id)
        .order_by(ProviderCredential.provider)
    )
    return [
        ProviderLink(
            provider=r["provider"],
            subject=r["subject"],
            scopes=tuple(s for s in str(r["scopes"]).split(" ") if s),
            expires_at=r["expires_at"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )
        for r in rows
    ]
