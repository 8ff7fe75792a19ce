"""`oo sim --push`: personas answering notifications, three deciders compared.

Each simulated person lives `days` days in local time, in 15-minute steps. New tip candidates
arrive (tasks by day, written tips at any hour), the person opens the app by their rhythm (a
session shows them the best candidate and makes them active), and a decider may push one
candidate. Whether a push is noticed depends on the hour (the person's energy) and on their
annoyance; every unanswered push adds to the annoyance, a push in their quiet hours adds more,
the annoyance decays with time, and past `push.turn_off` they turn notifications off for good
(personas/README.md, "push"). Deciders:

- `fixed-9am` — one push a day at 9:00 local;
- `on-candidate` — a push whenever a new candidate exists;
- `learned` — ours: the notifier's hard rules, the learner's rest budget, the tip floor relative
  to the person's own recent tips (push_floor.py) and the push learner (push_policy.py), seeded
  with the peak and preferred hours the time-of-day agent infers and weighing each hour by the
  agent's hour profiles, counted from the person's own sessions (push_persona.py).
  Like the notifier, it pushes the recommender's pick and sees no hidden appeal.

Everything random derives from (seed, persona, user, decider-independent stream), so the
three deciders face the same people, candidates and sessions.
"""

from __future__ import annotations

import itertools
import math
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from backend.recommender import push_floor, push_policy, push_rules
from backend.simulation.personas import Persona
from backend.simulation.push_persona import (
    START,
    past_sessions,
    peak_hours,
    poisson,
    profiles,
    quiet_window,
)

DECIDERS = ("fixed-9am", "on-candidate", "learned")
STEP_MIN = 15
CANDIDATE_TTL_H = 12
PUSH_TTL_H = 4
"""A push not answered within 4 hours counts as ignored."""


@dataclass
class Candidate:
    """A tip candidate in the simulated pool."""

    id: int
    at: datetime
    appeal: float
    due_now: bool
    priority: float
    kind: str
    score: float
    """What the recommender would estimate: a noisy view of the appeal, −1..1."""
    pushed: bool = False


@dataclass
class Tally:
    """What one decider did to one persona's people."""

    pushes: int = 0
    reactions: int = 0
    turned_off: int = 0
    users: int = 0
    quiet_pushes: int = 0

    def add(self, other: Tally) -> None:
        """Sum another tally into this one."""
        self.pushes += other.pushes
        self.reactions += other.reactions
        self.turned_off += other.turned_off
        self.users += other.users
        self.quiet_pushes += other.quiet_pushes

    @property
    def per_push(self) -> float:
        """Reactions per push."""
        return self.reactions / self.pushes if self.pushes else 0.0

    @property
    def turn_off_rate(self) -> float:
        """Share of people who turned notifications off."""
        return self.turned_off / self.users if self.users else 0.0


@dataclass
class _World:
    """One simulated person's days: candidate arrivals and app sessions (decider-free)."""

    arrivals: list[Candidate]
    sessions: list[datetime]


def _world(persona: Persona, seed: int, user: int, days: int) -> _World:
    rng = random.Random(f"{seed}:{persona.id}:{user}:world")
    arrivals: list[Candidate] = []
    sessions: list[datetime] = []
    for day in range(days):
        midnight = START + timedelta(days=day)
        weekend = midnight.weekday() >= 5
        tasks = poisson(rng, persona.arrivals)
        for _ in range(tasks):
            at = midnight + timedelta(minutes=rng.randint(7 * 60, 22 * 60 - 1))
            arrivals.append(_candidate(rng, len(arrivals), at, "task"))
        for _ in range(poisson(rng, 1.0)):  # written tips: agents run at any hour
            at = midnight + timedelta(minutes=rng.randint(0, 24 * 60 - 1))
            arrivals.append(_candidate(rng, len(arrivals), at, "advice"))
        weights = persona.rhythm(weekend)
        per_day = persona.sessions_weekend if weekend else persona.sessions_weekday
        for _ in range(poisson(rng, per_day)):
            hour = rng.choices(range(24), weights=weights)[0]
            sessions.append(midnight + timedelta(hours=hour, minutes=rng.randint(0, 59)))
    arrivals.sort(key=lambda c: c.at)
    sessions.sort()
    return _World(arrivals, sessions)


def _candidate(rng: random.Random, cid: int, at: datetime, kind: str) -> Candidate:
    appeal = rng.gauss(0.0, 1.0)
    return Candidate(
        id=cid,
        at=at,
        appeal=appeal,
        score=math.tanh(0.6 * (appeal + rng.gauss(0.0, 0.5))),
        due_now=kind == "task" and rng.random() < 0.3,
        priority=rng.choice((0.0, 1 / 3, 2 / 3, 1.0)) if kind == "task" else 0.0,
        kind=kind,
    )


