"""Why a tip was picked: the stored explanation of a decision and its one plain-language line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.contracts.candidate import Candidate
from backend.recommender.policies import Decision, Policy

TOP_FEATURES = 3
"""How many contributing features an explanation keeps."""

_SILENT = {"bias", "hour_of_day", "dow_sin", "dow_cos"}
"""Context-only components: equal for every candidate, so they never say why *this* one."""


def explanation(
    policy: Policy,
    decision: Decision,
    candidate: Candidate,
    raw: Mapping[str, float],
    candidate_count: int,
) -> dict[str, Any]:
    """The stored explanation of a decision (JSON-safe)."""
    ranked = sorted(
        (c for c in decision.contributions if c.name not in _SILENT),
        key=lambda c: abs(c.amount),
        reverse=True,
    )[:TOP_FEATURES]
    top = [
        {
            "name": c.name,
            "value": round(c.value, 4),
            "weight": round(c.weight, 4),
            "contribution": round(c.amount, 4),
        }
        for c in ranked
    ]
    return {
        "policy_id": policy.id,
        "policy_version": policy.version,
        "score": round(float(decision.scores[decision.choice]), 6),
        "propensity": round(decision.propensity, 6),
        "explored": decision.explored,
        "candidate_count": candidate_count,
        "features": top,
        "line": plain_line(decision, candidate, raw, top),
    }


def _hour(h: float) -> str:
    return str(round(h) % 24)


def _phrase(name: str, candidate: Candidate, raw: Mapping[str, float]) -> str | None:
    """Plain words for one positive reason (None: nothing worth saying)."""
    days = int(raw.get("days_overdue", 0))
    usual = raw.get("usual_hour", -1.0)
    project = candidate.project
    phrases: dict[str, str | None] = {
        "is_overdue": f"Overdue {days} day{'s' if days != 1 else ''}" if days > 0 else None,
        "due_today": "Due today" if raw.get("due_today") else None,
        "due_soon": "Due in the next few days" if raw.get("due_soon") else None,
        "priority": {4: "Urgent", 3: "High priority"}.get(int(raw.get("priority", 1))),
        "task_age": (
            f"On your list for {int(raw.get('task_age_days', 0))} days"
            if raw.get("task_age_days", 0) >= 7
            else None
        ),
        "is_recurring": "A regular one" if raw.get("is_recurring") else None,
        "task_now": f"you usually finish things around {_hour(usual)}" if usual >= 0 else None,
        "project_time": f"now is when you usually do {project}" if project else None,
        "project_affinity": f"you often get {project} things done" if project else None,
        "habit_project": f"you get a lot of {project} done" if project else None,
        "habit_time": f"this is when your {project} things get done" if project else None,
        "habit_late": "you do catch up on late things" if raw.get("is_overdue") else None,
        "kind_advice": "A thought for right now" if raw.get("kind_advice") else None,
        "kind_reminder": "A reminder for right now" if raw.get("kind_reminder") else None,
        "kind_insight": "Something noticed about you" if raw.get("kind_insight") else None,
    }
    phrases["overdue_days"] = phrases["is_overdue"]
    return phrases.get(name)


def plain_line(
    decision: Decision,
    candidate: Candidate,
    raw: Mapping[str, float],
    top: list[dict[str, Any]],
) -> str:
    """One sentence: "Overdue 3 days, and you usually finish things around 9"."""
    if not decision.contributions:
        return "Picked at random while oO learns what works for you."
    reasons: list[str] = []
    for item in top:
        if item["contribution"] <= 0:
            continue
        phrase = _phrase(item["name"], candidate, raw)
        if phrase and phrase not in reasons:
            reasons.append(phrase)
    if decision.explored:
        lead = "Trying something different, to learn what works for you"
        return f"{lead} ({reasons[0][0].lower()}{reasons[0][1:]})." if reasons else f"{lead}."
    if not reasons:
        return "Your best bet right now."
    line = reasons[0][0].upper() + reasons[0][1:]
    if len(reasons) > 1:
        line += f", and {reasons[1][0].lower()}{reasons[1][1:]}"
    return line + "."
