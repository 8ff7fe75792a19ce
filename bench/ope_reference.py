"""Cross-check of the off-policy estimators against an independent reference implementation.

Run:  python bench/ope_reference.py [--decisions 3000] [--seed 0]

Open Bandit Pipeline (obp) does not install on Python 3.11 beside our pins, so this script holds
a small implementation written from the papers' formulas — straight Python loops over decisions,
no numpy and no code shared with backend/simulation/ope.py:

  IPS        (1/n) Σ wᵢ rᵢ                                 Horvitz & Thompson 1952
  SNIPS      Σ wᵢ rᵢ / Σ wᵢ                                 Swaminathan & Joachims 2015
  DR         (1/n) Σ [Σₐ πᵢ(a) q̂(xᵢ,a) + wᵢ (rᵢ − q̂(xᵢ,aᵢ))]  Dudík, Langford & Li 2011
  switch-DR  the residual term only where wᵢ ≤ τ               Wang, Agarwal & Dudík 2017
  clipped-DR the residual term with min(wᵢ, τ)                 Su et al. 2020 (DR with shrinkage)

q̂ is a cross-fitted ridge regression (population + shrunk per-person deviation, Chernozhukov et
al. 2018 cross-fitting over k folds), solved here by Gauss–Jordan elimination. 95 % intervals
are V̂ ± 1.96 · sd(φ)/√n over the influence terms φᵢ.

It simulates one random-logged run, replays every policy over it (the log and the replay are the
data both sides read), estimates with both implementations and prints, per estimator, the
largest absolute difference over the policies of the value and of the interval bounds.
"""

from __future__ import annotations

import argparse
import math
from statistics import NormalDist

Matrix = list[list[float]]

FOLDS = 5
RIDGE = 1.0
PERSONAL = 10.0
TAU = 10.0


def solve(A: Matrix, b: list[float]) -> list[float]:
    """x with A x = b (Gauss–Jordan with partial pivoting; A is small and well-conditioned)."""
    n = len(b)
    M = [[*row[:], b[i]] for i, row in enumerate(A)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(M[r][col]))
        M[col], M[pivot] = M[pivot], M[col]
        p = M[col][col]
        M[col] = [v / p for v in M[col]]
        for r in range(n):
            if r != col and M[r][col] != 0.0:
                f = M[r][col]
                M[r] = [a - f * c for a, c in zip(M[r], M[col], strict=True)]
    return [M[i][n] for i in range(n)]


def ridge(rows: list[list[float]], ys: list[float], lam: float) -> list[float]:
    """argmin Σ (y − x·β)² + λ|β|²."""
    d = len(rows[0]) if rows else 0
    A = [[lam if i == j else 0.0 for j in range(d)] for i in range(d)]
    b = [0.0] * d
    for x, y in zip(rows, ys, strict=True):
        for i in range(d):
            xi = x[i]
            if xi == 0.0:
                continue
            b[i] += xi * y
            Ai = A[i]
            for j in range(d):
                Ai[j] += xi * x[j]
    return solve(A, b)


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def reward_model(
    served: list[list[float]], rewards: list[float], users: list[str]
) -> tuple[list[int], dict[tuple[int, str], list[float]]]:
    """Folds (k-th decision of a person → fold k mod FOLDS) and each (fold, person)'s weights."""
    seen: dict[str, int] = {}
    folds = []
    for u in users:
        folds.append(seen.get(u, 0) % FOLDS)
        seen[u] = seen.get(u, 0) + 1
    models: dict[tuple[int, str], list[float]] = {}
    for k in sorted(set(folds)):
        train = [i for i in range(len(rewards)) if folds[i] != k]
        population = ridge([served[i] for i in train], [rewards[i] for i in train], RIDGE)
        for u in sorted(set(users)):
            mine = [i for i in train if users[i] == u]
            resid = [rewards[i] - dot(served[i], population) for i in mine]
            personal = ridge([served[i] for i in mine], resid, PERSONAL) if mine else None
            models[(k, u)] = [
                p + (personal[j] if personal else 0.0) for j, p in enumerate(population)
            ]
    return folds, models


