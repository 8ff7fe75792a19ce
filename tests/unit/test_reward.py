"""Reward inference: the seed's table, boundaries included."""

import pytest

from backend.recommender.answers import ANSWERS, allowed, refusal
from backend.recommender.reward import EFFECT, Action, infer_reward


@pytest.mark.parametrize(
    ("action", "dwell_ms", "expected"),
    [
        (Action.DISMISS, 0, -1.0),
        (Action.DISMISS, 90_000, -1.0),
        (Action.SNOOZE, 0, 0.1),
        (Action.SNOOZE, 3_600_000, 0.1),
        (Action.DONE, 0, -0.3),
        (Action.DONE, 14_999, -0.3),
        (Action.DONE, 15_000, 1.0),
        (Action.DONE, 60_000, 1.0),
        (Action.DONE, 120_000, 1.0),
        (Action.DONE, 120_001, 0.6),
        (Action.DONE, 600_000, 0.6),
        (Action.DONE, 600_001, 0.3),
        (Action.DONE, 86_400_000, 0.3),
    ],
)
def test_reward_table(action: Action, dwell_ms: int, expected: float) -> None:
    assert infer_reward(action, dwell_ms) == expected


def test_negative_dwell_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        infer_reward(Action.DONE, -1)


# Every answer of every kind (reward.py's table); dwell only matters for DONE.
@pytest.mark.parametrize(
    ("action", "effect", "reward"),
    [
        (Action.HELPFUL, Action.DONE, 0.8),
        (Action.NOT_NOW, Action.SNOOZE, 0.1),
        (Action.NOT_FOR_ME, Action.DISMISS, -1.0),
        (Action.TRUE, Action.DONE, 0.6),
        (Action.NOT_REALLY, Action.DISMISS, -0.5),
        (Action.LATER, Action.SNOOZE, 0.1),
        (Action.SNOOZE, Action.SNOOZE, 0.1),
        (Action.DISMISS, Action.DISMISS, -1.0),
    ],
)
@pytest.mark.parametrize("dwell_ms", [0, 30_000, 900_000])
def test_answers_per_kind(action: Action, effect: Action, reward: float, dwell_ms: int) -> None:
    assert infer_reward(action, dwell_ms) == reward
    assert EFFECT[action] is effect


def test_every_answer_of_every_kind_has_an_effect_and_a_reward() -> None:
    for kind, offered in ANSWERS.items():
        assert len(offered) == 3, kind
        assert len({a.key for a in offered}) == 3, kind
        for answer in offered:
            assert answer.action in EFFECT
            assert allowed(kind, answer.action)
            assert refusal(kind, answer.action) is None
            infer_reward(answer.action, 30_000)


def test_seed_answers_fit_every_kind_and_others_do_not() -> None:
    for kind in ANSWERS:
        for seed in (Action.DONE, Action.SNOOZE, Action.DISMISS):
            assert allowed(kind, seed)
    assert not allowed("task", Action.HELPFUL)
    assert not allowed("advice", Action.TRUE)
    assert not allowed("reminder", Action.NOT_FOR_ME)
    assert refusal("task", Action.HELPFUL) == (
        "A task tip is answered with done, snooze, dismiss, not helpful."
    )