@dataclass
class _Learned:
    """Our decider's memory of one person: the model, its pushes and the outcomes it knows."""

    state: push_policy.PushState = field(default_factory=push_policy.PushState)
    pending: list[tuple[datetime, push_policy.PushContext, str]] = field(default_factory=list)
    unanswered: list[datetime] = field(default_factory=list)
    pushes: list[datetime] = field(default_factory=list)
    last_activity: datetime | None = None
    peaks: tuple[int, ...] = ()
    preferred: int | None = None
    profiles: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
    """The time-of-day agent's hour profiles of the person (weekdays, weekends), from the
    sessions so far."""
    seen: dict[int, tuple[datetime, float]] = field(default_factory=dict)
    """The scores of the person's current tips the decider saw, by candidate (last seen, score)."""


def _context(mem: _Learned, now: datetime, c: Candidate) -> push_policy.PushContext:
    return push_policy.PushContext(
        local_hour=now.hour,
        weekend=now.weekday() >= 5,
        unanswered_ages_h=tuple(
            (now - t).total_seconds() / 3600 for t in mem.unanswered if now - t < timedelta(days=3)
        ),
        hours_since_last_push=(now - mem.pushes[-1]).total_seconds() / 3600 if mem.pushes else None,
        due_now=c.due_now,
        priority=c.priority,
        kind=c.kind,
        score=c.score,
        peak_hours=mem.peaks,
        preferred_hour=mem.preferred,
        hour_profile=mem.profiles[now.weekday() >= 5],
    )


def _best(pool: list[Candidate]) -> Candidate | None:
    """The recommender's pick: by what the system can know (its score, due date, priority),
    never by the persona's hidden appeal — for the app's sessions and every decider alike."""
    fresh = [c for c in pool if not c.pushed]
    return max(fresh, key=lambda c: c.score + 0.5 * c.due_now + 0.3 * c.priority, default=None)


def simulate_person(persona: Persona, decider: str, seed: int, user: int, days: int) -> Tally:
    """Run one decider on one simulated person; their tally."""
    world = _world(persona, seed, user, days)
    habits = persona.push
    quiet = quiet_window(persona)
    rng = random.Random(f"{seed}:{persona.id}:{user}:{decider}")
    policy_rng = random.Random(f"{seed}:{persona.id}:{user}:policy")
    tally = Tally(users=1)
    pool: list[Candidate] = []
    weights = persona.rhythm_weekday
    mem = _Learned(
        peaks=peak_hours(persona), preferred=max(range(24), key=lambda h: (weights[h], -h))
    )
    activity = past_sessions(persona, seed, user)
    mem.profiles = profiles(activity)
    annoyance, last_step = 0.0, START
    arrivals, sessions = list(world.arrivals), list(world.sessions)
    steps = days * 24 * 60 // STEP_MIN
    for step in range(steps):
        now = START + timedelta(minutes=STEP_MIN * step)
        annoyance *= math.exp(-(now - last_step).total_seconds() / 3600 / habits.recovery_h)
        last_step = now
        new: list[Candidate] = []
        while arrivals and arrivals[0].at <= now:
            new.append(arrivals.pop(0))
        pool = [c for c in pool if now - c.at < timedelta(hours=CANDIDATE_TTL_H)] + new
        while sessions and sessions[0] <= now:
            at = sessions.pop(0)
            activity[at.weekday() >= 5][at.hour] += 1
            mem.profiles = profiles(activity)
            mem.last_activity = now
            shown = _best([c for c in pool if not c.pushed])
            if shown is not None:
                pool.remove(shown)  # seen and handled in the app
        for _due_at, ctx, outcome in [p for p in mem.pending if p[0] <= now]:
            mem.state = push_policy.update(mem.state, ctx, outcome)
        mem.pending = [p for p in mem.pending if p[0] > now]
        target = _decide(
            decider, mem, now, pool, new, quiet, policy_rng, f"{seed}:{persona.id}:{user}"
        )
        if target is None:
            continue
        target.pushed = True
        tally.pushes += 1
        hour_quiet = push_rules.in_quiet(now.hour, *quiet)
        tally.quiet_pushes += hour_quiet
        ctx = _context(mem, now, target)
        mem.pushes.append(now)
        energy = persona.energy(now.hour, now.weekday() >= 5)
        noticed = rng.random() < habits.notice * energy * math.exp(-habits.fatigue * annoyance)
        logit = habits.react + 0.8 * target.appeal + 0.5 * target.due_now + 0.3 * target.priority
        reacted = noticed and rng.random() < 1 / (1 + math.exp(-logit))
        if reacted:
            tally.reactions += 1
            pool.remove(target)
            mem.pending.append((now + timedelta(minutes=30), ctx, "reacted"))
            continue
        annoyance += 1.0 + (habits.quiet_annoyance if hour_quiet else 0.0)
        mem.unanswered.append(now)
        if annoyance >= habits.turn_off:
            tally.turned_off += 1
            mem.state = push_policy.update(mem.state, ctx, "turned_off")
            break  # notifications off: no decider reaches this person again
        outcome = "dismissed" if noticed else "ignored"
        delay = timedelta(minutes=30) if noticed else timedelta(hours=PUSH_TTL_H)
        mem.pending.append((now + delay, ctx, outcome))
    return tally


