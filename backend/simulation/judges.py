"""Judges: how a simulated person answers a tip (reaction + dwell → the seed's reward table).

- `RuleJudge` — stochastic, from the persona × task × time model documented in
  personas/README.md. Its expected reward is exact (the dwell bands are log-normal CDFs), which
  is what the oracle maximises and what regret is measured against.
- `LlmJudge` — the same interface through litellm's `judge` alias (optional; litellm is
  imported only when it is used). When the model's answer is unusable it falls back to the rule
  judge for that decision and counts the fallback, so a run never stops on a bad answer.
- `Oracle` — not a judge but the ceiling: it serves the candidate with the highest expected
  reward under the rule judge. No learning policy can beat it in expectation at a given moment.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np

from backend.recommender.policies import Decision
from backend.recommender.reward import (
    DISMISS_REWARD,
    LATE_END_MS,
    MAGIC_ZONE_END_MS,
    MAGIC_ZONE_START_MS,
    MAX_DWELL_MS,
    SNOOZE_REWARD,
    Action,
    infer_reward,
)
from backend.simulation.personas import Persona

_LOG_30 = math.log1p(30.0)
_LOG_365 = math.log1p(365.0)
_DONE_BANDS = (  # (upper bound ms, reward) of "done", from reward.py
    (MAGIC_ZONE_START_MS, -0.3),
    (MAGIC_ZONE_END_MS, 1.0),
    (LATE_END_MS, 0.6),
    (math.inf, 0.3),
)


@dataclass(frozen=True)
class Moment:
    """The person at one local moment: what every candidate of one decision shares."""

    persona: Persona
    local: datetime
    weekend: bool
    energy: float
    """0..1, the rhythm weight of this hour relative to the day's peak."""
    base: float
    """The logit terms that do not depend on the task (engagement, weekend, energy)."""
    slots: tuple[str, ...]
    dwell_median_s: float
    """Median seconds to "done": quick in the person's good hours, slower outside them."""
    done_value: float
    """Expected reward of "done" (the reward table over the log-normal dwell)."""


@dataclass(frozen=True)
class Situation:
    """What the person sees and feels when a tip appears (the judge's whole input)."""

    moment: Moment
    project: str
    content: str
    priority: int
    days_to_due: int | None
    age_days: float
    recurring: bool
    exposure: float
    """Recency-weighted count of earlier pushes of this item that were not done."""
    duration_min: int | None = None
    """Estimated minutes the task takes (None: unknown, no effect)."""

    @property
    def persona(self) -> Persona:
        """Who is answering."""
        return self.moment.persona

    @property
    def local(self) -> datetime:
        """When, in their time."""
        return self.moment.local


@dataclass(frozen=True)
class Reaction:
    """One answer: the action, its dwell, and the reward the service would infer."""

    action: str
    dwell_ms: int
    reward: float


@dataclass(frozen=True)
class Outlook:
    """The rule judge's probabilities for one situation, and its expected reward."""

    p_done: float
    p_snooze: float
    dwell_median_s: float
    expected: float


class Judge(Protocol):
    """Answers a tip."""

    name: str

    def react(self, situation: Situation, u_action: float, z_dwell: float) -> Reaction:
        """The answer, from two shared random numbers (uniform, standard normal)."""
        ...


def slot_names(local: datetime) -> tuple[str, ...]:
    """The persona project-slot keys that match a local moment."""
    hour = local.hour
    part = (
        "morning"
        if 5 <= hour < 12
        else "afternoon"
        if 12 <= hour < 17
        else "evening"
        if 17 <= hour < 22
        else "night"
    )
    day = ("weekend" if local.weekday() >= 5 else "weekday",)
    return ("base", *day, part, *(("month_end",) if is_month_end(local) else ()))


MONTH_END_DAYS = 5
"""The last this-many days of a month are its "month end" (slot `month_end`)."""


