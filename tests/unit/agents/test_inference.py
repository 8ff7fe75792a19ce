"""The inference framework: cold start, errors become defaults with a warning, never a crash."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from agents.inference import run_inference
from agents.registry import all_agents, consent_keys, get_agent
from agents.time_of_day import MANIFEST as TIME_OF_DAY
from agents.types import History, ParamSpec
from tests.unit.agents.histories import awake_person


def _boom(history: History) -> int:
    raise ZeroDivisionError("bad data")


def test_infer_raising_gives_the_default_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    broken = dataclasses.replace(
        TIME_OF_DAY,
        params=(
            ParamSpec("preferred_hour", "busiest hour", 10, _boom),
            *TIME_OF_DAY.params[1:],
        ),
    )
    with caplog.at_level(logging.WARNING, logger="oo.agents.inference"):
        result = run_inference(broken, awake_person())
    assert result.values["preferred_hour"] == 10
    assert "preferred_hour" not in result.inferred_keys
    assert result.values["quiet_start"] == 23  # the other parameters still inferred
    assert any("infer(preferred_hour) failed" in r.getMessage() for r in caplog.records)


def test_defaults_are_copies() -> None:
    h = awake_person(days=1)
    spec = TIME_OF_DAY.param("peak_hours")
    first = spec.default(h)
    first.append(99)
    assert 99 not in spec.default(h)


def test_registry() -> None:
    ids = [m.id for m in all_agents()]
    assert ids == ["time-of-day", "momentum", "overdue-task", "recent-patterns", "focus-area"]
    assert get_agent("momentum").consent_key == "agent.momentum"
    assert len(consent_keys()) == 5
    with pytest.raises(KeyError):
        get_agent("nope")
    for manifest in all_agents():
        assert manifest.version
        assert manifest.ttl_s > 0
        assert manifest.min_history > 0
        assert manifest.params, manifest.id


@pytest.mark.parametrize("manifest", all_agents(), ids=lambda m: m.id)
async def test_every_agent_survives_an_empty_history(manifest: object) -> None:
    from agents.types import AgentContext, Manifest

    assert isinstance(manifest, Manifest)
    empty = History(user_id="u", timezone="Not/AZone", now=awake_person().now)
    result = run_inference(manifest, empty)
    snippet = await manifest.compute(AgentContext(empty, result.values, result.evidence))
    assert snippet
    assert len(snippet) < 500
