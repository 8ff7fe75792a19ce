"""People, personal API tokens, one-time sign-in links and server-side sessions in Redis."""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.exceptions import RedisError

from backend import request_round
from backend.contracts.principal import Principal
from backend.db import write_transaction
from backend.identity import principal_cache
from backend.identity.principal_cache import announce_change as announce_change
from backend.identity.tables import ApiToken, SignInLink, User
from backend.ratelimit import fingerprint
from backend.redis import get_redis, key, read
from backend.settings import get_settings

TOKEN_PREFIX = "oo_pat_"  # noqa: S105 - a public prefix, not a secret
DEMO_EMAIL = "demo@oo.local"


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


# The token and its user in one query: this runs on a bearer request whose caller the principal
# cache cannot vouch for (ADR 0043). Raw SQL because Piccolo's join builder costs more CPU than
# the second query it saves.
_TOKEN_PRINCIPAL_SQL = f"""
SELECT t.id AS token_id, t.last_used_at, u.id, u.email, u.name, u.role, u.timezone, u.deleted_at
FROM {ApiToken._meta.tablename} AS t
JOIN {User._meta.tablename} AS u ON u.id = t."user"
WHERE t.token_hash = {{}} AND t.revoked_at IS NULL
LIMIT 1
"""  # noqa: S608 - table names from our own models; the token hash is a bound parameter


TOKEN_USER_TTL_S = 7 * 24 * 3600


def _token_user_key(token: str) -> str:
    return key("token-user", fingerprint(token))


def caller_key(token: str | None, sid: str | None) -> tuple[str, bool] | None:
    """The Redis key naming the caller's user (see Authenticator.caller_key)."""
    if token is not None:
        return (_token_user_key(token), False) if token.startswith(TOKEN_PREFIX) else None
    return (key("session", _sha256(sid)), True) if sid else None


async def _remember_token_user(token: str, user_id: str) -> None:
    """Note the token's user for the next request's round trip: whose current tip and
    generation to read along with the limits. Never trusted for who the caller is: a cached
    principal is used only when the generation read is its own person's (ADR 0043)."""
    read_ahead, known = request_round.take(_token_user_key(token))
    if read_ahead and known != user_id:
        with contextlib.suppress(RedisError):
            await get_redis().set(_token_user_key(token), user_id, ex=TOKEN_USER_TTL_S)


async def principal_for_token(token: str) -> Principal | None:
    """The principal a bearer token stands for, or None when unknown or revoked.

    Answered from this process's cache when the request's round trip vouches for it (ADR
    0043), else from the database. `last_used_at` is written at most once a minute, and only
    on a database lookup: with entries re-checked at least every TRUST_S, it lags real use by
    at most two minutes.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_hash = _sha256(token)
    digest = "t:" + token_hash
    cache = principal_cache.CACHE
    cached, generation = cache.trusted(digest)
    if cached is not None:
        return cached
    rows = await ApiToken.raw(_TOKEN_PRINCIPAL_SQL, token_hash)
    if not rows:
        cache.forget(digest)
        return None
    row = rows[0]
    user_id = str(row["id"])
    if generation.user_id != user_id:
        generation = principal_cache.read_generation(user_id)
    await _remember_token_user(token, user_id)
    now = datetime.now(UTC)
    last = row["last_used_at"]
    # Write last-used at most once a minute: a hot token must not turn every read into a write.
    if last is None or now - last > timedelta(minutes=1):
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["token_id"])
    if row["deleted_at"] is not None:
        return None
    principal = _principal(row, "token")
    await cache.remember(digest, principal, generation)
    return principal


async def set_role(user_id: str, role: str) -> None:
    """Make `role` the person's role ("admin" or "user"); every process sees it at the
    person's next request (the one way roles change, so none forgets to announce it)."""
    await User.update({User.role: role}).where(User.id == user_id)
    await announce_change(user_id)


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


async def why_link_refused(token: str) -> str:
    """Why a sign-in link did not work: "unknown" (never issued or mistyped), "used" or "expired".

    Asked after `redeem_sign_in_link` refused, so a person reads the right sentence: a link that
    was never valid has not "expired".
    """
    row = await SignInLink.select().where(SignInLink.token_hash == _sha256(token)).first()
    if row is None:
        return "unknown"
    return "used" if row["used_at"] is not None else "expired"


# Sessions ------------------------------------------------------------------------------


async def create_session(user_id: str, user_agent: str = "") -> str:
    """Start a server-side session; returns the new session id (always fresh: no fixation)."""
    sid = secrets.token_urlsafe(32)
    ttl = get_settings().session_ttl_s
    data = json.dumps(
        {
            "user_id": user_id,
            "created_at": datetime.now(UTC).isoformat(),
            "user_agent": user_agent[:200],
        }
    )
    redis = get_redis()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key("session", _sha256(sid)), data, ex=ttl)
        pipe.sadd(key("user-sessions", user_id), _sha256(sid))
        pipe.expire(key("user-sessions", user_id), ttl)
        await pipe.execute()
    return sid


