"""Keeping an OAuth token response (code exchange or refresh) of a source in the vault."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.identity.vault import store_credential


async def store_token(
    user_id: str, provider: str, subject: str, token: dict[str, Any], scopes: Sequence[str]
) -> None:
    """Keep a token response in the vault; a response without a refresh token keeps the old one.

    `expires_in` (seconds) becomes an absolute expiry; without it the token does not expire.
    """
    expires_in = token.get("expires_in")
    expires_at = (
        datetime.now(UTC) + timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int | float)
        else None
    )
    await store_credential(
        user_id,
        provider,
        subject,
        str(token["access_token"]),
        token.get("refresh_token"),
        expires_at,
        scopes=scopes,
    )
