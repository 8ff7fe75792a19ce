"""The agent registry: adding an agent is adding a package and one line here."""

from __future__ import annotations

from agents.focus_area import MANIFEST as FOCUS_AREA
from agents.momentum import MANIFEST as MOMENTUM
from agents.overdue_task import MANIFEST as OVERDUE_TASK
from agents.recent_patterns import MANIFEST as RECENT_PATTERNS
from agents.time_of_day import MANIFEST as TIME_OF_DAY
from agents.types import Manifest

AGENTS: tuple[Manifest, ...] = (
    TIME_OF_DAY,
    MOMENTUM,
    OVERDUE_TASK,
    RECENT_PATTERNS,
    FOCUS_AREA,
)
_BY_ID = {m.id: m for m in AGENTS}
assert len(_BY_ID) == len(AGENTS), "agent ids must be unique"


class UnknownAgent(KeyError):
    """No agent with that id."""


def all_agents() -> tuple[Manifest, ...]:
    """Every registered agent, in registry order."""
    return AGENTS


def get_agent(agent_id: str) -> Manifest:
    """An agent by id; raises UnknownAgent."""
    try:
        return _BY_ID[agent_id]
    except KeyError:
        raise UnknownAgent(agent_id) from None


def consent_keys() -> tuple[str, ...]:
    """The consent keys agents declare (each gates the agents that name it)."""
    return tuple(dict.fromkeys(m.consent_key for m in AGENTS))
