"""The template writer: good tips with no model at all (the embedded default and the fallback).

It reads the same context a model would — the agents' parameters and the most pressing tasks —
and writes like a friend who has been paying attention. Deterministic: the phrasing is chosen by
a hash of (person, local date, idea), so a reload shows the same words, a new day new ones.
Agents still on cold-start defaults (no evidence) are not quoted as habits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from backend.contracts.candidate import Candidate
from backend.llm.context import TipContext
from backend.llm.gate import MAX_CONTENT, Drafted
from backend.llm.prompt import due_words

PHRASES: dict[str, tuple[str, ...]] = {
    "overdue_real": (
        "“{task}” is {late} — and dates in {project} usually matter to you. "
        "Could you give it ten minutes now?",
        "{project} deadlines are the ones you keep. “{task}” is {late}; "
        "one small step today puts it back on track.",
    ),
    "overdue_soft": (
        "“{task}” is {late}, about as late as you usually let things run — so no guilt. "
        "If it still matters, now is a fine moment.",
        "No rush on “{task}” by your standards, but it has been waiting a while. "
        "Done or deleted, either would be a relief.",
    ),
    "overdue": (
        "“{task}” has been waiting — it's {late}. What's the smallest part of it you could "
        "do right now?",
        "Quick one: “{task}” is {late}. Even five minutes on it will make the rest lighter.",
    ),
    "task": (
        "If you have a few minutes: “{task}”{in_project}. Small, done, off your mind.",
        "Here's one you could close right now: “{task}”{in_project}.",
    ),
    "due_today": (
        "Heads-up: “{task}” is due today.{window}",
        "Today is the day for “{task}”.{window}",
    ),
    "due_soon": (
        "“{task}” is due tomorrow. Doing it today takes the rush out of tomorrow.",
        "Coming up: “{task}”, due tomorrow. Future you will be glad it's already done.",
    ),
    "window_ahead": (" Your best hours start around {hh} — that's a good slot for it.",),
    "window_now": (" You're in one of your strongest hours right now.",),
    "quiet": (
        "This is usually your quiet time. Nothing here needs you right now — rest counts too.",
        "You tend to wind down around now. Let today's list wait; it will keep.",
    ),
    "peak_now": (
        "Right now is one of your strongest hours — around {hh} is when you usually get things "
        "done. A good moment for something that needs focus.",
        "It's {now}, the time of day you're usually at your best. Pick the task you've been "
        "saving for a clear head.",
    ),
    "peak_ahead": (
        "Your most productive stretch usually starts around {hh}. Until then, something light "
        "or a bit of planning fits well.",
    ),
    "peak_past": (
        "Your sharpest hours are behind you for today. Easy wins only — the hard stuff will go "
        "better tomorrow around {hh}.",
    ),
    "momentum_up": (
        "You're on a roll — this week is well above your usual {base} things a day. Keep going, "
        "and remember a breather is part of the pace.",
        "Strong week: you're finishing more than your usual {base} things a day. Nice. "
        "Don't forget to notice it.",
    ),
    "momentum_down": (
        "This week has been slower than usual, and that's okay. One small done thing is often "
        "all it takes to get going again{suggest}.",
        "Quieter week than your usual {base} things a day. No need to catch up all at once; "
        "one easy win is enough for today{suggest}.",
    ),
    "momentum_steady": (
        "You're keeping a steady pace of about {base} things a day. Steady beats heroic.",
    ),
    "focus_two": (
        "Most of what you finish lands in {a} and {b}. If something from elsewhere keeps "
        "sliding, it may not belong on your list at all.",
    ),
    "focus_one": (
        "{a} gets most of your energy lately. Worth a glance at whether anything else needs "
        "a little of it.",
    ),
    "weekly_today": (
        "{day}s are when you get the most done — a good day to take on something you've been "
        "putting off.",
    ),
    "weekly_other": (
        "You get the most done on {day}s. If something big is coming up, it might be worth "
        "saving for then.",
    ),
    "daily": ("You finish most things in the {part}. Plan the demanding ones for then.",),
    # Before oO knows any habits: the clock alone, no claims about the person.
    "moment_morning": (
        "Morning. Pick the one thing that would make today feel done, and start there.",
        "A fresh morning: the first task you finish sets the tone. Make it an easy one.",
    ),
    "moment_afternoon": (
        "Afternoon dip? A short, concrete task is easier to start than a big one.",
        "Halfway through the day. One more small thing done, then a real break.",
    ),
    "moment_evening": (
        "Evening already. If something small is left, close it; the rest can wait.",
        "Winding down is a task too. Write tomorrow's first step down and let today go.",
    ),
    "moment_night": ("It's late. Nothing here is worth losing sleep over.",),
}
KIND_ORDER = ("task", "reminder", "insight", "advice")


def template_version() -> str:
    """`template-<hash>` of every phrase: the template writer's prompt_version."""
    material = json.dumps(PHRASES, sort_keys=True).encode()
    return f"template-{hashlib.sha256(material).hexdigest()[:10]}"


