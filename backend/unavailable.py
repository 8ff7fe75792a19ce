"""Is this failure a dependency being away (the database restarting, Redis down)?

Those are answered as SERVICE_UNAVAILABLE / HTTP 503 ("try again shortly"), never as an
internal error: nothing is wrong with the request or with oO, and a client should retry.
"""

from __future__ import annotations

import sqlite3

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

UNAVAILABLE_MESSAGE = "A service oO needs is unavailable for a moment. Please try again shortly."
RETRY_AFTER_S = 2

_AWAY = (
    ConnectionError,  # refused / reset sockets (OSError subclasses)
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    # A connection the server dropped mid-operation ("cannot switch to state …"): seen while
    # PostgreSQL restarts under load (bench/load.py --fault postgres). The request may or may
    # not have been stored; SERVICE_UNAVAILABLE tells the client to retry — with the same
    # clientRequestId a reaction then gets its stored answer.
    asyncpg.InternalClientError,
    RedisConnectionError,
    RedisTimeoutError,
)


def dependency_away(error: BaseException | None) -> bool:
    """True when `error` (or what caused it) says a dependency could not be reached."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, _AWAY):
            return True
        if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
            return True
        if isinstance(error, OSError) and error.errno is not None:
            return True  # ENETUNREACH, EHOSTUNREACH, … on a socket
        error = error.__cause__ or error.__context__
        seen += 1
    return False
