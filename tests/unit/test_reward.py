"""Reward inference: the seed's table, boundaries included."""

import pytest

from backend.recommender.reward import Action, infer_reward


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
