"""The principal cache's trust rule without Redis or a database (ADR 0043): a request's round
stands in for the limits' round trip, a settable clock for time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend import request_round
from backend.contracts.principal import Principal
from backend.identity import principal_cache
from backend.identity.principal_cache import PrincipalCache, generation_key, read_generation
from tests.support.clock import ManualClock

ANN = Principal("u-ann", "ann@example.test", "Ann", "user", "UTC", "token")


@pytest.fixture
def round_() -> Iterator[request_round.Round]:
    token = request_round.begin([])
    current = request_round.current()
    assert current is not None
    try:
        yield current
    finally:
        request_round.end(token)


def _read(round_: request_round.Round, user_id: str, value: str | None) -> None:
    """What the limits' script would have read for the caller this request."""
    round_.reads[generation_key(user_id)] = value


async def _cached(cache: PrincipalCache, round_: request_round.Round, gen: str) -> None:
    _read(round_, ANN.user_id, gen)
    await cache.remember("t:ann", ANN, read_generation(ANN.user_id))


async def test_trusted_only_with_its_own_generation_read_in_this_request(
    round_: request_round.Round,
) -> None:
    cache = PrincipalCache(clock=ManualClock())
    await _cached(cache, round_, "g1")
    assert cache.trusted("t:ann")[0] is None  # nothing read in this request: not trusted
    await _cached(cache, round_, "g1")
    _read(round_, ANN.user_id, "g1")
    assert cache.trusted("t:ann")[0] == ANN
    _read(round_, ANN.user_id, "g2")  # a change was announced
    principal, generation = cache.trusted("t:ann")
    assert principal is None
    assert (generation.read, generation.value) == (True, "g2")  # kept for the lookup's answer
    assert len(cache) == 0


async def test_an_entry_is_trusted_for_trust_s_and_not_a_moment_longer(
    round_: request_round.Round,
) -> None:
    clock = ManualClock()
    cache = PrincipalCache(clock=clock)
    await _cached(cache, round_, "g1")
    clock.now += principal_cache.TRUST_S
    _read(round_, ANN.user_id, "g1")
    assert cache.trusted("t:ann")[0] == ANN
    clock.now += 0.001
    _read(round_, ANN.user_id, "g1")
    assert cache.trusted("t:ann")[0] is None


async def test_a_session_that_names_someone_else_is_not_answered_from_the_entry(
    round_: request_round.Round,
) -> None:
    cache = PrincipalCache(clock=ManualClock())
    await _cached(cache, round_, "g1")
    _read(round_, "u-bob", "g1")
    principal, generation = cache.trusted("t:ann", "u-bob")
    assert principal is None
    assert generation.user_id == "u-bob"


async def test_nothing_is_kept_without_a_generation_read_or_for_another_person(
    round_: request_round.Round,
) -> None:
    cache = PrincipalCache(clock=ManualClock())
    await cache.remember("t:ann", ANN, principal_cache.NOT_READ)
    _read(round_, "u-bob", "g1")
    await cache.remember("t:ann", ANN, read_generation("u-bob"))
    assert len(cache) == 0


async def test_forgetting_a_person_drops_all_their_entries(round_: request_round.Round) -> None:
    cache = PrincipalCache(clock=ManualClock())
    await _cached(cache, round_, "g1")
    _read(round_, ANN.user_id, "g1")
    await cache.remember("s:ann", ANN, read_generation(ANN.user_id))
    assert len(cache) == 2
    cache.forget_user(ANN.user_id)
    assert len(cache) == 0


async def test_a_full_cache_drops_stale_entries_then_the_oldest(
    round_: request_round.Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(principal_cache, "MAX_ENTRIES", 3)
    clock = ManualClock()
    cache = PrincipalCache(clock=clock)
    for n in range(3):
        _read(round_, ANN.user_id, "g1")
        await cache.remember(f"t:{n}", ANN, read_generation(ANN.user_id))
        clock.now += 40
    _read(round_, ANN.user_id, "g1")
    await cache.remember("t:new", ANN, read_generation(ANN.user_id))
    assert len(cache) == 2  # entries 0 and 1 were older than TRUST_S
    for n in range(2):
        _read(round_, ANN.user_id, "g1")
        await cache.remember(f"t:more{n}", ANN, read_generation(ANN.user_id))
    assert len(cache) == 3  # then the oldest went
    _read(round_, ANN.user_id, "g1")
    assert cache.trusted("t:2")[0] is None
