"""The JSON-schema gate: good answers pass; each malformed variant is rejected with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend.llm.gate import MAX_CONTENT, candidate_schema, check, decoding_schema


def answer(**overrides: Any) -> str:
    item: dict[str, Any] = {
        "content": "You finish most things before noon: start the report now.",
        "kind": "advice",
        "source": "time-of-day",
        "confidence": 0.7,
        "source_ref": "",
    }
    item.update(overrides)
    return json.dumps({"candidates": [item]})


def test_good_answer_passes() -> None:
    result = check(answer(), max_items=4)
    assert result.ok
    (c,) = result.candidates
    assert c.kind == "advice"
    assert c.source == "time-of-day"
    assert c.confidence == 0.7


def test_optional_fields_get_defaults_and_fences_are_not_content() -> None:
    text = '```json\n{"candidates": [{"content": "Drink some water now.", "kind": "advice"}]}\n```'
    result = check(text, max_items=4, default_source="llm")
    assert result.ok
    assert result.candidates[0].source == "llm"
    assert result.candidates[0].confidence == 0.5


def test_a_task_must_point_at_a_given_task() -> None:
    good = answer(kind="task", source_ref="demo:1")
    assert check(good, 4, task_refs={"demo:1"}).ok
    bad = check(answer(kind="task", source_ref="demo:404"), 4, task_refs={"demo:1"})
    assert not bad.ok
    assert "source_ref" in bad.errors[0]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Sure! Here are some tips: do the dishes.", "not JSON"),
        ('{"candidates": [{"content": "x", "kind": "adv', "not JSON"),
        (answer(kind="chore"), "is not one of"),
        (answer(content=""), "should be non-empty"),
        (answer(content="   "), "does not match"),
        (answer(content="..."), "not a placeholder"),
        (answer(content="1.2"), "not a placeholder"),
        (answer(content="x" * (MAX_CONTENT + 1)), "is too long"),
        (answer(mood="cheerful"), "Additional properties"),
        (json.dumps({"candidates": [], "note": "none"}), "Additional properties"),
        (json.dumps({"candidates": []}), "should be non-empty"),
        (json.dumps([{"content": "x", "kind": "advice"}]), "is not of type 'object'"),
        (answer(confidence=3), "is greater than the maximum"),
        (json.dumps({"tips": ["x"]}), "'candidates' is a required property"),
    ],
    ids=[
        "prose",
        "truncated",
        "wrong-kind",
        "empty-content",
        "blank-content",
        "placeholder-content",
        "number-content",
        "too-long",
        "extra-field",
        "extra-top-level-field",
        "no-candidates",
        "bare-array",
        "confidence-out-of-range",
        "wrong-shape",
    ],
)
def test_malformed_answers_are_rejected(text: str, reason: str) -> None:
    result = check(text, max_items=4)
    assert not result.ok
    assert not result.candidates
    assert any(reason in e for e in result.errors), result.errors


def test_too_many_candidates_are_rejected() -> None:
    items = [{"content": f"Tip {i}", "kind": "advice"} for i in range(5)]
    result = check(json.dumps({"candidates": items}), max_items=4)
    assert not result.ok
    assert "is too long" in result.errors[0]


def test_repeats_collapse_to_one_candidate() -> None:
    same = {"content": "Take a short walk outside.", "kind": "advice"}
    result = check(json.dumps({"candidates": [same, dict(same)]}), max_items=4)
    assert result.ok
    assert len(result.candidates) == 1


def test_the_decoding_schema_is_one_llama_cpp_can_turn_into_a_grammar() -> None:
    grammar = pytest.importorskip(
        "llama_cpp.llama_grammar", reason="the llm extra is not installed"
    )
    assert grammar.json_schema_to_gbnf(json.dumps(decoding_schema(4)))
    with pytest.raises(AssertionError):  # why the decoding schema has no `pattern`
        grammar.json_schema_to_gbnf(json.dumps(candidate_schema(4)))
