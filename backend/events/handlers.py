"""In-process consumers of events: domains keep their read models current from the bus.

A domain subscribes a handler to a payload type when the composer installs it; `publish`
hands every event to the handlers of its type before appending it to the stream. Handlers run
in the publishing process, so a read model is current when the request that changed it returns;
they must be idempotent (a replayed event arrives again) and never raise into the publisher:
a failing handler is logged, and the publisher's own work stands.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import msgspec

log = logging.getLogger("oo.events")

P = TypeVar("P", bound=msgspec.Struct)
Handler = Callable[[str, Any], Awaitable[None]]


class _Registry:
    handlers: dict[type[msgspec.Struct], list[Handler]] = {}


def subscribe(payload_type: type[P], handler: Callable[[str, P], Awaitable[None]]) -> None:
    """Call `handler(user_id, payload)` for every event of this type (once per handler)."""
    handlers = _Registry.handlers.setdefault(payload_type, [])
    if handler not in handlers:
        handlers.append(handler)


def unsubscribe(payload_type: type[P], handler: Callable[[str, P], Awaitable[None]]) -> None:
    """Stop calling `handler` for this type (no-op when it was not subscribed)."""
    handlers = _Registry.handlers.get(payload_type, [])
    if handler in handlers:
        handlers.remove(handler)


async def dispatch(events: Sequence[tuple[str, msgspec.Struct]]) -> None:
    """Hand each event to its type's handlers, in order; failures are logged, not raised."""
    for user_id, payload in events:
        for handler in _Registry.handlers.get(type(payload), ()):
            try:
                await handler(user_id, payload)
            except Exception:
                log.exception(
                    "event handler %s failed on %s", handler.__qualname__, type(payload).__name__
                )
