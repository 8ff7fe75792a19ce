"""The push learner: a per-person contextual bandit over {push, hold} with logged propensities.

P(the person reacts to a push | context) is an online Bayesian logistic regression with a
diagonal Gaussian posterior (Chapelle & Li 2011), sampled for Thompson sampling. Fatigue is a
feature, as in the recovering bandit of Yancey & Settles (KDD 2020, Duolingo): each unanswered
push adds to a load that decays with time, so a person's response falls with recent unanswered
pushes and recovers while we leave them alone. The person's good hours are learned from
outcomes, seeded by the time-of-day agent's peak hours and weighed by its hourly activity
profile; the value of pushing now is compared with the best later hour (a hold "for a better
hour" names it). A push must also clear a
per-person threshold that moves with outcomes, and a person who leaves pushes unanswered
earns a longer rest before the next one (the budget adapts). Pure functions and plain data:
the notifier's decider and the simulator (`oo sim --push`) run the same code.
See docs/adr/0023-push-decider.md, docs/adr/0033-push-decider-v2.md and
docs/adr/0040-relative-tip-floor.md.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Any

POLICY_ID = "push-ts-v4"
BUCKETS = 6
"""Hours are learned in 4-hour buckets of the person's local day, plus the peak-hour flag."""
FEATURES = (
    "bias",
    *(f"hour_{4 * b:02d}" for b in range(BUCKETS)),
    "peak",
    "preferred",
    "weekend",
    "fatigue",
    "recovered",
    "due_now",
    "priority",
    "is_task",
    "score",
    "activity",
)
V1_FEATURES = tuple(f for f in FEATURES if f not in ("peak", "preferred"))
"""The feature order of states stored before the peak-hour flag (read, then re-mapped)."""
FATIGUE_TAU_H = 48.0
"""An unanswered push weighs e^(−age/48 h) on the person's fatigue."""
RECOVERY_TAU_H = 36.0
"""`recovered` = 1 − e^(−hours since the last push / 36 h): the arm's value recovers with rest."""
PRIOR_VAR = 0.1
ACTIVITY_PRIOR = 1.5
"""The prior weight of log(activity at this hour): a person twice as active at one hour as at
another notices a push there about 2^1.5 times as readily (the odds, as the agent counts them)."""
ACTIVITY_FLOOR = 0.05
PRIOR_VAR_OF = {"bias": 1.0}
"""The base rate is the least known and is learned fastest."""
PRIOR_MEAN = {
    "bias": -2.2,
    "peak": 0.5,
    "preferred": 0.5,
    "fatigue": -1.2,
    "recovered": 1.0,
    "due_now": 0.3,
    "priority": 0.3,
    "score": 2.0,
    "activity": ACTIVITY_PRIOR,
}
THRESHOLD_START = 0.35
THRESHOLD_RANGE = (0.1, 0.9)
THRESHOLD_STEP = {"reacted": -0.02, "ignored": 0.05, "dismissed": 0.06, "turned_off": 0.3}
"""How an outcome moves the person's threshold: it settles where five reactions balance two
misses, and one turn-off costs as much as fifteen reactions earn."""
REST_H = 12.0
REST_GROWTH = 3.0
REST_MAX_H = 240.0
"""The budget: after n pushes in a row without a reaction, the next waits
REST_H × REST_GROWTH^(n−1) hours (at most REST_MAX_H) — someone who never reacts gets fewer
and fewer pushes."""
REACTED = frozenset({"reacted", "opened"})
OUTCOMES = frozenset({*REACTED, "ignored", "dismissed", "turned_off"})
WAIT_HOURS = 24
WAIT_DISCOUNT = 0.95
WAIT_DISCOUNT_DUE = 0.8
"""A later push is worth less (the tip may be stale, more so a task due now)."""
EXPLORATION = 0.1
"""Thompson draws take a tenth of the posterior's spread: a push is an interruption, so the
learner explores less boldly than plain Thompson sampling (the propensity uses the same
tempered draws, so it stays exact)."""
PROPENSITY_DRAWS = 32
PROPENSITY_FLOOR = 0.01


@dataclass(frozen=True)
class PushContext:
    """What the learner sees at one moment for one candidate."""

    local_hour: int
    weekend: bool
    unanswered_ages_h: tuple[float, ...] = ()
    """Ages in hours of the recent pushes that got no reaction."""
    hours_since_last_push: float | None = None
    due_now: bool = False
    priority: float = 0.0
    """0..1 (Todoist 1..4 scaled); 0 for written tips."""
    kind: str = "task"
    score: float = 0.0
    """The recommender's own score of the tip, clipped to −1..1: how good a pick it is."""
    peak_hours: tuple[int, ...] = ()
    """The time-of-day agent's peak hours of the person (local hours)."""
    preferred_hour: int | None = None
    """The time-of-day agent's busiest hour of the person."""
    hour_profile: tuple[float, ...] = ()
    """The time-of-day agent's activity per local hour (for this kind of day), relative to the
    person's busiest hour: 0..1, 24 values; empty when not known."""

    def later(self, hours: int) -> PushContext:
        """The same situation `hours` from now, with no push in between."""
        return replace(
            self,
            local_hour=(self.local_hour + hours) % 24,
            unanswered_ages_h=tuple(a + hours for a in self.unanswered_ages_h),
            hours_since_last_push=(
                None if self.hours_since_last_push is None else self.hours_since_last_push + hours
            ),
        )