async def principal_for_session(sid: str) -> Principal | None:
    """The principal of a live session (read in this request: revocation is immediate).

    The session entry comes with the request's round trip; the person behind it from this
    process's cache while the round trip vouches for it (ADR 0043), else from the database.
    """
    digest = _sha256(sid)
    raw = await read(key("session", digest))
    cache = principal_cache.CACHE
    if raw is None:
        cache.forget("s:" + digest)
        return None
    user_id = str(json.loads(raw)["user_id"])
    cached, generation = cache.trusted("s:" + digest, user_id)
    if cached is not None:
        return cached
    principal = await principal_for_user(user_id, "session")
    if principal is not None:
        await cache.remember("s:" + digest, principal, generation)
    return principal


async def end_session(sid: str) -> None:
    """Sign out this session."""
    redis = get_redis()
    digest = _sha256(sid)
    raw = await redis.get(key("session", digest))
    await redis.delete(key("session", digest))
    principal_cache.CACHE.forget("s:" + digest)
    if raw is not None:
        user_id = json.loads(raw)["user_id"]
        await redis.srem(key("user-sessions", user_id), digest)  # type: ignore[misc]
        await announce_change(user_id)


@dataclass(frozen=True)
class SessionInfo:
    """A live session as its owner sees it; `id` is public (a hash), never the cookie value."""

    id: str
    created_at: datetime
    user_agent: str
    current: bool


def session_public_id(sid: str) -> str:
    """The public id of a session cookie value."""
    return _sha256(sid)[:32]


async def list_sessions(user_id: str, current_sid: str | None = None) -> list[SessionInfo]:
    """The user's live sessions, newest first."""
    redis = get_redis()
    digests = sorted(await redis.smembers(key("user-sessions", user_id)))  # type: ignore[misc]
    current = _sha256(current_sid) if current_sid else None
    sessions: list[SessionInfo] = []
    stale: list[str] = []
    for digest in digests:
        raw = await redis.get(key("session", digest))
        if raw is None:
            stale.append(digest)
            continue
        data = json.loads(raw)
        sessions.append(
            SessionInfo(
                id=digest[:32],
                created_at=datetime.fromisoformat(data["created_at"]),
                user_agent=data.get("user_agent", ""),
                current=digest == current,
            )
        )
    if stale:
        await redis.srem(key("user-sessions", user_id), *stale)  # type: ignore[misc]
    return sorted(sessions, key=lambda s: s.created_at, reverse=True)


async def revoke_session(user_id: str, public_id: str) -> bool:
    """End one of the user's sessions by its public id; False when it is not theirs."""
    redis = get_redis()
    for digest in await redis.smembers(key("user-sessions", user_id)):  # type: ignore[misc]
        if digest[:32] == public_id:
            await redis.delete(key("session", digest))
            await redis.srem(key("user-sessions", user_id), digest)  # type: ignore[misc]
            await announce_change(user_id)
            return True
    return False


async def list_api_tokens(user_id: str) -> list[dict[str, Any]]:
    """The user's tokens (never the secret): id, name, created_at, last_used_at, revoked_at."""
    rows = (
        await ApiToken.select(
            ApiToken.id,
            ApiToken.name,
            ApiToken.created_at,
            ApiToken.last_used_at,
            ApiToken.revoked_at,
        )
        .where(ApiToken.user == user_id)
        .order_by(ApiToken.created_at, ascending=False)
    )
    return list(rows)


async def revoke_api_token(user_id: str, token_id: str) -> bool:
    """Revoke one of the user's tokens at once; False when unknown or not theirs."""
    try:
        uuid.UUID(token_id)
    except ValueError:
        return False
    async with write_transaction():
        row = (
            await ApiToken.select(ApiToken.id)
            .where((ApiToken.id == token_id) & (ApiToken.user == user_id))
            .first()
        )
        if row is None:
            return False
        await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)}).where(
            (ApiToken.id == token_id) & ApiToken.revoked_at.is_null()
        )
    await announce_change(user_id)  # after the commit: a reader must find the row revoked
    return True


# Reads for other domains (profile: agents and features) --------------------------------


async def live_user_zones(user_ids: list[str] | None = None) -> dict[str, str]:
    """Timezone of each live (not deleted) user, by id: of `user_ids`, or of everyone."""
    query = User.select(User.id, User.timezone).where(User.deleted_at.is_null())
    if user_ids is not None:
        if not user_ids:
            return {}
        query = query.where(User.id.is_in(user_ids))
    return {str(r["id"]): str(r["timezone"] or "UTC") for r in await query}


async def users_created_since(since: datetime) -> set[str]:
    """Ids of live users who signed up at or after `since`."""
    rows = await User.select(User.id).where(User.deleted_at.is_null() & (User.created_at >= since))
    return {str(r["id"]) for r in rows}


async def deleted_people() -> int:
    """How many accounts have been deleted (a count that only grows)."""
    return int(await User.count().where(User.deleted_at.is_not_null()))
