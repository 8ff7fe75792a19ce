"""All of a request's limits in one Redis round trip; a refused request spends none of them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from backend import ratelimit
from backend.ratelimit import Spend


async def test_many_limits_cost_one_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    from redis.asyncio import Redis

    sent: list[Any] = []
    original = Redis.execute_command

    async def counted(self: Redis, *args: Any, **kwargs: Any) -> Any:
        sent.append(args[0])
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(Redis, "execute_command", counted)
    key = uuid.uuid4().hex
    spends = [
        Spend("probe-failures", "3/minute", f"ip:{key}", test_only=True),
        Spend("probe", "5/minute", f"ip:{key}"),
        Spend("probe", "5/minute", f"credential:{key}"),
    ]
    await ratelimit.spend(spends)  # loads the script (a miss costs one retry, once)
    sent.clear()
    assert await ratelimit.spend(spends) is None
    assert sent == ["EVALSHA"]


async def test_a_refusal_spends_nothing() -> None:
    key = uuid.uuid4().hex
    wide, narrow = Spend("probe", "3/minute", f"ip:{key}"), Spend("probe", "1/minute", key)
    assert await ratelimit.spend([narrow]) is None
    refused = await ratelimit.spend([wide, narrow])
    assert refused is not None
    assert 1 <= refused.retry_after_s <= 60
    # The wide limit was not spent by the refused request: three more fit.
    assert [await ratelimit.hit("probe", "3/minute", f"ip:{key}") for _ in range(3)] == [None] * 3
    assert await ratelimit.hit("probe", "3/minute", f"ip:{key}") is not None


async def test_a_test_only_limit_refuses_when_spent_but_is_not_spent() -> None:
    key = uuid.uuid4().hex
    probe = Spend("probe", "1/minute", key, test_only=True)
    assert await ratelimit.spend([probe, probe]) is None  # nothing spent by testing
    assert await ratelimit.hit("probe", "1/minute", key) is None
    assert await ratelimit.spend([probe]) is not None
