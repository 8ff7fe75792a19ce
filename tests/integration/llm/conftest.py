"""Fixtures of the LLM domain's integration tests: people with agent notes, a stand-in model."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend.identity.service import Principal, principal_for_user
from backend.integrations.service import forget_items
from backend.integrations.tables import DemoTask
from backend.llm.config import GatewayConfig
from backend.llm.gateway import Gateway
from backend.profile.service import compute_agent_now
from tests.support.fixtures import make_person
from tests.support.openai_standin import StandIn, start_standin

NOTE_AGENTS = ("time-of-day", "momentum", "overdue-task", "focus-area")
OPEN_TASKS = (
    ("Send the quarterly numbers to Anna", "Work", 3, -4),
    ("Book the dentist", "Home", 2, 0),
    ("Sort the photo archive", "Home", 1, None),
)


async def person_with_notes(
    *, open_tasks: bool = True, agents: tuple[str, ...] = NOTE_AGENTS
) -> Principal:
    """A person with three weeks of completions, open tasks, and fresh notes from `agents`."""
    person = await make_person(tasks=False)
    now = datetime.now(UTC)
    today = now.date()
    rows = []
    for day in range(1, 22):
        for hour in (9, 10, 11, 16):
            at = (now - timedelta(days=day)).replace(hour=hour, minute=5)
            rows.append(
                DemoTask(
                    user=person.user_id,
                    project="Work" if hour < 11 else "Home",
                    content=f"Finished thing {day}-{hour}",
                    added_at=at - timedelta(days=3),
                    due_date=(at - timedelta(days=1 if hour < 11 else 0)).date(),
                    completed_at=at,
                )
            )
    if open_tasks:
        rows += [
            DemoTask(
                user=person.user_id,
                project=project,
                content=content,
                priority=priority,
                due_date=today + timedelta(days=due) if due is not None else None,
                added_at=now - timedelta(days=10),
            )
            for content, project, priority, due in OPEN_TASKS
        ]
    await DemoTask.insert(*rows)
    await forget_items(person.user_id)
    for agent in agents:
        run = await compute_agent_now(person.user_id, agent)
        assert run.status == "computed", (agent, run.reason)
    principal = await principal_for_user(person.user_id, "token")
    assert principal is not None
    return principal


def task_refs(request: dict[str, Any]) -> list[str]:
    """The task ids offered in a chat request's prompt."""
    text = "\n".join(str(m.get("content")) for m in request.get("messages", []))
    return re.findall(r"id=(\S+) \|", text)


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A stand-in OpenAI-compatible server (scripted per test)."""
    server = start_standin()
    yield server
    server.stop()


def openai_gateway(
    model: str, base_url: str, *, json_mode: str = "object", **router: Any
) -> Gateway:
    """A gateway whose tip-generator is an OpenAI-compatible server (litellm's openai/)."""
    return Gateway(
        GatewayConfig(
            model_list=(
                {
                    "model_name": "tip-generator",
                    "litellm_params": {"model": model, "api_base": base_url, "api_key": "sk-local"},
                },
            ),
            router_settings={"timeout": 20, "num_retries": 0, **router},
        ),
        json_mode=json_mode,
    )


def gateway_for(standin: StandIn, *, json_mode: str = "object", **router: Any) -> Gateway:
    """A gateway whose tip-generator is the stand-in."""
    return openai_gateway("openai/standin-model", standin.base_url, json_mode=json_mode, **router)
