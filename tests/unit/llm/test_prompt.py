"""The orchestrator prompt: versioned by a content hash; the context fits its token budget."""

from __future__ import annotations

import dataclasses

from backend.llm import prompt
from backend.llm.prompt import ORCHESTRATOR, assemble, estimate_tokens, prompt_version
from tests.unit.llm.helpers import NOTES, TASKS, context, note


def test_prompt_version_changes_with_the_prompt_text_only() -> None:
    base = prompt_version(ORCHESTRATOR)
    assert base.startswith("v4-orchestrator-")
    assert prompt_version(dataclasses.replace(ORCHESTRATOR)) == base, "same words, same version"
    for field in ("system", "user", "clarify"):
        changed = dataclasses.replace(
            ORCHESTRATOR, **{field: getattr(ORCHESTRATOR, field) + " Be brief."}
        )
        assert prompt_version(changed) != base, field
    # The schema the answer must meet is part of what we ask.
    assert prompt_version(ORCHESTRATOR, max_items=3) != base


def test_prompt_version_does_not_depend_on_the_person() -> None:
    one = prompt.messages(context("a"), assemble(context("a"), 900), 4)
    other = prompt.messages(context("b", tasks=()), assemble(context("b", tasks=()), 900), 4)
    assert one != other
    assert prompt_version(ORCHESTRATOR) == prompt_version(ORCHESTRATOR)


def test_assembly_keeps_the_freshest_notes_and_the_most_pressing_tasks() -> None:
    full = assemble(context(), budget_tokens=10_000)
    assert full.agents == tuple(n.agent_id for n in NOTES)
    assert [t.item_ref for t in full.tasks] == [t.item_ref for t in TASKS]
    assert "id=demo:1 | Send the quarterly numbers to Anna | project Work | overdue 4 days" in (
        full.text
    )
    assert 'Their preferences: tone = "gentle"' in full.text

    tight = assemble(context(), budget_tokens=90)
    assert tight.tokens <= 90
    assert tight.agents, "the freshest note fits"
    assert tight.agents[0] == "time-of-day"
    assert len(tight.agents) < len(NOTES)
    assert len(tight.tasks) < len(TASKS)


def test_a_long_note_is_skipped_not_cut() -> None:
    huge = note("recent-patterns", "Recent patterns: " + "word " * 400, {}, age_min=0)
    assembled = assemble(context(notes=(huge, *NOTES)), budget_tokens=200)
    assert "recent-patterns" not in assembled.agents
    assert "time-of-day" in assembled.agents
    assert estimate_tokens(assembled.text) <= 200 + 10


def test_messages_carry_the_rules_and_the_context() -> None:
    ctx = context()
    assembled = assemble(ctx, 900)
    system, user = prompt.messages(ctx, assembled, 4)
    assert system["role"] == "system"
    assert "Write 4 candidates" in system["content"]
    assert "task, advice, insight, reminder" in system["content"]
    assert "Wednesday 09:30 (UTC)" in user["content"]
    assert "[momentum]" in user["content"]
    again = prompt.clarification(("not JSON",), 4)
    assert "not JSON" in again["content"]
