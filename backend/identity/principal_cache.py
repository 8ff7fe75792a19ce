"""Principals a credential stood for, kept in this process, vouched for by the request's one
Redis round trip (ADR 0043).

Each entry is keyed by a hash of the credential (never the credential itself) and remembers the
person's *generation*: a random value at `principal-gen:<user id>` in Redis that every change
of who a credential is or may do replaces, after its transaction commits (`announce_change`).
The request's limits script reads that value along with the caller's entry and tip
(backend/graphql/reads.py); an entry is trusted only while the value read is the one it was
stored with and it is at most TRUST_S old. Anything else — no value read in this request (rate
limits off, Redis away, a WebSocket), another value, an old entry — goes to the database as
before, and the answer is stored with the value read *before* that query, so a change that
commits while the query runs is caught by the next request.

If Redis is away when a change is announced, other processes trust their entries for at most
TRUST_S longer; this process forgets its own at once.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.exceptions import RedisError

from backend import request_round
from backend.contracts.principal import Principal
from backend.redis import get_redis, key

log = logging.getLogger("oo.identity")

TRUST_S = 60.0
"""How long an entry may answer without the database, even while its generation holds."""
MAX_ENTRIES = 20_000
"""Entries kept per process; past it the oldest go first (a dict keeps insertion order)."""
GENERATION_TTL_S = 30 * 24 * 3600
"""A generation unread for this long expires; the next lookup creates a new one (no entry
can match a value it never saw, so expiry only costs that one lookup)."""


def generation_key(user_id: str) -> str:
    """The Redis key of a person's generation."""
    return key("principal-gen", user_id)


def generation_head() -> str:
    """The generation key without its user id (what the limits script reads per caller)."""
    return key("principal-gen", "")


@dataclass(frozen=True, slots=True)
class Entry:
    """A resolved principal, the generation it was resolved under, and when."""

    principal: Principal
    generation: str
    at: float


class PrincipalCache:
    """Credential hash → Entry, with the clock injectable so tests age entries without sleeping."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, trust_s: float = TRUST_S
    ) -> None:
        self.clock = clock
        self.trust_s = trust_s
        self._entries: dict[str, Entry] = {}

    def trusted(self, digest: str, user_id: str | None = None) -> tuple[Principal | None, Read]:
        """The cached principal of `digest` when this request's round vouches for it, and the
        generation read for its person (for `remember` after a database lookup)."""
        entry = self._entries.get(digest)
        if entry is None:
            return None, read_generation(user_id) if user_id else NOT_READ
        who = entry.principal.user_id
        if user_id is not None and user_id != who:  # the session now names someone else
            self._entries.pop(digest, None)
            return None, read_generation(user_id)
        generation = read_generation(who)
        if (
            generation.value is not None
            and generation.value == entry.generation
            and self.clock() - entry.at <= self.trust_s
        ):
            return entry.principal, generation
        self._entries.pop(digest, None)
        return None, generation

    async def remember(self, digest: str, principal: Principal, generation: Read) -> None:
        """Keep `principal` under the generation read before the database was asked.

        Not kept when nothing was read in this request (there is no generation to check it
        against next time). A person without a generation yet gets one, kept only when this
        process created it: had a change set one meanwhile, the next lookup reads that.
        """
        if not generation.read or generation.user_id != principal.user_id:
            return
        value = generation.value
        if value is None:
            value = secrets.token_hex(8)
            try:
                created = await get_redis().set(
                    generation_key(principal.user_id), value, nx=True, ex=GENERATION_TTL_S
                )
            except (RedisError, OSError):
                return
            if not created:
                return
        if len(self._entries) >= MAX_ENTRIES:
            self._prune()
        self._entries[digest] = Entry(principal, value, self.clock())

    def forget(self, digest: str) -> None:
        """Drop one credential's entry (it was refused)."""
        self._entries.pop(digest, None)

    def forget_user(self, user_id: str) -> None:
        """Drop every entry of a person (a change was made through this process)."""
        for digest in [d for d, e in self._entries.items() if e.principal.user_id == user_id]:
            del self._entries[digest]

    def clear(self) -> None:
        """Forget everything (tests)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _prune(self) -> None:
        now = self.clock()
        for digest in [d for d, e in self._entries.items() if now - e.at > self.trust_s]:
            del self._entries[digest]
        while len(self._entries) >= MAX_ENTRIES:
            del self._entries[next(iter(self._entries))]


@dataclass(frozen=True, slots=True)
class Read:
    """A person's generation as this request's round read it (`read` False: it did not)."""

    user_id: str | None
    read: bool
    value: str | None


NOT_READ = Read(None, False, None)


def read_generation(user_id: str) -> Read:
    """The generation of `user_id` that this request's round trip read, taken once."""
    found, value = request_round.take(generation_key(user_id))
    return Read(user_id, found, value)


CACHE = PrincipalCache()
"""This process's cache (tests build their own to play a second process)."""


async def announce_change(user_id: str) -> None:
    """Who a credential of `user_id` is or may do changed (call after the change commits):
    every process's entries of that person stop being trusted at their next request."""
    CACHE.forget_user(user_id)
    try:
        await get_redis().set(generation_key(user_id), secrets.token_hex(8), ex=GENERATION_TTL_S)
    except (RedisError, OSError):
        log.warning(
            "could not announce a change of user %s: other processes trust their cached "
            "principals of that person for up to %.0f s more",
            user_id,
            TRUST_S,
        )
