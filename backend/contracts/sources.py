"""Where the recommender's candidates and a person's completions come from.

Domains register readers here when the composer installs them: integrations its open tasks,
the calendar gate and the completion history; llm its pre-written tips. The recommender asks
every registered reader and never imports the domains behind them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from backend.contracts.candidate import Candidate

CandidateReader = Callable[[str, datetime], Awaitable[Sequence[Candidate]]]
"""(user_id, now) → the person's candidates from one source; a read, never a model call."""

Gate = Callable[[Candidate], bool]
GateReader = Callable[[str, datetime], Awaitable[Gate | None]]
"""(user_id, now) → a test every candidate must pass right now (None: no restriction)."""


ReadAhead = Callable[[str], list[str]]
"""user_id → the Redis keys a source's readers will GET or MGET during the person's pick (read
with the serve lock in one round trip, ADR 0041)."""


@dataclass(frozen=True)
class CompletionRecord:
    """A task the person completed at its source (`content` is "" when the title is not kept)."""

    user_id: str
    at: datetime
    item_ref: str
    content: str
    project: str
    due_date: date | None
    priority: int = 1
    """1 (normal) … 4 (urgent), as the task was when completed."""
    added_at: datetime | None = None
    """When the task was added (None: unknown)."""
    recurring: bool = False
    """Its due date recurs (it stays open, with a new due date, after each completion)."""


CompletionReader = Callable[[Sequence[str], datetime], Awaitable[list[CompletionRecord]]]
"""(user_ids, since) → their completions since a time, oldest first."""


class _Registry:
    candidates: dict[str, CandidateReader] = {}
    gates: dict[str, GateReader] = {}
    completions: list[CompletionReader] = []
    ahead: dict[str, ReadAhead] = {}


def register_candidates(name: str, reader: CandidateReader) -> None:
    """Offer a source of candidates to the recommender (by name: registering again replaces)."""
    _Registry.candidates[name] = reader


def register_gate(name: str, reader: GateReader) -> None:
    """Add an eligibility gate every candidate must pass (e.g. fits before the next meeting)."""
    _Registry.gates[name] = reader


def register_read_ahead(name: str, keys: ReadAhead) -> None:
    """Name the Redis keys a registered reader will read during a pick (by name)."""
    _Registry.ahead[name] = keys


def read_ahead_keys(user_id: str) -> list[str]:
    """Every key the registered readers will read for this person's pick."""
    return [k for keys in _Registry.ahead.values() for k in keys(user_id)]


def register_completions(reader: CompletionReader) -> None:
    """Offer a reader of completion history (habits, agents' histories)."""
    if reader not in _Registry.completions:
        _Registry.completions.append(reader)


def candidate_readers() -> list[CandidateReader]:
    """Every registered candidate source, in registration order."""
    return list(_Registry.candidates.values())


def gate_readers() -> list[GateReader]:
    """Every registered eligibility gate."""
    return list(_Registry.gates.values())


async def completions_since(user_ids: Sequence[str], since: datetime) -> list[CompletionRecord]:
    """Completions of these people since a time from every registered reader, oldest first."""
    if not user_ids:
        return []
    found: list[CompletionRecord] = []
    for reader in _Registry.completions:
        found.extend(await reader(user_ids, since))
    return sorted(found, key=lambda c: c.at)
