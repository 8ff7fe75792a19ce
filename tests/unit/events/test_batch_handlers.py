"""Batch handlers get each published batch's events of their type at once, in order, after the
per-event handlers; a failing one is logged and the others still run."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import pytest

from backend.events import handlers


class Ping(msgspec.Struct, frozen=True):
    n: int


class Pong(msgspec.Struct, frozen=True):
    n: int


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers._Registry, "handlers", {})
    monkeypatch.setattr(handlers._Registry, "batch_handlers", {})


async def test_a_batch_handler_sees_its_type_once_per_batch_in_order() -> None:
    seen: list[object] = []

    async def one(user_id: str, event: Ping) -> None:
        seen.append(("one", user_id, event.n))

    async def many(events: Sequence[tuple[str, Ping]]) -> None:
        seen.append(("many", [(u, e.n) for u, e in events]))

    handlers.subscribe(Ping, one)
    handlers.subscribe_batch(Ping, many)
    handlers.subscribe_batch(Ping, many)  # once per handler
    await handlers.dispatch([("a", Ping(1)), ("b", Pong(2)), ("c", Ping(3))])
    assert seen == [("one", "a", 1), ("one", "c", 3), ("many", [("a", 1), ("c", 3)])]
    seen.clear()
    await handlers.dispatch([("b", Pong(4))])
    assert seen == [], "no events of its type: not called"


async def test_a_failing_batch_handler_is_logged_and_the_rest_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[int] = []

    async def broken(events: Sequence[tuple[str, Ping]]) -> None:
        raise RuntimeError("boom")

    async def fine(events: Sequence[tuple[str, Ping]]) -> None:
        seen.extend(e.n for _, e in events)

    handlers.subscribe_batch(Ping, broken)
    handlers.subscribe_batch(Ping, fine)
    await handlers.dispatch([("a", Ping(5))])
    assert seen == [5]
    assert "failed on 1 Ping" in caplog.text
