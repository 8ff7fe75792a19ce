"""Our promoted policy side by side with Vowpal Wabbit's contextual bandit on the same stream.

Run:  .venv/bin/pip install -e '.[bench]'      # vowpalwabbit (a manylinux wheel for 3.11)
      .venv/bin/python bench/bandit_vs_vw.py [--seeds 5] [--decisions 200] [--seed 0]

Both run inside the simulator (backend/simulation) on the same simulated people, days, tasks and
random numbers, and see the same features: the 19-component vector oo-v1 and oo-v3 score
(vectors.OO, computed from the raw features the service logs; oo-v3 adds the person's cells,
from the candidates' project, priority and length). Vowpal Wabbit gets each candidate as one
action line of those features, plus the person's id as a shared feature crossed with every
action feature — the usual way to personalise a VW bandit (per-person weights on top of global
ones, as oo-v3 has a per-person deviation on top of a population model).

Vowpal Wabbit flags (VW_FLAGS):
    --cb_explore_adf      contextual bandit, action-dependent features, with exploration
                          (the pmf it returns gives every action's propensity)
    --cb_type mtr         learn by importance-weighted regression on the chosen action
                          (VW's default for ADF; listed so the comparison is explicit)
    --squarecb            SquareCB exploration (inverse-gap weighting; VW's recommended
                          explorer for ADF); --gamma_scale 10 is VW's default scale
    -q UA                 cross the shared namespace U (person id) with the action namespace
                          A: per-person weights for every feature
    --quiet               no progress output
The same flags with `--epsilon 0.05` instead of SquareCB are run as a second VW variant; the
better of the two is the one compared (so VW is not handicapped by our choice of explorer).

Prints each policy's mean reward, % of oracle and per-decision time (score + update: for VW,
building the example text, predict and learn; for ours, unpacking and packing its stored
state as the service does), then `% of oracle`, `reward ratio` and `time ratio` lines, ours
over Vowpal Wabbit's. Times are wall-clock (perf_counter) on one BLAS thread.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from itertools import count
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from backend.recommender.features import Candidate, Context  # noqa: E402
from backend.recommender.policies import Decision, UserState, register  # noqa: E402
from backend.recommender.policies.base import draw, raw_rows  # noqa: E402
from backend.recommender.policies.vectors import OO_NAMES, oo  # noqa: E402
from backend.simulation.metrics import summarise  # noqa: E402
from backend.simulation.runner import SimConfig, simulate  # noqa: E402

OURS = "oo-v3"
"""The policy to promote (docs/adr/0038): what this benchmark holds against Vowpal Wabbit."""
VW_FLAGS = "--cb_explore_adf --cb_type mtr --squarecb --gamma_scale 10 -q UA --quiet"
VW_EPSILON_FLAGS = "--cb_explore_adf --cb_type mtr --epsilon 0.05 -q UA --quiet"
INSTALL_HINT = (
    "vowpalwabbit is not installed: `.venv/bin/pip install -e '.[bench]'` (or "
    "`pip install vowpalwabbit==9.11.9`; PyPI has manylinux wheels for CPython 3.11). "
    f"Without it this benchmark can only show {OURS}."
)


def vw_available() -> bool:
    """Whether the vowpalwabbit package imports."""
    try:
        import vowpalwabbit  # noqa: F401
    except ImportError:
        return False
    return True


class VWPolicy:
    """Vowpal Wabbit `--cb_explore_adf` behind our Policy protocol (benchmark only).

    The workspace holds the model (VW's state is not serialisable into our state column); a
    person's state carries only their id, so the shared namespace can name them.
    """

    version = "bench"
    description = "Vowpal Wabbit contextual bandit (benchmark only)."

    def __init__(self, policy_id: str, flags: str, seed: int | None = None) -> None:
        import vowpalwabbit

        self.id = policy_id
        self.flags = flags
        self._vw = vowpalwabbit.Workspace(f"{flags} --random_seed {seed or 0}")
        self._rng = np.random.default_rng(seed)
        self._ids = count()
        self._pending: dict[int, tuple[list[str], list[str], np.ndarray]] = {}

    def initial_state(self) -> UserState:
        """A new person: just an id."""
        return {"user": next(self._ids)}

    @staticmethod
    def _lines(user: int, X: np.ndarray) -> list[str]:
        shared = f"shared |U u{user}"
        actions = [
            "|A " + " ".join(f"{name}:{x:.5g}" for name, x in zip(OO_NAMES, row, strict=True) if x)
            for row in X
        ]
        return [shared, *actions]

    def score(
        self, user_state: UserState, context: Context, candidates: Sequence[Candidate]
    ) -> Decision:
        """VW's pmf over the candidates, and a draw from it."""
        user = int(user_state["user"])
        lines = self._lines(user, oo(raw_rows(context, candidates)))
        pmf = np.asarray(self._vw.predict(lines), dtype=float)
        pmf = pmf / pmf.sum()
        choice = draw(self._rng, pmf)
        self._pending[user] = (lines, [c.item_ref for c in candidates], pmf)
        return Decision(
            choice=choice,
            propensity=float(pmf[choice]),
            scores=pmf.tolist(),
            probabilities=pmf.tolist(),
        )

    def update(
        self, user_state: UserState, context: Context, candidate: Candidate, reward: float
    ) -> UserState:
        """Learn from the reward of the action scored last for this person (cost = −reward)."""
        user = int(user_state["user"])
        lines, refs, pmf = self._pending.pop(user)
        chosen = refs.index(candidate.item_ref)
        labelled = list(lines)
        labelled[chosen + 1] = f"0:{-reward:.4f}:{pmf[chosen]:.6f} {lines[chosen + 1]}"
        self._vw.learn(labelled)
        return user_state


def _vw_factory(policy_id: str, flags: str) -> type:
    """A class the simulator can instantiate with `seed=` (one per run, as for our policies)."""

    def init(self: VWPolicy, seed: int | None = None) -> None:
        VWPolicy.__init__(self, policy_id, flags, seed)

    return type(f"VW_{policy_id.replace('-', '_')}", (VWPolicy,), {"__init__": init})


def _line(label: str, s: dict[str, Any]) -> str:
    return (
        f"{label:<34} mean reward {s['mean_reward']:+.4f}   "
        f"{s['pct_oracle'] * 100:5.1f}% of oracle   {s['us_per_decision']:8.1f} µs/decision"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--decisions", type=int, default=200, help="Per simulated user.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--persona", action="append", default=[], help="Default: all.")
    args = parser.parse_args(argv)
    policies = [OURS]
    if vw_available():
        for pid, flags in (("vw-squarecb", VW_FLAGS), ("vw-epsilon", VW_EPSILON_FLAGS)):
            register(_vw_factory(pid, flags)(seed=0))
            policies.append(pid)
    else:
        print(INSTALL_HINT)
    config = SimConfig(
        policies=tuple(policies),
        personas=tuple(args.persona),
        seed=args.seed,
        seeds=args.seeds,
        decisions=args.decisions,
        events="none",
    )
    print(
        f"simulated stream: {len(config.personas) or 'all'} personas × {args.seeds} seeds × "
        f"{args.decisions} decisions per person (seed {args.seed})"
    )
    summary = summarise(simulate(config))
    s = summary["policies"]
    print(_line("oracle (ceiling)", s["oracle"] | {"us_per_decision": 0.0}))
    print(_line(f"ours: {OURS}", s[OURS]))
    if len(policies) == 1:
        print("% of oracle: ours only (no Vowpal Wabbit to compare with)")
        print("reward ratio (ours / VW): n/a — vowpalwabbit is not installed")
        print("time ratio (ours / VW): n/a — vowpalwabbit is not installed")
        return 0
    for pid, flags in (("vw-squarecb", VW_FLAGS), ("vw-epsilon", VW_EPSILON_FLAGS)):
        print(_line(f"VW {pid}", s[pid]) + f"   [{flags}]")
    best = max(("vw-squarecb", "vw-epsilon"), key=lambda p: s[p]["mean_reward"])
    ours, vw = s[OURS], s[best]
    print(f"best Vowpal Wabbit variant: {best}")
    print(
        f"% of oracle: ours {ours['pct_oracle'] * 100:.1f}% vs Vowpal Wabbit "
        f"{vw['pct_oracle'] * 100:.1f}%"
    )
    print(f"reward ratio (ours / VW): {ours['mean_reward'] / vw['mean_reward']:.3f}")
    print(f"time ratio (ours / VW): {ours['us_per_decision'] / vw['us_per_decision']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
