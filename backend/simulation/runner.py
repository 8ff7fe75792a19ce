"""The simulator's loop: simulated people, each policy in turn, one decision at a time.

Pure (no database, no Redis): a config and a seed in, arrays of rewards out, so the CLI, the arq
job, the OPE validation and the benchmark all run exactly the same thing. Each policy (and the
oracle) meets the same people on the same days (world.py); the policies run exactly as the
service runs them: features from `candidate_features` over the person's decision log, one policy
object for everyone, per-user state, learning from every reaction, and — for pooled policies —
a population model refreshed from everyone's rewards every `pool_every` decisions, as the
worker's job does.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np

from backend.integrations.taskgen import estimated_minutes
from backend.recommender.feature_table import FeatureTable
from backend.recommender.features import Context, candidate_features, with_habits
from backend.recommender.history import UserHistory
from backend.recommender.policies import PooledPolicy, UserState, get_policy
from backend.simulation.judges import Moment, Oracle, RuleJudge, Situation, make_judge, moment
from backend.simulation.personas import Persona, select_personas
from backend.simulation.replay import LoggedDecision, fresh_policy, policy_seed
from backend.simulation.world import ARRIVAL_DAYS, SimTask, World, stream

DEFAULT_POLICIES = ("random", "egreedy-v1", "linucb-v1", "lints-v1", "oo-v1")
ORACLE_ID = Oracle.id
_STREAM_JUDGE = 4
ACTIONS = ("done", "snooze", "dismiss")


@dataclass(frozen=True)
class SimConfig:
    """What to simulate. Everything random derives from `seed`: same config, same numbers."""

    policies: tuple[str, ...] = DEFAULT_POLICIES
    personas: tuple[str, ...] = ()
    """Persona ids; empty means the whole `persona_set`."""
    persona_set: str = "standard"
    """Which persona set (personas.PERSONA_SETS) an empty `personas` means."""
    seed: int = 0
    seeds: int = 1
    """Independent repetitions (seeds `seed`, `seed + 1`, …), each with its own people."""
    users_per_persona: int = 1
    decisions: int = 200
    """Decisions per simulated user."""
    judge: str = "rule"
    pool_every: int = 100
    """Decisions (over all users) between two refreshes of pooled policies' population model."""
    events: str = "sample"
    """Per-decision events to keep: all, sample (at most `event_limit`), or none."""
    event_limit: int = 20_000

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form (stored with the run)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SimConfig:
        """From `as_dict` (unknown keys are ignored)."""
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        for key in ("policies", "personas"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)

    def validate(self) -> None:
        """Raise ValueError naming the first thing that cannot run."""
        for pid in self.policies:
            if pid != ORACLE_ID:
                try:
                    get_policy(pid)
                except KeyError:
                    raise ValueError(f"unknown policy {pid!r}") from None
        try:
            select_personas(self.personas, self.persona_set)
        except KeyError as err:
            raise ValueError(f"unknown persona {err.args[0]!r}") from None
        make_judge(self.judge)
        if not (1 <= self.decisions <= 100_000 and 1 <= self.seeds <= 100):
            raise ValueError("decisions must be 1..100000 and seeds 1..100")
        if not 1 <= self.users_per_persona <= 1000:
            raise ValueError("users_per_persona must be 1..1000")
        if self.events not in ("all", "sample", "none"):
            raise ValueError("events must be all, sample or none")


@dataclass(frozen=True)
class SimUser:
    """One simulated person of a run."""

    index: int
    persona: Persona
    seed: int
    key: int
    """Stable per (persona, k): the same person whatever other personas the run includes."""


@dataclass
class PolicyRun:
    """What one policy did: per user × step arrays (NaN where a user made fewer decisions)."""

    policy_id: str
    reward: np.ndarray
    expected: np.ndarray
    best: np.ndarray
    action: np.ndarray
    """0 done, 1 snooze, 2 dismiss, −1 none."""
    greedy: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    """Expected reward of the policy's own best guess (its highest score) at each decision: the
    regret splits into best − greedy (the model's) and greedy − expected (exploring's). NaN
    where the scores single out no candidate (the random policy's are all equal)."""
    seconds: float = 0.0
    """Seconds spent in the policy's score + update (what the benchmark compares)."""


@dataclass(frozen=True)
class Progress:
    """How far a run is."""

    policy_id: str
    done: int
    total: int
    mean_reward: float | None