def is_month_end(local: datetime) -> bool:
    """Whether a local moment falls in the last MONTH_END_DAYS days of its month."""
    return (local + timedelta(days=MONTH_END_DAYS)).month != local.month


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def moment(persona: Persona, local: datetime) -> Moment:
    """Everything about a moment the candidates of one decision share (computed once)."""
    r = persona.reaction
    weekend = local.weekday() >= 5
    energy = persona.energy(local.hour, weekend, local.date())
    base = r["engagement"] + (r["weekend"] if weekend else 0.0) + r["energy"] * (energy - 0.5)
    median = float(persona.dwell_median_s * persona.dwell_off_peak ** (1.0 - energy))
    mu, sigma = math.log(median * 1000.0), persona.dwell_sigma
    done_value, below = 0.0, 0.0
    for upper, reward in _DONE_BANDS:
        cdf = 1.0 if math.isinf(upper) else _normal_cdf((math.log(upper) - mu) / sigma)
        done_value += (cdf - below) * reward
        below = cdf
    return Moment(persona, local, weekend, energy, base, slot_names(local), median, done_value)


def done_logit(s: Situation) -> float:
    """The persona's logit of "done" (terms documented in personas/README.md)."""
    m = s.moment
    r = m.persona.reaction
    priority = r["priority"] + (r.get("month_end_priority", 0.0) if "month_end" in m.slots else 0.0)
    u = m.base + priority * (min(max(s.priority, 1), 4) - 1) / 3
    if s.duration_min is not None and r.get("duration", 0.0):
        u += r["duration"] * duration_scale(s.duration_min)
    u += r["stale"] * math.log1p(max(s.age_days, 0.0)) / _LOG_365
    days = s.days_to_due
    if days is not None:
        if days < 0:
            u += r["overdue"] + r["overdue_days"] * math.log1p(-days) / _LOG_30
        elif days == 0:
            u += r["due_today"]
        elif days <= 3:
            u += r["due_soon"]
    if s.recurring:
        u += r["recurring"]
    slots = m.persona.projects.get(s.project)
    if slots:
        u += sum(slots.get(name, 0.0) for name in m.slots)
    if s.exposure > 0:
        u -= r["fatigue"] * -math.expm1(-s.exposure / 2.0)
    return u


def duration_scale(minutes: int) -> float:
    """log2(minutes / 15) / 3, clipped to [−1, 1.5]: 15 min is 0, 2 h is +1, 2 min ≈ −1."""
    return min(max(math.log2(max(minutes, 1) / 15.0) / 3.0, -1.0), 1.5)


def outlook(s: Situation) -> Outlook:
    """Probabilities of each reaction and the exact expected reward."""
    m = s.moment
    p_done = 1.0 / (1.0 + math.exp(-done_logit(s)))
    p_snooze = (1.0 - p_done) * m.persona.reaction["snooze_share"]
    p_dismiss = 1.0 - p_done - p_snooze
    expected = p_done * m.done_value + p_snooze * SNOOZE_REWARD + p_dismiss * DISMISS_REWARD
    return Outlook(p_done, p_snooze, m.dwell_median_s, expected)


class RuleJudge:
    """The persona model, drawn with the run's random numbers (see module docstring)."""

    name = "rule"

    def react(self, situation: Situation, u_action: float, z_dwell: float) -> Reaction:
        """Done / snooze / dismiss by the outlook's probabilities; dwell log-normal."""
        o = outlook(situation)
        if u_action < o.p_done:
            seconds = o.dwell_median_s * math.exp(situation.persona.dwell_sigma * z_dwell)
            dwell = min(max(int(seconds * 1000), 0), MAX_DWELL_MS)
            return Reaction("done", dwell, infer_reward(Action.DONE, dwell))
        # Not done: people glance, then snooze or dismiss within a few seconds.
        dwell = int(2000 + 4000 * abs(z_dwell))
        action = Action.SNOOZE if u_action < o.p_done + o.p_snooze else Action.DISMISS
        return Reaction(action.value, dwell, infer_reward(action, dwell))

    def expected(self, situation: Situation) -> float:
        """The exact expected reward of serving this task now."""
        return outlook(situation).expected


