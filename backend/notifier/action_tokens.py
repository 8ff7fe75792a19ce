"""Action tokens: what lets a notification's Done / Snooze answer a tip without a session.

A token is `base64url(claims).base64url(HMAC-SHA256(key, claims))`; the key is derived from
the deployment's secret (OO_SECRET_KEYS, newest signs, any verifies, so a key rotation does not
void tokens in flight). Claims: user, tip, action, expiry (the tip's relevance) and a nonce.
Every token of one notification shares its nonce, and the first use claims it in Redis until
the expiry: a replay, or the other button of the same notification, is refused. The "open"
token (a tap on the notification body, posted by the service worker) is claimed apart, so
opening the notification never spends its Done / Snooze.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from backend.contracts.errors import Refused
from backend.redis import get_redis, key
from backend.settings import get_settings

ACTIONS = ("done", "snooze")
"""The reactions a notification's buttons answer with."""
OPEN = "open"
"""The notification was tapped: recorded as "opened" for the push learner, never a reaction."""
_KINDS = (*ACTIONS, OPEN)
_INFO = b"oo/push/action-token/v1"


@dataclass(frozen=True)
class ActionClaims:
    """What a verified token says."""

    user_id: str
    tip_id: str
    action: str
    expires_at: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _keys() -> list[bytes]:
    return [
        hmac.new(k.encode(), _INFO, hashlib.sha256).digest() for k in get_settings().secret_keys
    ]


def _sign(key_bytes: bytes, body: bytes) -> bytes:
    return hmac.new(key_bytes, body, hashlib.sha256).digest()


def new_nonce() -> str:
    """One nonce per notification (shared by its Done and Snooze tokens)."""
    return secrets.token_urlsafe(12)


def mint(user_id: str, tip_id: str, action: str, expires_at: int, nonce: str) -> str:
    """A signed token for one action on one tip, valid until `expires_at` (unix seconds)."""
    if action not in _KINDS:
        raise ValueError(f"unknown action {action!r}")
    claims = {"u": user_id, "t": tip_id, "a": action, "e": int(expires_at), "n": nonce}
    body = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(body)}.{_b64(_sign(_keys()[0], body))}"


def verify(token: str, now: float | None = None) -> ActionClaims:
    """The claims of a genuine, unexpired token; Refused(INVALID_TOKEN | TOKEN_EXPIRED)."""
    invalid = Refused("INVALID_TOKEN", "This notification's link is not valid.", "token")
    body_text, _, sig_text = token.strip().partition(".")
    try:
        body, sig = _unb64(body_text), _unb64(sig_text)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not any(hmac.compare_digest(_sign(k, body), sig) for k in _keys()):
        raise invalid
    try:
        raw = json.loads(body)
        claims = ActionClaims(
            str(raw["u"]), str(raw["t"]), str(raw["a"]), int(raw["e"]), str(raw["n"])
        )
    except (ValueError, KeyError, TypeError):
        raise invalid from None
    if claims.action not in _KINDS:
        raise invalid
    if (time.time() if now is None else now) >= claims.expires_at:
        raise Refused("TOKEN_EXPIRED", "This tip is no longer current.", "token")
    return claims


async def claim(claims: ActionClaims) -> None:
    """Mark the notification's nonce used; Refused(TOKEN_USED) when it already was."""
    ttl = max(1, claims.expires_at - int(time.time()) + 60)
    space = "push-open" if claims.action == OPEN else "push-action"
    first = await get_redis().set(key(space, claims.nonce), claims.action, nx=True, ex=ttl)
    if not first:
        raise Refused("TOKEN_USED", "This notification was already answered.", "token")