def fatigue(unanswered_ages_h: tuple[float, ...]) -> float:
    """Decayed load of unanswered pushes (0 when rested)."""
    return sum(math.exp(-max(0.0, a) / FATIGUE_TAU_H) for a in unanswered_ages_h)


def recovered(hours_since_last_push: float | None) -> float:
    """0 right after a push, → 1 with rest (1 when never pushed)."""
    if hours_since_last_push is None:
        return 1.0
    return 1.0 - math.exp(-max(0.0, hours_since_last_push) / RECOVERY_TAU_H)


def features(ctx: PushContext) -> list[float]:
    """The feature vector, in FEATURES order."""
    buckets = [0.0] * BUCKETS
    buckets[(ctx.local_hour % 24) // 4] = 1.0
    return [
        1.0,
        *buckets,
        1.0 if ctx.local_hour % 24 in ctx.peak_hours else 0.0,
        1.0 if ctx.local_hour % 24 == ctx.preferred_hour else 0.0,
        1.0 if ctx.weekend else 0.0,
        min(3.0, fatigue(ctx.unanswered_ages_h)),
        recovered(ctx.hours_since_last_push),
        1.0 if ctx.due_now else 0.0,
        max(0.0, min(1.0, ctx.priority)),
        1.0 if ctx.kind == "task" else 0.0,
        max(-1.0, min(1.0, ctx.score)),
        activity(ctx.hour_profile, ctx.local_hour),
    ]


def activity(profile: tuple[float, ...], hour: int) -> float:
    """log of the person's activity at this hour relative to their busiest (0 when unknown)."""
    if len(profile) != 24:
        return 0.0
    return math.log(max(ACTIVITY_FLOOR, min(1.0, profile[hour % 24])))


def _sigmoid(z: float) -> float:
    if z < -30:
        return 0.0
    if z > 30:
        return 1.0
    return 1.0 / (1.0 + math.exp(-z))


def _prior_mean() -> list[float]:
    return [PRIOR_MEAN.get(f, 0.0) for f in FEATURES]


def _prior_precision() -> list[float]:
    return [1.0 / PRIOR_VAR_OF.get(f, PRIOR_VAR) for f in FEATURES]


@dataclass
class PushState:
    """A person's learned push model: posterior means/precisions, threshold, and the pushes in
    a row without a reaction (JSON-able)."""

    mean: list[float] = field(default_factory=_prior_mean)
    precision: list[float] = field(default_factory=_prior_precision)
    threshold: float = THRESHOLD_START
    outcomes: dict[str, int] = field(default_factory=dict)
    misses: int = 0

    def as_json(self) -> dict[str, Any]:
        """For the database."""
        return {
            "v": 2,
            "features": list(FEATURES),
            "mean": self.mean,
            "precision": self.precision,
            "threshold": self.threshold,
            "outcomes": self.outcomes,
            "misses": self.misses,
        }

    @classmethod
    def from_json(cls, raw: object) -> PushState:
        """From the database; a fresh state when missing or of another shape. A state stored
        before a feature existed keeps what it learned and takes the prior for the new one."""
        if not isinstance(raw, dict) or raw.get("v") not in (1, 2):
            return cls()
        names = raw.get("features") if raw.get("v") == 2 else list(V1_FEATURES)
        mean, precision = raw.get("mean"), raw.get("precision")
        if not (isinstance(mean, list) and isinstance(precision, list) and isinstance(names, list)):
            return cls()
        if not len(mean) == len(precision) == len(names):
            return cls()
        stored = {
            str(n): (float(m), float(q)) for n, m, q in zip(names, mean, precision, strict=True)
        }
        prior = dict(
            zip(FEATURES, zip(_prior_mean(), _prior_precision(), strict=True), strict=True)
        )
        merged = [stored.get(f, prior[f]) for f in FEATURES]
        outcomes = raw.get("outcomes")
        misses = raw.get("misses", 0)
        return cls(
            mean=[m for m, _ in merged],
            precision=[max(1e-6, q) for _, q in merged],
            threshold=float(raw.get("threshold", THRESHOLD_START)),
            outcomes=dict(outcomes) if isinstance(outcomes, dict) else {},
            misses=int(misses) if isinstance(misses, int) else 0,
        )


def predict(state: PushState, ctx: PushContext, weights: list[float] | None = None) -> float:
    """P(react | push now in ctx) under the posterior mean (or the given sampled weights)."""
    w = state.mean if weights is None else weights
    return _sigmoid(sum(wi * xi for wi, xi in zip(w, features(ctx), strict=True)))


def sample_weights(state: PushState, rng: random.Random) -> list[float]:
    """One Thompson draw from the posterior (its spread scaled by EXPLORATION)."""
    return [
        rng.gauss(m, EXPLORATION / math.sqrt(q))
        for m, q in zip(state.mean, state.precision, strict=True)
    ]


def rest_hours(state: PushState) -> float:
    """How long the person must be left alone after the last push (the adaptive budget)."""
    if state.misses <= 0:
        return 0.0
    return min(REST_MAX_H, REST_H * REST_GROWTH ** (state.misses - 1))


def best_later(
    state: PushState,
    ctx: PushContext,
    allowed: list[bool] | None = None,
    weights: list[float] | None = None,
) -> tuple[float, int]:
    """(the best discounted chance of a reaction if we wait 1..WAIT_HOURS hours, that many
    hours; 0 when no later hour is allowed). `allowed[h-1]` False skips an hour the hard rules
    would forbid (quiet hours)."""
    discount = WAIT_DISCOUNT_DUE if ctx.due_now else WAIT_DISCOUNT
    best, when = 0.0, 0
    for h in range(1, WAIT_HOURS + 1):
        if allowed is not None and not allowed[h - 1]:
            continue
        value = discount * predict(state, ctx.later(h), weights)
        if value > best:
            best, when = value, h
    return best, when


def wait_value(
    state: PushState,
    ctx: PushContext,
    allowed: list[bool] | None = None,
    weights: list[float] | None = None,
) -> float:
    """The best discounted chance of a reaction if we wait 1..WAIT_HOURS hours instead."""
    return best_later(state, ctx, allowed, weights)[0]


@dataclass(frozen=True)
class Choice:
    """The learner's answer: push or hold, why, and the propensity of that answer."""

    push: bool
    value_now: float
    value_wait: float
    threshold: float
    propensity: float
    reason: str
    wait_hours: int = 0
    """For a hold "for a better hour": how many hours from now that hour is."""


def _decide(
    state: PushState, ctx: PushContext, w: list[float], allowed: list[bool] | None
) -> tuple[bool, float, float, int]:
    now = predict(state, ctx, w)
    wait, when = best_later(state, ctx, allowed, w)
    return now >= state.threshold and now >= wait, now, wait, when


def choose(
    state: PushState,
    ctx: PushContext,
    draw: random.Random,
    allowed_later: list[bool] | None = None,
    *,
    propensity_rng: random.Random | None = None,
    propensity_draws: int = PROPENSITY_DRAWS,
) -> Choice:
    """Thompson sampling over {push, hold}: with one draw of the model, push when the chance
    of a reaction now clears the person's threshold and beats every later hour (discounted).

    `draw` should be seeded per person and day: the model is sampled once a day, not at every
    15-minute check — independent draws at each check would push as soon as one of ~96 daily
    draws is optimistic. The propensity is the share of fresh posterior draws that make the
    same choice here (floored, so off-policy estimators never divide by 0); a caller that logs
    nothing (the simulator) may pass `propensity_draws=0` and gets propensity 1."""
    push, now, wait, when = _decide(state, ctx, sample_weights(state, draw), allowed_later)
    propensity = 1.0
    if propensity_draws > 0:
        rng = propensity_rng or random.Random(f"{draw.random()}")
        same = sum(
            _decide(state, ctx, sample_weights(state, rng), allowed_later)[0] == push
            for _ in range(propensity_draws)
        )
        propensity = max(PROPENSITY_FLOOR, min(1.0 - PROPENSITY_FLOOR, same / propensity_draws))
    if push:
        reason = "value"
    elif wait > now and wait >= state.threshold:
        reason = "better_hour"  # a later hour is expected to be worth the push: wait for it
    else:
        reason = "below_threshold"
    return Choice(
        push, now, wait, state.threshold, propensity, reason, when if reason == "better_hour" else 0
    )


def update(state: PushState, ctx: PushContext, outcome: str) -> PushState:
    """Learn from one push's outcome: the posterior (reacted = 1, anything else = 0), the
    threshold and the misses in a row. Returns a new state; unknown outcomes change nothing."""
    if outcome not in OUTCOMES:
        return state
    x = features(ctx)
    y = 1.0 if outcome in REACTED else 0.0
    p = predict(state, ctx)
    precision = [q + p * (1 - p) * xi * xi for q, xi in zip(state.precision, x, strict=True)]
    mean = [m + (y - p) * xi / q for m, xi, q in zip(state.mean, x, precision, strict=True)]
    step = THRESHOLD_STEP["reacted" if outcome in REACTED else outcome]
    low, high = THRESHOLD_RANGE
    counts = dict(state.outcomes)
    counts[outcome] = counts.get(outcome, 0) + 1
    return PushState(
        mean=mean,
        precision=precision,
        threshold=max(low, min(high, state.threshold + step)),
        outcomes=counts,
        misses=0 if outcome in REACTED else state.misses + 1,
    )
