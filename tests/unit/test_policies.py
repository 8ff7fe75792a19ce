"""RandomPolicy: uniform picks with propensity 1/n, and the registry."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from backend.recommender.features import Candidate, Context
from backend.recommender.policies import RandomPolicy, active_policy, get_policy

CONTEXT = Context(now=datetime(2026, 3, 10, 9, 0, tzinfo=UTC))


def candidates(n: int) -> list[Candidate]:
    return [
        Candidate(item_ref=f"demo:{i}", source="demo", kind="task", content=f"t{i}")
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 40])
def test_propensity_and_scores_are_uniform(n: int) -> None:
    policy = RandomPolicy(seed=1)
    decision = policy.score(policy.initial_state(), CONTEXT, candidates(n))
    assert 0 <= decision.choice < n
    assert decision.propensity == pytest.approx(1 / n)
    assert decision.scores == pytest.approx([1 / n] * n)
    assert decision.explored is True


def test_draws_cover_every_candidate_roughly_evenly() -> None:
    policy = RandomPolicy(seed=42)
    pool = candidates(5)
    counts = Counter(policy.score({}, CONTEXT, pool).choice for _ in range(5_000))
    assert set(counts) == set(range(5))
    # 1000 expected each; 5 sigma of a binomial(5000, 0.2) is about 140.
    assert all(850 < c < 1150 for c in counts.values()), counts


def test_same_seed_same_choices_other_seed_other_choices() -> None:
    pool = candidates(10)
    first = RandomPolicy(seed=3)
    second = RandomPolicy(seed=3)
    other = RandomPolicy(seed=4)
    run1 = [first.score({}, CONTEXT, pool).choice for _ in range(50)]
    run2 = [second.score({}, CONTEXT, pool).choice for _ in range(50)]
    run3 = [other.score({}, CONTEXT, pool).choice for _ in range(50)]
    assert run1 == run2
    assert run1 != run3


def test_empty_candidates_raise() -> None:
    with pytest.raises(ValueError, match="no candidates"):
        RandomPolicy(seed=0).score({}, CONTEXT, [])


def test_update_counts_and_does_not_mutate_the_state() -> None:
    policy = RandomPolicy()
    state = policy.initial_state()
    assert state == {"updates": 0}
    after = policy.update(state, CONTEXT, candidates(1)[0], 1.0)
    assert after == {"updates": 1}
    assert state == {"updates": 0}
    assert policy.update({}, CONTEXT, candidates(1)[0], -1.0) == {"updates": 1}


def test_registry() -> None:
    assert get_policy("random").id == "random"
    assert active_policy().id == "random"
    with pytest.raises(KeyError):
        get_policy("no-such-policy")