def _decide(
    decider: str,
    mem: _Learned,
    now: datetime,
    pool: list[Candidate],
    new: list[Candidate],
    quiet: tuple[int, int],
    rng: random.Random,
    person_key: str,
) -> Candidate | None:
    if decider == "fixed-9am":
        return _best(pool) if now.hour == 9 and now.minute == 0 else None
    if decider == "on-candidate":
        fresh = [c for c in new if not c.pushed and c in pool]
        return fresh[0] if fresh else None
    best = _best(pool)  # the recommender's pick, as the notifier pushes its current tip
    midnight = now.replace(hour=0, minute=0)
    rules = push_rules.RuleInput(
        now_local=now,
        quiet=quiet,
        pushes_today=sum(1 for t in mem.pushes if t >= midnight),
        last_push_local=mem.pushes[-1] if mem.pushes else None,
        last_activity_local=mem.last_activity,
        has_candidate=best is not None,
        kind=best.kind if best else "task",
    )
    if best is None or push_rules.hold_reason(rules) is not None:
        return None
    # As the notifier logs it: every decision past the rules sees (and remembers) the tip.
    window = timedelta(days=push_floor.WINDOW_DAYS)
    mem.seen = {k: v for k, v in mem.seen.items() if now - v[0] < window}
    mem.seen[best.id] = (now, best.score)
    if mem.pushes and now - mem.pushes[-1] < timedelta(hours=push_policy.rest_hours(mem.state)):
        return None  # the budget: a rest after pushes left unanswered
    if push_floor.judge(best.score, [score for _, score in mem.seen.values()]).holds:
        return None  # a weak tip for this person: it waits for the app
    allowed = push_rules.allowed_hours_ahead(now, quiet, push_policy.WAIT_HOURS)
    draw = random.Random(f"{person_key}:{now.date()}")  # one model draw per person and day
    # Nothing is logged here, so no propensity draws (they are 32 of every 33 model draws).
    choice = push_policy.choose(
        mem.state, _context(mem, now, best), draw, allowed, propensity_draws=0
    )
    return best if choice.push else None


def _persona_row(persona: Persona, seed: int, users: int, days: int) -> dict[str, Tally]:
    row = {d: Tally() for d in DECIDERS}
    for decider in DECIDERS:
        for user in range(users):
            row[decider].add(simulate_person(persona, decider, seed, user, days))
    return row


def compare(
    personas: tuple[Persona, ...], seed: int, users: int, days: int, *, processes: int = 1
) -> dict[str, dict[str, Tally]]:
    """persona id (and "overall") → decider → tally. Personas are independent, so they may run
    in `processes` worker processes; the figures do not depend on it."""
    if processes > 1 and len(personas) > 1:
        with ProcessPoolExecutor(max_workers=processes) as pool:
            rows = list(
                pool.map(
                    _persona_row,
                    personas,
                    *(itertools.repeat(x, len(personas)) for x in (seed, users, days)),
                )
            )
    else:
        rows = [_persona_row(p, seed, users, days) for p in personas]
    out: dict[str, dict[str, Tally]] = {}
    overall = {d: Tally() for d in DECIDERS}
    for persona, row in zip(personas, rows, strict=True):
        for decider in DECIDERS:
            overall[decider].add(row[decider])
        out[persona.id] = row
    out["overall"] = overall
    return out


def table(results: dict[str, dict[str, Tally]]) -> str:
    """The comparison as a fixed-width table."""
    head = (
        f"{'persona':<16} {'decider':<13} {'pushes':>7} {'reactions':>9} {'per push':>8} "
        f"{'turn-off':>8} {'quiet':>6}"
    )
    lines = [head, "-" * len(head)]
    for persona, row in results.items():
        for decider, t in row.items():
            lines.append(
                f"{persona:<16} {decider:<13} {t.pushes:>7} {t.reactions:>9} {t.per_push:>8.3f} "
                f"{t.turn_off_rate:>8.1%} {t.quiet_pushes:>6}"
            )
    return "\n".join(lines)


def verdict(overall: dict[str, Tally]) -> str:
    """The targets of the learned decider against the fixed daily push, one line each."""
    fixed, ours = overall["fixed-9am"], overall["learned"]
    ratio = ours.per_push / fixed.per_push if fixed.per_push else float("inf")
    checks = [
        (f"reactions per push {ratio:.2f}x the fixed daily push (target >= 2x)", ratio >= 2),
        (
            f"total reactions {ours.reactions} vs {fixed.reactions} (target >=)",
            ours.reactions >= fixed.reactions,
        ),
        (
            f"turn-off rate {ours.turn_off_rate:.1%} vs {fixed.turn_off_rate:.1%} (target <= half)",
            ours.turn_off_rate <= fixed.turn_off_rate / 2,
        ),
        (f"pushes in quiet hours {ours.quiet_pushes} (target 0)", ours.quiet_pushes == 0),
    ]
    return "\n".join(f"{'met   ' if ok else 'MISSED'} {text}" for text, ok in checks)
