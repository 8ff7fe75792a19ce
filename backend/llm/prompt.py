"""The orchestrator prompt: its text, its version (a content hash) and the context it carries.

`prompt_version` hashes the templates and the answer schema — never the person's data — so it
changes exactly when what we ask the model changes, and every candidate, call and served tip
carries it. The person's context is assembled within a token budget: the header (time,
preferences, active context) always, then the freshest agent notes, then the most pressing
tasks, until the budget is spent.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date

from backend.contracts.candidate import Candidate
from backend.llm.context import TipContext
from backend.llm.gate import KINDS, MAX_CONTENT, candidate_schema


@dataclass(frozen=True)
class PromptTemplates:
    """The words we send; a change to any of them is a new prompt_version."""

    name: str
    system: str
    user: str
    clarify: str


ORCHESTRATOR = PromptTemplates(
    name="v4-orchestrator",
    system=(
        "You write tips for oO. oO shows one person one short tip at a time on a black screen. "
        "Write like a thoughtful friend who knows their habits: warm, specific, brief, never "
        "preachy, never generic. Use what the notes say about them; do not repeat the notes.\n"
        "Answer with JSON only, exactly this shape and nothing else:\n"
        '{{"candidates": [{{"content": "...", "kind": "advice", "source": "momentum", '
        '"confidence": 0.7, "source_ref": ""}}]}}\n'
        "Rules:\n"
        "- Write {n} candidates, each a different idea.\n"
        '- content: one or two sentences to the person ("you"), at most {max_chars} '
        "characters.\n"
        "- kind: one of {kinds}. task = do one listed task now (source_ref = its id). "
        "reminder = something due soon (source_ref = its id). advice = how to go about "
        "things. insight = something true about their habits.\n"
        "- source: the note's name in brackets, or tasks.\n"
        "- confidence: 0 to 1, how likely the tip helps right now.\n"
        "- No other keys. No text outside the JSON."
    ),
    user="It is {now}.\n{context}\nWrite the {n} candidates now.",
    clarify=(
        "That answer was not accepted: {errors}. Answer again with JSON only, in exactly "
        'the shape asked for: {{"candidates": [...]}}, with at most {n} candidates.'
    ),
)

CHARS_PER_TOKEN = 4
"""A conservative estimate for English prose with ids; no tokenizer in the web/worker image."""


def estimate_tokens(text: str) -> int:
    """Tokens a text will cost, roughly."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_version(templates: PromptTemplates = ORCHESTRATOR, max_items: int = 4) -> str:
    """`<name>-<hash>`: the hash of the templates and the schema the answer must meet."""
    material = json.dumps(
        {
            "system": templates.system,
            "user": templates.user,
            "clarify": templates.clarify,
            "schema": candidate_schema(max_items),
        },
        sort_keys=True,
    )
    return f"{templates.name}-{hashlib.sha256(material.encode()).hexdigest()[:10]}"


PRIORITY_WORDS = {4: "urgent", 3: "high priority", 2: "medium priority"}


def due_words(due: date | None, today: date) -> str:
    """`overdue 3 days` · `due today` · `due tomorrow` · `due in 5 days` · ``."""
    if due is None:
        return ""
    days = (due - today).days
    if days < 0:
        return f"overdue {-days} day{'s' if days != -1 else ''}"
    if days == 0:
        return "due today"
    if days == 1:
        return "due tomorrow"
    return f"due in {days} days"


def task_line(task: Candidate, today: date) -> str:
    """One task as the model sees it: id, text, project, due, priority."""
    parts = [f"id={task.item_ref}", task.content.strip()[:120]]
    if task.project:
        parts.append(f"project {task.project}")
    for word in (due_words(task.due_date, today), PRIORITY_WORDS.get(task.priority, "")):
        if word:
            parts.append(word)
    if task.is_recurring:
        parts.append("repeats")
    return "- " + " | ".join(parts)


@dataclass(frozen=True)
class Assembled:
    """The context part of the prompt and what went into it."""

    text: str
    agents: tuple[str, ...]
    """Agents whose notes made it into the budget (the candidates' contributing agents)."""
    tasks: tuple[Candidate, ...]
    tokens: int


def _header(ctx: TipContext) -> list[str]:
    lines: list[str] = []
    prefs = {k: v for k, v in sorted(ctx.prefs.items()) if v not in (None, "", [], {})}
    if prefs:
        lines.append(
            "Their preferences: " + "; ".join(f"{k} = {json.dumps(v)}" for k, v in prefs.items())
        )
    if ctx.context_name:
        muted = f" (no {', '.join(sorted(ctx.silenced_kinds))} now)" if ctx.silenced_kinds else ""
        lines.append(f"Active context: {ctx.context_name}{muted}.")
    return lines


def assemble(ctx: TipContext, budget_tokens: int) -> Assembled:
    """The context within `budget_tokens`: header, then freshest notes, then tasks."""
    lines = _header(ctx)
    used = sum(estimate_tokens(line) for line in lines)
    agents: list[str] = []
    note_lines: list[str] = []
    for note in ctx.notes:  # freshest first (gather_context orders them)
        line = f"- [{note.agent_id}] {note.snippet.strip()}"
        cost = estimate_tokens(line)
        if used + cost > budget_tokens:
            continue
        used += cost
        note_lines.append(line)
        agents.append(note.agent_id)
    if note_lines:
        lines += ["Notes from oO's agents about them:", *note_lines]
    task_lines: list[str] = []
    tasks: list[Candidate] = []
    for task in ctx.tasks:  # most pressing first
        line = task_line(task, ctx.today)
        cost = estimate_tokens(line)
        if used + cost > budget_tokens:
            break
        used += cost
        task_lines.append(line)
        tasks.append(task)
    if task_lines:
        lines += ["Open tasks:", *task_lines]
    if not note_lines and not task_lines:
        lines.append("Nothing is known about them yet.")
    return Assembled(text="\n".join(lines), agents=tuple(agents), tasks=tuple(tasks), tokens=used)


def _fill(template: str, n: int, **values: str) -> str:
    return template.format(n=n, max_chars=MAX_CONTENT, kinds=", ".join(KINDS), **values)


def messages(
    ctx: TipContext, assembled: Assembled, n: int, templates: PromptTemplates = ORCHESTRATOR
) -> list[dict[str, str]]:
    """The chat messages of the first attempt."""
    local = ctx.local
    now = f"{local.strftime('%A %H:%M')} ({ctx.timezone})"
    return [
        {"role": "system", "content": _fill(templates.system, n)},
        {"role": "user", "content": _fill(templates.user, n, now=now, context=assembled.text)},
    ]


def clarification(
    errors: tuple[str, ...], n: int, templates: PromptTemplates = ORCHESTRATOR
) -> dict[str, str]:
    """The message that asks again after a rejected answer."""
    return {"role": "user", "content": _fill(templates.clarify, n, errors="; ".join(errors))}
