"""How well can a model rank the candidates at all, given everything? The model regret's floor.

Run:  .venv/bin/python bench/ranking_floor.py [--seeds 5] [--decisions 200] [--set standard]
                                             [--ridge 0.01]

`oo sim` splits a policy's regret at its own best guess (backend/simulation/metrics.py). The
model part is what its model of the person ranks wrong. This script asks how low that part
could go for a model family fed with *full information*: every candidate of every decision with
its true expected reward, not the one answer a bandit sees.

It simulates the random policy (its log keeps every candidate's raw features and true expected
reward). Per persona it fits each model on the first half of that persona's decisions, and
scores the second half:
- a linear model on vectors.OO, the 19 columns oo-v1 and oo-v3 read;
- the same fitted per simulated person;
- a linear model on every raw feature the service logs, plus a constant;
- if scikit-learn is importable, gradient-boosted trees on the raw features. It is not a
  dependency of oO; install it beside, e.g. `pip install --target /tmp/sk scikit-learn` with
  its dependencies, then `PYTHONPATH=/tmp/sk`.

Each fit serves its argmax in the second half. Printed per persona:
- the regret of that argmax (best expected reward − the served one's);
- in brackets, how often it is the best candidate;
- random's regret for scale.

A bandit learning the same model from its own answers cannot do better than the same model
fitted on everything: with regret r and random's R, the share of the gap closed is at most
about 1 − r / R.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backend.recommender.policies import get_policy  # noqa: E402
from backend.simulation.replay import LoggedDecision  # noqa: E402
from backend.simulation.runner import SimConfig, simulate  # noqa: E402

Design = Callable[[LoggedDecision], np.ndarray]


def _ridge(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


def _halves(decisions: Sequence[LoggedDecision], per_person: bool) -> list[tuple[list, list]]:
    groups: dict[str, list[LoggedDecision]] = defaultdict(list)
    for d in decisions:
        groups[d.user if per_person else ""].append(d)
    return [(g[: len(g) // 2], g[len(g) // 2 :]) for g in groups.values()]


def _served(test: list[LoggedDecision], score: Callable[[np.ndarray], np.ndarray], design: Design):
    for d in test:
        assert d.expected is not None
        k = int(np.argmax(score(design(d))))
        yield float(d.expected.max() - d.expected[k]), k == int(np.argmax(d.expected))


def linear_floor(
    decisions: Sequence[LoggedDecision], design: Design, lam: float, per_person: bool = False
) -> tuple[float, float]:
    """Mean regret and best-hit rate of a ridge fit on the first half, judged on the second."""
    found: list[tuple[float, bool]] = []
    for train, test in _halves(decisions, per_person):
        X = np.vstack([design(d) for d in train])
        y = np.concatenate([np.asarray(d.expected) for d in train])
        beta = _ridge(X, y, lam)
        found += list(_served(test, lambda M, b=beta: M @ b, design))
    return float(np.mean([r for r, _ in found])), float(np.mean([h for _, h in found]))


def trees_floor(decisions: Sequence[LoggedDecision], design: Design) -> tuple[float, float] | None:
    """The same with gradient-boosted trees (None without scikit-learn)."""
    try:
        from sklearn.ensemble import HistGradientBoostingRegressor
    except ImportError:
        return None
    found: list[tuple[float, bool]] = []
    for train, test in _halves(decisions, per_person=False):
        X = np.vstack([design(d) for d in train])
        y = np.concatenate([np.asarray(d.expected) for d in train])
        model = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, random_state=0)
        model.fit(X, y)
        found += list(_served(test, model.predict, design))
    return float(np.mean([r for r, _ in found])), float(np.mean([h for _, h in found]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--set", default="standard", choices=("standard", "held-out"))
    parser.add_argument("--ridge", type=float, default=0.01)
    args = parser.parse_args()
    config = SimConfig(
        policies=("random",),
        seeds=args.seeds,
        decisions=args.decisions,
        events="none",
        persona_set=args.set,
    )
    result = simulate(config, keep_log=True)
    persona_of = {str(u.index): u.persona.id for u in result.users}
    by_persona: dict[str, list[LoggedDecision]] = defaultdict(list)
    for d in result.log:
        by_persona[persona_of[d.user]].append(d)
    keys = sorted(result.log[0].keys)
    oo = get_policy("oo-v3")

    def oo_columns(d: LoggedDecision) -> np.ndarray:
        return np.asarray(oo.vectors(d.rows))  # type: ignore[attr-defined]

    def raw_columns(d: LoggedDecision) -> np.ndarray:
        values = np.array([[row.get(k, 0.0) for k in keys] for row in d.rows])
        return np.hstack([values, np.ones((len(values), 1))])

    print(
        f"ranking floor: {args.set} personas, {args.seeds} seeds × {args.decisions} random "
        f"decisions; fit on each persona's first half, judged on its second; regret (best hit)"
    )
    head = f"{'persona':<18} {'random':>7} {'OO':>14} {'OO per person':>14} {'raw':>14}"
    print(head + f" {'trees, raw':>14}")
    sums: dict[str, list[float]] = defaultdict(list)
    for persona, decisions in sorted(by_persona.items()):
        second = decisions[len(decisions) // 2 :]
        chance = float(np.mean([np.max(d.expected) - np.mean(d.expected) for d in second]))  # type: ignore[arg-type]
        cells = {
            "OO": linear_floor(decisions, oo_columns, args.ridge),
            "OO per person": linear_floor(decisions, oo_columns, args.ridge, per_person=True),
            "raw": linear_floor(decisions, raw_columns, args.ridge),
            "trees, raw": trees_floor(decisions, raw_columns),
        }
        sums["random"].append(chance)
        line = f"{persona:<18} {chance:>7.3f}"
        for name, found in cells.items():
            if found is None:
                line += f" {'—':>14}"
                continue
            sums[name].append(found[0])
            line += f" {found[0]:>7.3f} ({found[1]:.2f})"
        print(line)
    chance_mean = float(np.mean(sums.pop("random")))
    print(f"{'mean':<18} {chance_mean:>7.3f}", end="")
    for values in sums.values():
        print(f" {float(np.mean(values)):>14.3f}", end="")
    print()
    for name, values in sums.items():
        share = 1 - float(np.mean(values)) / chance_mean
        print(f"{name}: at most about {share * 100:.1f} % of the random → best gap")


if __name__ == "__main__":
    main()
