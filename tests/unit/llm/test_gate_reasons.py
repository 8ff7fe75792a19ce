"""Gate errors group into reasons: item numbers, positions and offending values dropped."""

from backend.llm.quality import reason_of


def test_gate_errors_group_by_reason() -> None:
    assert reason_of("not JSON (Expecting value at character 0)") == "not JSON"
    assert reason_of("not JSON (nested too deeply)") == "not JSON"
    placeholder = "content must be a sentence to the person, not a placeholder"
    assert reason_of(f"candidates/3: {placeholder}") == f"candidates/N: {placeholder}"
    assert reason_of("candidates/0/kind: 'poem' is not one of ['task', 'advice']") == (
        "candidates/N/kind: not an allowed value"
    )
    assert reason_of("candidates/1: 'content' is a required property") == (
        "candidates/N: a required field is missing"
    )
