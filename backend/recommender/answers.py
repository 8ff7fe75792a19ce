"""The answers each kind of tip offers, with their labels and keyboard keys (one table for the
page, GraphQL `Tip.answers` and the check that refuses an answer not meant for the kind)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.recommender.reward import Action


@dataclass(frozen=True)
class Answer:
    """One answer a tip offers: what it sends, what the button says, its key."""

    action: Action
    label: str
    key: str
    aria_label: str


ANSWERS: dict[str, tuple[Answer, ...]] = {
    "task": (
        Answer(Action.DONE, "done", "d", "Done: I did it"),
        Answer(Action.SNOOZE, "snooze", "s", "Snooze: ask me later"),
        Answer(Action.DISMISS, "dismiss", "x", "Dismiss: not this one"),
    ),
    "advice": (
        Answer(Action.HELPFUL, "helpful", "h", "Helpful: good advice"),
        Answer(Action.NOT_NOW, "not now", "n", "Not now: maybe another time"),
        Answer(Action.NOT_FOR_ME, "not for me", "x", "Not for me: do not suggest this"),
    ),
    "insight": (
        Answer(Action.TRUE, "true", "t", "True: that is me"),
        Answer(Action.NOT_REALLY, "not really", "n", "Not really: that is not me"),
        Answer(Action.DISMISS, "dismiss", "x", "Dismiss this insight"),
    ),
    "reminder": (
        Answer(Action.DONE, "done", "d", "Done: taken care of"),
        Answer(Action.LATER, "later", "l", "Later: remind me again"),
        Answer(Action.DISMISS, "dismiss", "x", "Dismiss this reminder"),
    ),
}

KIND_LABELS = {"task": "task", "advice": "advice", "insight": "insight", "reminder": "reminder"}
"""The small label the page shows above a tip of each kind."""

LEGACY = frozenset({Action.DONE, Action.SNOOZE, Action.DISMISS})
"""The seed's three answers: still accepted on every kind (older clients, push actions)."""


def answers_for(kind: str) -> tuple[Answer, ...]:
    """The answers a tip of `kind` offers (a task's for an unknown kind)."""
    return ANSWERS.get(kind, ANSWERS["task"])


def allowed(kind: str, action: Action) -> bool:
    """Whether `action` answers a tip of `kind`: its own answers, or one of the seed's three."""
    return action in LEGACY or any(a.action is action for a in answers_for(kind))


def refusal(kind: str, action: Action) -> str | None:
    """Why `action` cannot answer a tip of `kind` (None: it can)."""
    if allowed(kind, action):
        return None
    offered = ", ".join(a.action.value for a in answers_for(kind))
    return f"A {kind} tip is answered with {offered}, not {action.value}."