def interval(phi: list[float]) -> tuple[float, float, float]:
    n = len(phi)
    mean = sum(phi) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in phi) / (n - 1))
    half = NormalDist().inv_cdf(0.975) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def reference(
    X: list[Matrix],
    chosen: list[int],
    propensity: list[float],
    rewards: list[float],
    users: list[str],
    probs: list[list[float]],
    folds: list[int],
    models: dict[tuple[int, str], list[float]],
) -> dict[str, tuple[float, float, float]]:
    """Every estimator's (value, low, high) for one target's pick distributions."""
    terms: dict[str, list[float]] = {k: [] for k in ("ips", "dr", "switch-dr", "clipped-dr")}
    ws: list[float] = []
    for i, x in enumerate(X):
        beta = models[(folds[i], users[i])]
        q = [dot(row, beta) for row in x]
        a = chosen[i]
        w = probs[i][a] / propensity[i]
        direct = sum(p * qa for p, qa in zip(probs[i], q, strict=True))
        residual = rewards[i] - q[a]
        ws.append(w)
        terms["ips"].append(w * rewards[i])
        terms["dr"].append(direct + w * residual)
        terms["switch-dr"].append(direct + (w * residual if w <= TAU else 0.0))
        terms["clipped-dr"].append(direct + min(w, TAU) * residual)
    out = {k: interval(v) for k, v in terms.items()}
    total = sum(ws)
    snips = sum(w * r for w, r in zip(ws, rewards, strict=True)) / total
    mean_w = total / len(ws)
    out["snips"] = interval(
        [snips + w * (r - snips) / mean_w for w, r in zip(ws, rewards, strict=True)]
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    # The data both implementations read: a simulated random log and every policy's replay.
    from backend.simulation.ope import design, estimate
    from backend.simulation.personas import select_personas
    from backend.simulation.replay import ORACLE_ID, ope_input, prepare, replay
    from backend.simulation.runner import DEFAULT_POLICIES, SimConfig, simulate
    from backend.simulation.validation import REPORTED

    per_person = args.decisions // len(select_personas(())) + 1
    config = SimConfig(policies=("random",), seed=args.seed, decisions=per_person, events="none")
    log = simulate(config, keep_log=True).log[: args.decisions]
    X = [design(d.rows).tolist() for d in log]
    chosen = [d.chosen for d in log]
    rewards = [float(d.reward) for d in log]
    users = [str(d.user) for d in log]
    served = [x[c] for x, c in zip(X, chosen, strict=True)]
    folds, models = reward_model(served, rewards, users)
    prepared = prepare(log)
    print(f"{len(log)} decisions logged under random (seed {args.seed})")
    worst = dict.fromkeys(REPORTED, 0.0)
    for pid in (*DEFAULT_POLICIES, ORACLE_ID):
        probs = replay(pid, log, seed=args.seed)
        ours = estimate(ope_input(prepared, probs), names=REPORTED)
        ref = reference(
            X,
            chosen,
            [d.propensity for d in log],
            rewards,
            users,
            [p.tolist() for p in probs],
            folds,
            models,
        )
        for k in REPORTED:
            e = ours[k]
            diff = max(abs(e.value - ref[k][0]), abs(e.low - ref[k][1]), abs(e.high - ref[k][2]))
            worst[k] = max(worst[k], diff)
        print(
            f"  {pid:<12} "
            + "  ".join(f"{k} {ours[k].value:+.4f}/{ref[k][0]:+.4f}" for k in REPORTED)
        )
    print("max |ours − reference| over policies (value and interval bounds):")
    for k in REPORTED:
        print(f"  {k.upper():<11} {worst[k]:.2e}")


if __name__ == "__main__":
    main()