def _hh(hour: Any) -> str:
    return f"{int(hour) % 24:02d}:00"


class _Writer:
    """One generation's phrase choices (kept per instance so each idea is chosen once)."""

    def __init__(self, ctx: TipContext) -> None:
        self.ctx = ctx
        self.day = ctx.today.isoformat()
        self.used: dict[str, set[int]] = {}

    def say(self, key: str, **values: Any) -> str:
        pool = PHRASES[key]
        digest = hashlib.sha256(f"{self.ctx.user_id}|{self.day}|{key}".encode()).digest()
        index = int.from_bytes(digest[:4], "big") % len(pool)
        used = self.used.setdefault(key, set())
        # Two tips of one generation never share a phrasing while the pool has another.
        while index in used and len(used) < len(pool):
            index = (index + 1) % len(pool)
        used.add(index)
        text = pool[index].format(**values)
        return text if len(text) <= MAX_CONTENT else text[: MAX_CONTENT - 1].rstrip() + "…"

    def params(self, agent_id: str) -> dict[str, Any] | None:
        note = self.ctx.note(agent_id)
        return note.params if note is not None and note.evidence > 0 and note.params else None


def _short(task: Candidate) -> str:
    text = " ".join(task.content.split())
    return text if len(text) <= 70 else text[:69].rstrip() + "…"


def _days_late(task: Candidate, w: _Writer) -> int:
    return (w.ctx.today - task.due_date).days if task.due_date else 0


def _task_tip(w: _Writer, used: set[str]) -> Drafted | None:
    tasks = [t for t in w.ctx.tasks if t.item_ref not in used]
    if not tasks:
        return None
    overdue = [t for t in tasks if _days_late(t, w) > 0]
    p = w.params("overdue-task")
    realness: dict[str, float] = dict((p or {}).get("project_realness") or {})
    tolerance = float((p or {}).get("lateness_tolerance_days") or 0)
    agents: tuple[str, ...] = ()
    if overdue:
        task = max(overdue, key=lambda t: (realness.get(t.project, 1.0), _days_late(t, w)))
        late = due_words(task.due_date, w.ctx.today)
        values = {"task": _short(task), "late": late, "project": task.project or "your inbox"}
        if p is not None and realness.get(task.project, 1.0) > 1.2:
            text, agents = w.say("overdue_real", **values), ("overdue-task",)
        elif p is not None and _days_late(task, w) <= max(tolerance, 1):
            text, agents = w.say("overdue_soft", **values), ("overdue-task",)
        else:
            text, agents = w.say("overdue", **values), ()
    else:
        task = tasks[0]
        in_project = f" in {task.project}" if task.project else ""
        text, agents = w.say("task", task=_short(task), in_project=in_project), ()
    used.add(task.item_ref)
    return Drafted(text, "task", agents[0] if agents else "tasks", 0.7, task.item_ref, agents)


def _window(w: _Writer) -> tuple[str, tuple[str, ...]]:
    p = w.params("time-of-day")
    if p is None:
        return "", ()
    hour = w.ctx.local.hour
    peaks = [int(h) for h in p.get("peak_hours") or []]
    if hour in peaks:
        return w.say("window_now"), ("time-of-day",)
    if hour < int(p.get("preferred_hour", 10)):
        return w.say("window_ahead", hh=_hh(p.get("preferred_hour", 10))), ("time-of-day",)
    return "", ()


def _reminder_tip(w: _Writer, used: set[str]) -> Drafted | None:
    for task in w.ctx.tasks:
        if task.item_ref in used or task.due_date is None:
            continue
        days = (task.due_date - w.ctx.today).days
        agents: tuple[str, ...] = ()
        if days == 0:
            window, agents = _window(w)
            text = w.say("due_today", task=_short(task), window=window)
        elif days == 1:
            text = w.say("due_soon", task=_short(task))
        else:
            continue
        used.add(task.item_ref)
        source = agents[0] if agents else "tasks"
        return Drafted(text, "reminder", source, 0.65, task.item_ref, agents)
    return None


def _in_quiet(hour: int, start: int, end: int) -> bool:
    return start <= hour < end if start <= end else hour >= start or hour < end


