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
BatchHandler = Callable[[Sequence[tuple[str, Any]]], Awaitable[None]]


class _Registry:
    handlers: dict[type[msgspec.Struct], list[Handler]] = {}
    batch_handlers: dict[type[msgspec.Struct], list[BatchHandler]] = {}


def subscribe(payload_type: type[P], handler: Callable[[str, P], Awaitable[None]]) -> None:
    """Call `handler(user_id, payload)` for every event of this type (once per handler)."""
    handlers = _Registry.handlers.setdefault(payload_type, [])
    if handler not in handlers:
        handlers.append(handler)


def subscribe_batch(
    payload_type: type[P], handler: Callable[[Sequence[tuple[str, P]]], Awaitable[None]]
) -> None:
    """Call `handler([(user_id, payload), …])` once per published batch with its events of this
    type, in order: for a handler whose work batches (one queue round trip for a worker's
    hundreds of agent results instead of one per event)."""
    handlers = _Registry.batch_handlers.setdefault(payload_type, [])
    if handler not in handlers:
        handlers.append(handler)


def unsubscribe(payload_type: type[P], handler: Callable[[str, P], Awaitable[None]]) -> None:
    """Stop calling `handler` for this type (no-op when it was not subscribed)."""
    handlers = _Registry.handlers.get(payload_type, [])
    if handler in handlers:
        handlers.remove(handler)


async def dispatch(events: Sequence[tuple[str, msgspec.Struct]]) -> None:
    """Hand each event to its type's handlers, in order, then each type's batch handlers its
    events at once; failures are logged, not raised."""
    for user_id, payload in events:
        for handler in _Registry.handlers.get(type(payload), ()):
            try:
                await handler(user_id, payload)
            except Exception:
                log.exception(
                    "event handler %s failed on %s", handler.__qualname__, type(payload).__name__
                )
    for payload_type, batch_handlers in _Registry.batch_handlers.items():
        of_type = [(user_id, p) for user_id, p in events if type(p) is payload_type]
        if not of_type:
            continue
        for batch_handler in batch_handlers:
            try:
                await batch_handler(of_type)
            except Exception:
                log.exception(
                    "event handler %s failed on %d %s",
                    batch_handler.__qualname__,
                    len(of_type),
                    payload_type.__name__,
                )
