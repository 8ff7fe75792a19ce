"""The single source of truth for event subjects and their typed payloads."""

from __future__ import annotations

from typing import Any

import msgspec


class TipServed(msgspec.Struct, frozen=True):
    """`signals.tip.served`: a tip was shown to a person."""

    tip_id: str
    item_ref: str
    source: str
    kind: str
    policy_id: str
    policy_version: str
    propensity: float
    candidate_count: int
    latency_ms: float
    model: str = ""
    """Who wrote a written tip (a litellm model or "template"); "" for a source task."""
    prompt_version: str = ""
    served_at: str = ""
    """ISO time; with content, project and due_date it feeds the profile's history."""
    content: str = ""
    project: str = ""
    due_date: str = ""


class TipFeedback(msgspec.Struct, frozen=True):
    """`signals.tip.feedback`: a person reacted to a tip; the reward closes the learning loop."""

    tip_id: str
    item_ref: str
    action: str
    dwell_ms: int
    dwell_source: str
    reward: float
    reward_source: str
    reacted_at: str = ""
    """ISO time of the reaction (a completion at the source: when it was completed there)."""
    answer: str = ""
    """The answer given (helpful, not_now, true, …); `action` is its effect: done, snooze or
    dismiss. Empty from emitters that only know the effect."""


class ItemCompleted(msgspec.Struct, frozen=True):
    """`signals.item.completed`: an item was closed at its source (or the attempt failed)."""

    item_ref: str
    source: str
    ok: bool
    detail: str = ""


class AgentComputed(msgspec.Struct, frozen=True):
    """`signals.agent.computed`: an agent wrote a fresh snippet for a person.

    `changed` is False when the snippet hash equals the previous one (same words, new expiry);
    consumers that regenerate tip candidates react to changed snippets only.
    """

    agent_id: str
    agent_version: str
    snippet_hash: str
    changed: bool
    evidence: int
    expires_at: str


class TasksSynced(msgspec.Struct, frozen=True):
    """`signals.task.synced`: a source was read; its items are in the cache."""

    source: str
    items: int
    duration_ms: float


class TipCandidatesGenerated(msgspec.Struct, frozen=True):
    """`signals.llm.generated`: a worker stored fresh tip candidates for a person.

    outcome: ok (the model's answer passed the gate) · fell_back (no valid answer after the
    clarification retries: template candidates stored) · error (the model call failed: template
    candidates stored) · template (no model configured).
    """

    generation_id: str
    model: str
    prompt_version: str
    outcome: str
    attempts: int
    candidates: int
    latency_ms: float


class SignedIn(msgspec.Struct, frozen=True):
    """`signals.identity.signed_in`: a person signed in (before their session starts).

    `method` is link · demo · google · apple. Signing in accepts the current Terms and Privacy
    notice (privacy records it); a demo person gets their demo tasks (integrations seeds them).
    """

    method: str
    demo: bool = False


class ProfileChanged(msgspec.Struct, frozen=True):
    """`signals.profile.changed`: a consent, context or agent setting of the person changed.

    `what` is consent · context · preferences · deleted. Consumers re-check what depends on
    it (e.g. which written tips may still be served).
    """

    what: str


class SimProgress(msgspec.Struct, frozen=True):
    """`signals.sim.progress`: a simulation run moved on (published by whoever runs it).

    status: queued · running · finished · failed. `done`/`total` count simulated decisions over
    every policy; `policy_id` is the policy being simulated and `mean_reward` its mean so far.
    The last event of a run (finished or failed) carries no policy and the run's error, if any.
    """

    run_id: str
    status: str
    done: int
    total: int
    policy_id: str = ""
    mean_reward: float | None = None
    error: str = ""


SUBJECTS: dict[str, type[msgspec.Struct]] = {
    "signals.tip.served": TipServed,
    "signals.tip.feedback": TipFeedback,
    "signals.item.completed": ItemCompleted,
    "signals.task.synced": TasksSynced,
    "signals.agent.computed": AgentComputed,
    "signals.profile.changed": ProfileChanged,
    "signals.identity.signed_in": SignedIn,
    "signals.llm.generated": TipCandidatesGenerated,
    "signals.sim.progress": SimProgress,
}


def subject_of(payload: msgspec.Struct) -> str:
    """The subject a payload type is published under."""
    for subject, cls in SUBJECTS.items():
        if isinstance(payload, cls):
            return subject
    raise KeyError(f"no subject registered for {type(payload).__name__}")


def decode_payload(subject: str, raw: bytes | str) -> dict[str, Any]:
    """Validate a stored payload against its contract and return it as a plain dict."""
    cls = SUBJECTS.get(subject)
    if cls is None:
        return dict(msgspec.json.decode(raw))
    return msgspec.structs.asdict(msgspec.json.decode(raw, type=cls))
