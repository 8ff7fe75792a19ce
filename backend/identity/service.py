"""People, personal API tokens, one-time sign-in links and server-side sessions in Redis."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backend.db import write_transaction
from backend.identity.tables import ApiToken, SignInLink, User
from backend.redis import get_redis, key
from backend.settings import get_settings

TOKEN_PREFIX = "oo_pat_"  # noqa: S105 - a public prefix, not a secret
DEMO_EMAIL = "demo@oo.local"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user and how they proved it."""

    user_id: str
    email: str | None
    name: str
    role: str
    timezone: str
    via: str  # "session" | "token"

    @property
    def is_admin(self) -> bool:
        """Role admin."""
        return self.role == "admin"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _principal(row: dict[str, object], via: str) -> Principal:
    return Principal(
        user_id=str(row["id"]),
        email=row["email"] if isinstance(row["email"], str) else None,
        name=str(row["name"]),
        role=str(row["role"]),
        timezone=str(row["timezone"]),
        via=via,
    )


async def get_or_create_user(email: str, name: str = "", *, is_demo: bool = False) -> str:
    """The id of the user with this e-mail, created when new."""
    async with write_transaction():
        row = await User.select(User.id).where(User.email == email).first()
        if row is not None:
            return str(row["id"])
        user = User(email=email, name=name, is_demo=is_demo)
        await user.save()
        return str(user.id)


async def principal_for_user(user_id: str, via: str) -> Principal | None:
    """The principal of an active (not deleted) user."""
    row = await User.select().where((User.id == user_id) & User.deleted_at.is_null()).first()
    return _principal(row, via) if row else None


async def user_id_by_email(email: str) -> str | None:
    """The id of an active user by e-mail."""
    row = (
        await User.select(User.id).where((User.email == email) & User.deleted_at.is_null()).first()
    )
    return str(row["id"]) if row else None


# Personal API tokens -------------------------------------------------------------------


async def create_api_token(user_id: str, name: str) -> tuple[str, str]:
    """Create a token; returns (token id, the token). The token is shown once, stored hashed."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user_id, name=name[:100], token_hash=_sha256(token))
    await row.save()
    return str(row.id), token


async def principal_for_token(token: str) -> Principal | None:
    """The principal a bearer token stands for, or None when unknown or revoked."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = _sha256(token)
    row = (
        await ApiToken.select(ApiToken.id, ApiToken.user, ApiToken.last_used_at)
        .where((ApiToken.token_hash == digest) & ApiToken.revoked_at.is_null())
        .first()
    )
    if row is None:
        return None
    now = datetime.now(UTC)
    last = row["last_used_at"]
    # Write last-used at most once a minute: a hot token must not turn every read into a write.
    if last is None or now - last > timedelta(minutes=1):
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return await principal_for_user(str(row["user"]), "token")


# Sign-in links -------------------------------------------------------------------------


async def create_sign_in_link(user_id: str) -> str:
    """A one-time sign-in URL for the user."""
    settings = get_settings()
    token = secrets.token_urlsafe(32)
    await SignInLink(
        user=user_id,
        token_hash=_sha256(token),
        expires_at=datetime.now(UTC) + timedelta(seconds=settings.sign_in_link_ttl_s),
    ).save()
    return f"{settings.base_url}/auth/link/{token}"


async def redeem_sign_in_link(token: str) -> str | None:
    """Use a sign-in link once; returns the user id, or None if unknown, used or expired."""
    digest = _sha256(token)
    now = datetime.now(UTC)
    async with write_transaction():
        row = await SignInLink.select().where(SignInLink.token_hash == digest).first()
        if row is None or row["used_at"] is not None or row["expires_at"] < now:
            return None
        await SignInLink.update({SignInLink.used_at: now}).where(SignInLink.id == row["id"])
    return str(row["user"])


# Sessions ------------------------------------------------------------------------------


async def create_session(user_id: str) -> str:
    """Start a server-side session; returns the new session id (always fresh: no fixation)."""
    sid = secrets.token_urlsafe(32)
    ttl = get_settings().session_ttl_s
    data = json.dumps({"user_id": user_id, "created_at": datetime.now(UTC).isoformat()})
    redis = get_redis()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key("session", _sha256(sid)), data, ex=ttl)
        pipe.sadd(key("user-sessions", user_id), _sha256(sid))
        pipe.expire(key("user-sessions", user_id), ttl)
        await pipe.execute()
    return sid


async def principal_for_session(sid: str) -> Principal | None:
    """The principal of a live session."""
    raw = await get_redis().get(key("session", _sha256(sid)))
    if raw is None:
        return None
    return await principal_for_user(json.loads(raw)["user_id"], "session")


async def end_session(sid: str) -> None:
    """Sign out this session."""
    redis = get_redis()
    digest = _sha256(sid)
    raw = await redis.get(key("session", digest))
    await redis.delete(key("session", digest))
    if raw is not None:
        user_sessions = key("user-sessions", json.loads(raw)["user_id"])
        await redis.srem(user_sessions, digest)  # type: ignore[misc]
