"""Per-decision cost of each policy: score + update, at 5, 20 and 100 candidates by default.

Run:  .venv/bin/python bench/policy_cost.py [--decisions 2000] [--warmup 200] [--seed 0]
          [--sizes 20,200,2000] [--policies oo-v1] [--inputs table,dicts]

For each policy, candidate count and input: a state warmed up with `--warmup` updates, then
`--decisions` rounds of score (all candidates, including unpacking the stored arrays) and update
(the served candidate, including packing the arrays back). Prints µs per decision (score +
update) and each part; also the JSON size of the state, which the database stores and reads per
request. Single process, no database.

Inputs: `dicts` hands the policy one raw feature mapping per candidate, new objects each round,
as a request that recomputes every feature does; `table` hands it a feature table
(backend/recommender/feature_table.py) built once per candidate set and kept while the set does
not change, as a per-person feature matrix cached per source sync is. The table's one-off build
is printed per set (`build µs`), not counted per decision.

Times are CPU time of this process (time.process_time), so a busy machine slows the figures
less than wall-clock time would; BLAS is pinned to one thread (these matrices are tiny).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from datetime import UTC, datetime

# Before numpy loads: one BLAS thread, so CPU time is the cost of one decision, not of a pool.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from backend.recommender.feature_table import FeatureTable  # noqa: E402
from backend.recommender.features import Candidate, Context  # noqa: E402
from backend.recommender.policies import Policy, all_policies  # noqa: E402

SIZES = (5, 20, 100)


def pools(rng: np.random.Generator, n: int, count: int) -> list[tuple[list[Candidate], Context]]:
    """`count` candidate sets of size n with raw features, as the service builds them."""
    now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    out = []
    for k in range(count):
        cands, feats = [], {}
        for i in range(n):
            ref = f"{k}:{i}"
            cands.append(Candidate(item_ref=ref, source="bench", kind="task", content=""))
            overdue = float(rng.random() < 0.3)
            feats[ref] = {
                "is_overdue": overdue,
                "due_today": float(rng.random() < 0.1),
                "due_soon": float(rng.random() < 0.1),
                "days_overdue": overdue * float(rng.integers(1, 20)),
                "task_age_days": float(rng.exponential(30)),
                "priority": float(rng.integers(1, 5)),
                "is_recurring": float(rng.random() < 0.2),
                "kind_advice": 0.0,
                "kind_reminder": 0.0,
                "kind_insight": 0.0,
                "hour_of_day": 9.0,
                "day_of_week": 1.0,
                "served_count": float(rng.integers(0, 4)),
                "ignored_count": float(rng.integers(0, 3)),
                "hours_since_served": float(rng.uniform(0, 720)),
                "time_fit": float(rng.uniform(-1, 1)),
                "project_time_fit": float(rng.uniform(-1, 1)),
                "usual_hour": 9.0,
                "project_affinity": float(rng.uniform(-1, 1)),
                "habit_project": float(rng.uniform(-1, 1)),
                "habit_time": float(rng.uniform(-1, 1)),
                "habit_late": overdue * float(rng.uniform(-1, 1)),
                "habit_choice": float(rng.uniform(-2, 3)),
            }
        out.append((cands, Context(now=now, features=feats)))
    return out


def fresh_mappings(sets: list[tuple[list[Candidate], Context]], k: int) -> Context:
    """Set k's context with new mapping objects (as a request computing features anew has)."""
    _, ctx = sets[k % len(sets)]
    assert ctx.features is not None
    return replace(ctx, features={ref: dict(row) for ref, row in ctx.features.items()})


def with_tables(sets: list[tuple[list[Candidate], Context]]) -> tuple[list[Context], float]:
    """Each set's context with its feature table, and the mean µs a table took to build."""
    out, spent = [], 0.0
    for cands, ctx in sets:
        assert ctx.features is not None
        t0 = time.process_time()
        table = FeatureTable.build(cands, ctx.features)
        spent += time.process_time() - t0
        out.append(replace(ctx, table=table))
    return out, spent / len(sets) * 1e6


def measure(
    policy: Policy, n: int, decisions: int, warmup: int, seed: int, source: str
) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    sets = pools(rng, n, 64)
    tabled, build_us = with_tables(sets) if source == "table" else ([], 0.0)
    state = policy.initial_state()
    for k in range(warmup):
        cands, ctx = sets[k % len(sets)]
        state = policy.update(state, ctx, cands[k % n], float(rng.uniform(-1, 1)))
    rewards = rng.uniform(-1, 1, size=decisions)
    score_s = update_s = 0.0
    for k in range(decisions):
        cands = sets[k % len(sets)][0]
        ctx = tabled[k % len(sets)] if tabled else fresh_mappings(sets, k)
        t0 = time.process_time()
        d = policy.score(state, ctx, cands)
        t1 = time.process_time()
        state = policy.update(state, ctx, cands[d.choice], float(rewards[k]))
        t2 = time.process_time()
        score_s += t1 - t0
        update_s += t2 - t1
    return {
        "score": score_s / decisions * 1e6,
        "update": update_s / decisions * 1e6,
        "total": (score_s + update_s) / decisions * 1e6,
        "state_bytes": float(len(json.dumps(state))),
        "build": build_us,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help="comma-separated candidate counts (default: %(default)s)",
    )
    parser.add_argument(
        "--policies", default="", help="comma-separated policy ids (default: every policy)"
    )
    parser.add_argument(
        "--inputs", default="table,dicts", help="table and/or dicts (default: %(default)s)"
    )
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    wanted = {p.strip() for p in args.policies.split(",") if p.strip()}
    print(f"policy cost: {args.decisions} decisions after {args.warmup} warm-up updates\n")
    inputs = [i.strip() for i in args.inputs.split(",") if i.strip()]
    header = f"{'policy':<12}{'input':>6}{'candidates':>11}{'µs/decision':>13}{'score µs':>10}"
    print(header + f"{'update µs':>11}{'state B':>9}{'build µs':>10}")
    for policy in all_policies():
        if wanted and policy.id not in wanted:
            continue
        for source in inputs:
            for n in sizes:
                cls = type(policy)
                fresh: Policy = cls(seed=args.seed)  # type: ignore[call-arg]
                m = measure(fresh, n, args.decisions, args.warmup, args.seed, source)
                build = f"{m['build']:>10.0f}" if source == "table" else f"{'—':>10}"
                print(
                    f"{policy.id:<12}{source:>6}{n:>11}{m['total']:>13.1f}{m['score']:>10.1f}"
                    f"{m['update']:>11.1f}{int(m['state_bytes']):>9}{build}"
                )


if __name__ == "__main__":
    main()