class Oracle:
    """Serves the candidate with the highest expected reward (the ceiling; not servable)."""

    id = "oracle"
    version = "1"

    def choose(self, expected: np.ndarray) -> Decision:
        """The best candidate; ties go to the first (deterministic: propensity 1)."""
        choice = int(np.argmax(expected))
        probs = np.zeros(expected.shape[0])
        probs[choice] = 1.0
        return Decision(
            choice=choice,
            propensity=1.0,
            scores=expected.tolist(),
            probabilities=probs.tolist(),
        )


JUDGE_PROMPT = """You are simulating how one person reacts to a to-do app's single tip.
Person: {name}. {summary}
It is {when} (their local time). The tip suggests: "{content}" (project {project},
priority {priority} of 4, {due}; {pushes}).
Answer with JSON only: {{"action": "done" | "snooze" | "dismiss", "seconds": <seconds the tip
was on screen before they answered>}}."""


def _due_words(days: int | None) -> str:
    if days is None:
        return "no due date"
    if days < 0:
        return f"overdue by {-days} days"
    return "due today" if days == 0 else f"due in {days} days"


class LlmJudge:
    """Asks the `judge` model alias (see module docstring); rule judge on unusable answers."""

    name = "llm"

    def __init__(self, complete: Callable[[str], str] | None = None) -> None:
        self._complete = complete
        self._fallback = RuleJudge()
        self.calls = 0
        self.fallbacks = 0

    def _ask(self, prompt: str) -> str:
        if self._complete is None:
            # Imported here: litellm takes seconds to import, and only this judge needs it.
            from backend.llm.gateway import Gateway

            router = Gateway().router()

            def complete(text: str) -> str:
                response = router.completion(
                    model="judge",
                    messages=[{"role": "user", "content": text}],
                    max_tokens=60,
                    temperature=0.7,
                )
                return str(response.choices[0].message.content or "")

            self._complete = complete
        return self._complete(prompt)

    def prompt(self, s: Situation) -> str:
        """The question for one situation."""
        return JUDGE_PROMPT.format(
            name=s.persona.name,
            summary=s.persona.summary,
            when=s.local.strftime("%A %H:%M"),
            content=s.content,
            project=s.project,
            priority=s.priority,
            due=_due_words(s.days_to_due),
            pushes="shown before and not done" if s.exposure > 0.3 else "not shown recently",
        )

    def react(self, situation: Situation, u_action: float, z_dwell: float) -> Reaction:
        """The model's answer, scored by the reward table (rule judge when unusable)."""
        self.calls += 1
        try:
            answer: Any = json.loads(_json_part(self._ask(self.prompt(situation))))
            action = Action(str(answer["action"]).lower())
            dwell = min(max(int(float(answer["seconds"]) * 1000), 0), MAX_DWELL_MS)
        except Exception:  # any model failure or malformed answer: this decision falls back
            self.fallbacks += 1
            return self._fallback.react(situation, u_action, z_dwell)
        return Reaction(action.value, dwell, infer_reward(action, dwell))


def _json_part(text: str) -> str:
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def make_judge(name: str) -> Judge:
    """A judge by name: `rule` or `llm`."""
    if name == "rule":
        return RuleJudge()
    if name == "llm":
        from backend.llm.config import JUDGE, load_gateway_config  # reads settings, not litellm

        if not load_gateway_config().has(JUDGE):
            raise ValueError(
                "the llm judge needs a model behind the `judge` alias: set OO_LLM_JUDGE"
            )
        return LlmJudge()
    raise ValueError(f"unknown judge {name!r} (rule, llm)")


def expected_rewards(judge: RuleJudge, situations: Sequence[Situation]) -> np.ndarray:
    """The rule judge's expected reward of each situation."""
    return np.array([judge.expected(s) for s in situations])
