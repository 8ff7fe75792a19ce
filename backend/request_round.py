"""The one Redis round trip of an HTTP GraphQL request (ADR 0030).

The rate-limit middleware does not spend a GraphQL request's limits itself: it opens a round
here with them, and the GraphQL cost budget spends them together with the operation's cost once
the document is parsed, in one script that also reads what the request will ask Redis for next
(the caller's session or token→user entry, the person's current tip). Those values wait here;
`take` hands each out once, to the first reader of that key in this request, who would
otherwise have sent its own GET. A second reader (after a write, say) goes to Redis again.

A request that never reaches execution (malformed JSON, a parse error, the playground page)
has its limits spent by the middleware when its response starts (backend/rate_limit_middleware.py).
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (backend.ratelimit reads Redis through backend.redis, which reads here)
    from backend.ratelimit import Spend


@dataclass
class Round:
    """A request's deferred limits, whether they were spent, the values read with them, and
    the marks this request already wrote (`first_write`)."""

    spends: list[Spend]
    spent: bool = False
    reads: dict[str, str | None] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)


_current: ContextVar[Round | None] = ContextVar("oo_request_round", default=None)


def begin(spends: list[Spend]) -> Token[Round | None]:
    """Open the round of this request (the middleware does, before the app runs)."""
    return _current.set(Round(spends))


def end(token: Token[Round | None]) -> None:
    """Close it (after the response)."""
    _current.reset(token)


def current() -> Round | None:
    """The round of the request being served, if it has one."""
    return _current.get()


def take(key: str) -> tuple[bool, str | None]:
    """(True, value) when this request's round read `key` and nobody took it yet."""
    round_ = _current.get()
    if round_ is None or key not in round_.reads:
        return False, None
    return True, round_.reads.pop(key)


def forget(key: str) -> None:
    """Drop a value read ahead (its key was just written: the value is stale)."""
    round_ = _current.get()
    if round_ is not None:
        round_.reads.pop(key, None)


def first_write(name: str) -> bool:
    """True the first time this request asks for `name` (always True outside a request).

    For idempotent marks several handlers of one request would each write (the person is
    active, say): the first writes, the rest know it is done.
    """
    round_ = _current.get()
    if round_ is None:
        return True
    if name in round_.written:
        return False
    round_.written.add(name)
    return True
