"""A newcomer's first tip: a written one when there is one, else the task said as a person would.

Someone who has never answered a tip has taught the policy nothing, and the first tip is the one
that decides whether they come back. So, until their first answer:

- when a written tip (an LLM's or the template writer's) is eligible, the **first-tip rule**
  serves the best of them — model-written before template-written, then by the writer's
  confidence, then by kind (a task or a reminder is something to do) — whatever the policy would
  have picked. The decision is logged as the rule's (`RULE_ID`, propensity 1.0, never explored):
  a deterministic choice is not a draw from the policy, so off-policy evaluation leaves these
  rows out (decision_log) and the policy's own served rewards do not count them.
- otherwise the policy picks as always (its propensities stay exact) and a task is *phrased*: one
  short sentence around the task's title, left intact, from its due date and project — no model,
  so it works on the embedded default with no network.
"""

from __future__ import annotations

from datetime import date

from backend.contracts.candidate import Candidate
from backend.recommender.policies import Decision

RULE_PREFIX = "rule:"
"""Decisions logged under a policy id with this prefix were made by a rule, not drawn."""
RULE_ID = f"{RULE_PREFIX}first-tip"
RULE_VERSION = "1"
TEMPLATE_MODEL = "template"
"""The template writer's model name (backend/llm/config.py; the recommender imports no domain)."""

MAX_TITLE = 90
"""A longer title is shown as it is: wrapped in a sentence it would no longer be a short one."""

_KIND_RANK = {"task": 0, "reminder": 1, "advice": 2, "insight": 3}


def written_choice(candidates: list[Candidate]) -> int | None:
    """The index of the written tip the rule serves first, or None when there is none."""
    written = [(i, c) for i, c in enumerate(candidates) if c.written is not None]
    if not written:
        return None

    def rank(pair: tuple[int, Candidate]) -> tuple[bool, float, int, str]:
        c = pair[1]
        assert c.written is not None
        return (
            c.written.model == TEMPLATE_MODEL,
            -c.written.confidence,
            _KIND_RANK.get(c.kind, len(_KIND_RANK)),
            c.item_ref,
        )

    return min(written, key=rank)[0]


def rule_decision(policy_decision: Decision, choice: int) -> Decision:
    """The rule's decision: certain (propensity 1), with the policy's scores kept for the log."""
    n = len(policy_decision.scores)
    return Decision(
        choice=choice,
        propensity=1.0,
        scores=policy_decision.scores,
        explored=False,
        probabilities=[1.0 if i == choice else 0.0 for i in range(n)],
        contributions=[],
    )


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def phrase_task(candidate: Candidate, today: date) -> str | None:
    """One short sentence presenting a source task, its title intact; None when it does not fit
    (not a source task, or a title too long to wrap)."""
    title = candidate.content.strip()
    if candidate.kind != "task" or candidate.written is not None or not title:
        return None
    if len(title) > MAX_TITLE:
        return None
    quoted = f"“{title}”"
    due = candidate.due_date
    if due is not None:
        days = (today - due).days
        if days > 0:
            return f"Start with {quoted} — it's {_days(days)} overdue."
        if days == 0:
            return f"Start with {quoted} — it's due today."
        if days == -1:
            return f"Start with {quoted} — it's due tomorrow."
    if candidate.project:
        return f"One thing from {candidate.project} to start with: {quoted}."
    return f"One thing to start with: {quoted}."