def _time_tip(w: _Writer, used: set[str]) -> Drafted | None:
    p = w.params("time-of-day")
    if p is None:
        return None
    local = w.ctx.local
    hour, best = local.hour, int(p.get("preferred_hour", 10))
    peaks = [int(h) for h in p.get("peak_hours") or []]
    if _in_quiet(hour, int(p.get("quiet_start", 22)), int(p.get("quiet_end", 7))):
        return Drafted(w.say("quiet"), "advice", "time-of-day", 0.6, "", ("time-of-day",))
    if hour in peaks:
        text = w.say("peak_now", hh=_hh(best), now=local.strftime("%H:%M"))
    elif hour < min(peaks or [best]):
        text = w.say("peak_ahead", hh=_hh(best))
    else:
        text = w.say("peak_past", hh=_hh(best))
    return Drafted(text, "insight", "time-of-day", 0.55, "", ("time-of-day",))


def _momentum_tip(w: _Writer, used: set[str]) -> Drafted | None:
    p = w.params("momentum")
    if p is None:
        return None
    z = float(p.get("engagement_trend") or 0)
    base = f"{float(p.get('baseline_completions_per_day') or 0):.1f}"
    if z >= 1:
        text = w.say("momentum_up", base=base)
    elif z <= -1:
        easy = [t for t in w.ctx.tasks if t.item_ref not in used]
        suggest = f" — maybe “{_short(min(easy, key=lambda t: len(t.content)))}”" if easy else ""
        text = w.say("momentum_down", base=base, suggest=suggest)
    else:
        text = w.say("momentum_steady", base=base)
    return Drafted(text, "advice", "momentum", 0.5, "", ("momentum",))


def _focus_tip(w: _Writer, used: set[str]) -> Drafted | None:
    p = w.params("focus-area")
    areas = [str(a) for a in (p or {}).get("preferred_areas") or [] if a]
    if not areas:
        return None
    text = (
        w.say("focus_two", a=areas[0], b=areas[1])
        if len(areas) > 1
        else w.say("focus_one", a=areas[0])
    )
    return Drafted(text, "insight", "focus-area", 0.45, "", ("focus-area",))


def _pattern_tip(w: _Writer, used: set[str]) -> Drafted | None:
    p = w.params("recent-patterns")
    if p is None:
        return None
    weekly, daily = p.get("weekly_cycle") or {}, p.get("daily_cycle") or {}
    if float(weekly.get("strength") or 0) > 0.5 and weekly.get("peak"):
        day = str(weekly["peak"])
        today = w.ctx.local.strftime("%A")
        text = w.say("weekly_today" if day == today else "weekly_other", day=day)
    elif float(daily.get("strength") or 0) > 0.5 and daily.get("peak"):
        text = w.say("daily", part=daily["peak"])
    else:
        return None
    return Drafted(text, "insight", "recent-patterns", 0.45, "", ("recent-patterns",))


def _moment_tip(w: _Writer, used: set[str]) -> Drafted | None:
    if w.params("time-of-day") is not None:
        return None  # habits known: _time_tip speaks instead
    hour = w.ctx.local.hour
    part = (
        "night" if hour < 5 or hour >= 22 else
        "morning" if hour < 12 else
        "afternoon" if hour < 18 else
        "evening"
    )  # fmt: skip
    return Drafted(w.say(f"moment_{part}"), "advice", "time", 0.35, "", ())


Builder = Callable[[_Writer, set[str]], Drafted | None]
BUILDERS: tuple[Builder, ...] = (
    _task_tip,
    _reminder_tip,
    _time_tip,
    _momentum_tip,
    _pattern_tip,
    _focus_tip,
    _moment_tip,
    _task_tip,  # a second task when the ideas above did not fill the slots
)


def write(ctx: TipContext, n: int) -> list[Drafted]:
    """Up to `n` candidates, different kinds first, none of a kind the context mutes."""
    if not ctx.tasks and not ctx.notes:
        return []  # nothing known: the clock alone is no reason to interrupt anyone
    w = _Writer(ctx)
    used: set[str] = set()
    drafted = [d for build in BUILDERS if (d := build(w, used)) is not None]
    drafted = [d for d in drafted if d.kind not in ctx.silenced_kinds]
    picked: list[Drafted] = []
    for kind in KIND_ORDER:  # one of each kind first: variety is what makes ranking useful
        first = next((d for d in drafted if d.kind == kind and d not in picked), None)
        if first is not None:
            picked.append(first)
    picked += [d for d in drafted if d not in picked]
    return picked[:n]
