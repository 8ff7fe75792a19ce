"""Event contracts: one subject per payload type, payloads validated on the way back."""

from __future__ import annotations

import msgspec
import pytest

from backend.events.contracts import (
    SUBJECTS,
    ItemCompleted,
    TipFeedback,
    TipServed,
    decode_payload,
    subject_of,
)

SERVED = TipServed(
    tip_id="t1",
    item_ref="demo:1",
    source="demo",
    kind="task",
    policy_id="random",
    policy_version="1",
    propensity=0.25,
    candidate_count=4,
    latency_ms=1.5,
)
FEEDBACK = TipFeedback(
    tip_id="t1",
    item_ref="demo:1",
    action="done",
    dwell_ms=30_000,
    dwell_source="client",
    reward=1.0,
    reward_source="reaction",
)
COMPLETED = ItemCompleted(item_ref="demo:1", source="demo", ok=True)


@pytest.mark.parametrize(
    ("payload", "subject"),
    [
        (SERVED, "signals.tip.served"),
        (FEEDBACK, "signals.tip.feedback"),
        (COMPLETED, "signals.item.completed"),
    ],
)
def test_subject_and_round_trip(payload: msgspec.Struct, subject: str) -> None:
    assert subject_of(payload) == subject
    decoded = decode_payload(subject, msgspec.json.encode(payload))
    assert decoded == msgspec.structs.asdict(payload)
    assert decode_payload(subject, msgspec.json.encode(payload).decode()) == decoded


def test_every_subject_is_unique_and_namespaced() -> None:
    assert len(set(SUBJECTS.values())) == len(SUBJECTS)
    assert all(s.startswith("signals.") for s in SUBJECTS)


def test_unregistered_payload_has_no_subject() -> None:
    class Stray(msgspec.Struct):
        x: int

    with pytest.raises(KeyError, match="Stray"):
        subject_of(Stray(x=1))


def test_a_payload_that_breaks_its_contract_is_refused() -> None:
    raw = msgspec.json.encode({"tip_id": "t1", "item_ref": "demo:1"})
    with pytest.raises(msgspec.ValidationError):
        decode_payload("signals.tip.served", raw)
    wrong_type = msgspec.json.encode({**msgspec.structs.asdict(FEEDBACK), "dwell_ms": "long"})
    with pytest.raises(msgspec.ValidationError):
        decode_payload("signals.tip.feedback", wrong_type)


def test_defaults_fill_in_and_unknown_subjects_pass_through() -> None:
    assert decode_payload(
        "signals.item.completed", b'{"item_ref":"a:1","source":"a","ok":false}'
    ) == {
        "item_ref": "a:1",
        "source": "a",
        "ok": False,
        "detail": "",
    }
    assert decode_payload("signals.future.thing", '{"a": [1, 2]}') == {"a": [1, 2]}