@dataclass
class RunResult:
    """A finished simulation."""

    config: SimConfig
    users: list[SimUser]
    runs: dict[str, PolicyRun]
    events: list[dict[str, Any]] = field(default_factory=list)
    log: list[LoggedDecision] = field(default_factory=list)
    overdue_start: float = 0.0
    """Share of simulated people with at least one overdue task on day one."""


def _greedy_expected(scores: Sequence[float], mu: np.ndarray) -> float:
    """The true expected reward of the highest-scored candidate (NaN when all scores tie)."""
    if len(scores) != len(mu) or not len(scores):
        return math.nan
    values = np.asarray(scores, dtype=float)
    if values.max() == values.min() and len(values) > 1:
        return math.nan
    return float(mu[int(np.argmax(values))])


def policy_order(config: SimConfig) -> list[str]:
    """The oracle first, then each policy once, in the order given."""
    return list(dict.fromkeys([ORACLE_ID, *config.policies]))


def make_users(config: SimConfig) -> list[SimUser]:
    """The run's people: personas × seeds × users_per_persona."""
    users: list[SimUser] = []
    for s in range(config.seeds):
        for persona in select_personas(config.personas, config.persona_set):
            for k in range(config.users_per_persona):
                key = (zlib.crc32(persona.id.encode()) % 100_000) * 1000 + k
                users.append(SimUser(len(users), persona, config.seed + s, key))
    return users


def situation(world: World, m: Moment, task: SimTask, now: datetime) -> Situation:
    """The judge's view of serving `task` now."""
    return Situation(
        moment=m,
        project=task.project,
        content=task.content,
        priority=task.priority,
        days_to_due=(task.due - m.local.date()).days if task.due is not None else None,
        age_days=(now - task.added_at).total_seconds() / 86400,
        recurring=task.recur_days > 0,
        exposure=world.exposure(task, now) if task.pushes else 0.0,
        duration_min=estimated_minutes(task.content),
    )


def _next_open(world: World) -> tuple[Any, list[SimTask]] | None:
    """The next moment with something to serve (None: this person ran out of days)."""
    while True:
        at = world.next_time()
        if world.day_of(at) > ARRIVAL_DAYS:
            return None
        now = at.astimezone(UTC)
        world.advance(now)
        tasks = world.open_tasks(now)
        if tasks:
            return now, tasks


class _Runner:
    def __init__(
        self,
        config: SimConfig,
        users: list[SimUser],
        on_progress: Callable[[Progress], None] | None,
        keep_log: bool,
    ) -> None:
        self.config = config
        self.users = users
        self.on_progress = on_progress
        self.keep_log = keep_log
        self.rule = RuleJudge()
        self.judge = make_judge(config.judge)
        self.events: list[dict[str, Any]] = []
        self.log: list[LoggedDecision] = []
        total = len(users) * config.decisions * len(policy_order(config))
        self.stride = 1
        if config.events == "sample":
            self.stride = max(1, -(-total // max(config.event_limit, 1)))
        self.done = 0
        self.total = total

    def run_policy(self, policy_id: str) -> PolicyRun:
        cfg, users = self.config, self.users
        shape = (len(users), cfg.decisions)
        out = PolicyRun(
            policy_id,
            np.full(shape, np.nan),
            np.full(shape, np.nan),
            np.full(shape, np.nan),
            np.full(shape, -1, dtype=np.int8),
            np.full(shape, np.nan),
        )
        seed = policy_seed(cfg.seed, policy_id)
        policy = None if policy_id == ORACLE_ID else fresh_policy(policy_id, seed)
        pooled_policy = policy if isinstance(policy, PooledPolicy) else None
        pooled = pooled_policy.pooled_initial() if pooled_policy else None
        pool_rows: list[tuple[dict[str, float], float]] = []
        worlds = [World(u.persona, u.seed, u.key) for u in users]
        states: list[UserState] = [policy.initial_state() if policy else {} for _ in users]
        alive = [True] * len(users)
        oracle = Oracle()
        for step in range(cfg.decisions):
            for i, (user, world) in enumerate(zip(users, worlds, strict=True)):
                if not alive[i]:
                    continue
                found = _next_open(world)
                if found is None:
                    alive[i] = False
                    continue
                now, tasks = found
                cands = [t.candidate() for t in tasks]
                m = moment(user.persona, now.astimezone(world.tz))
                sits = [situation(world, m, t, now) for t in tasks]
                mu = np.array([self.rule.expected(s) for s in sits])
                if policy is None:
                    decision = oracle.choose(mu)
                    raw: dict[str, dict[str, float]] = {}
                else:
                    base = Context(
                        now=now,
                        timezone=user.persona.timezone,
                        history=UserHistory.from_rows(
                            world.history_rows(now), user.persona.timezone
                        ),
                        priors={policy.id: pooled} if pooled is not None else {},
                    )
                    base = with_habits(base, world.habits(now), cands)
                    raw = {c.item_ref: candidate_features(c, base) for c in cands}
                    started = time.perf_counter()  # the table is the policy's input cost
                    context = Context(
                        now=now,
                        timezone=base.timezone,
                        features=raw,
                        table=FeatureTable.build(cands, raw),
                        priors=base.priors,
                    )
                    decision = policy.score(states[i], context, cands)
                    out.seconds += time.perf_counter() - started
                g = stream(user.seed, user.key, _STREAM_JUDGE, step)
                u_action, z_dwell = float(g.random()), float(g.standard_normal())
                chosen = tasks[decision.choice]
                reaction = self.judge.react(sits[decision.choice], u_action, z_dwell)
                if policy is not None:
                    started = time.perf_counter()
                    states[i] = policy.update(
                        states[i], context, cands[decision.choice], reaction.reward
                    )
                    out.seconds += time.perf_counter() - started
                    if pooled_policy is not None:
                        pool_rows.append((raw[chosen.ref], reaction.reward))
                if self.keep_log and policy is not None:
                    self._log(i, now, cands, raw, decision, reaction.reward, mu)
                world.apply(chosen, reaction.action, now, reaction.dwell_ms)
                out.reward[i, step] = reaction.reward
                out.expected[i, step] = mu[decision.choice]
                out.best[i, step] = mu.max()
                out.greedy[i, step] = _greedy_expected(decision.scores, mu)
                out.action[i, step] = ACTIONS.index(reaction.action)
                if cfg.events != "none" and step % self.stride == 0:
                    self.events.append(
                        {
                            "policy_id": policy_id,
                            "persona": user.persona.id,
                            "person": i,
                            "step": step,
                            "at": now,
                            "item_ref": chosen.ref,
                            "project": chosen.project,
                            "action": reaction.action,
                            "dwell_ms": reaction.dwell_ms,
                            "reward": reaction.reward,
                            "expected_reward": float(mu[decision.choice]),
                            "best_expected": float(mu.max()),
                            "propensity": float(decision.propensity),
                            "candidate_count": len(tasks),
                        }
                    )
                if pooled_policy is not None and len(pool_rows) >= cfg.pool_every:
                    pooled = pooled_policy.pooled_update(cast(UserState, pooled), pool_rows)
                    pool_rows = []
            self._progress(policy_id, len(users), out)
        return out

    def _log(
        self,
        user: int,
        now: Any,
        cands: Sequence[Any],
        raw: dict[str, dict[str, float]],
        decision: Any,
        reward: float,
        mu: np.ndarray,
    ) -> None:
        refs = [c.item_ref for c in cands]
        keys = tuple(sorted(raw[refs[0]]))
        values = np.array([[raw[r][k] for k in keys] for r in refs])
        self.log.append(
            LoggedDecision(
                user=str(user),
                at=now,
                refs=refs,
                keys=keys,
                values=values,
                chosen=decision.choice,
                propensity=decision.propensity,
                reward=reward,
                expected=mu,
            )
        )

    def _progress(self, policy_id: str, users: int, out: PolicyRun) -> None:
        before = self.done * 100 // self.total
        self.done += users
        if self.on_progress is not None and self.done * 100 // self.total > before:
            rewards = out.reward[~np.isnan(out.reward)]
            mean = float(rewards.mean()) if rewards.size else None
            self.on_progress(Progress(policy_id, self.done, self.total, mean))


def simulate(
    config: SimConfig,
    on_progress: Callable[[Progress], None] | None = None,
    keep_log: bool = False,
) -> RunResult:
    """Run every policy of `config` (and the oracle first) on the same simulated people.

    `on_progress` is called about once per percent; `keep_log` keeps every non-oracle decision
    with its candidates' features and expected rewards (for off-policy evaluation).
    """
    config.validate()
    users = make_users(config)
    runner = _Runner(config, users, on_progress, keep_log)
    runs = {pid: runner.run_policy(pid) for pid in policy_order(config)}
    overdue = [World(u.persona, u.seed, u.key) for u in users]
    start = [w.start.astimezone(UTC) for w in overdue]
    share = float(np.mean([w.has_overdue(s) for w, s in zip(overdue, start, strict=True)]))
    return RunResult(config, users, runs, runner.events, runner.log, share)
