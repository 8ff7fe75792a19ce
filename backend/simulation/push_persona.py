"""What the time-of-day agent infers of a simulated person in `oo sim --push`.

Quiet and peak hours are taken from the persona's weekday rhythm (what the agent infers from a
full history). The hour profiles are counted, as the agent counts done events, from the
person's own app sessions: HISTORY_DAYS of them before the simulated days (their own random
stream), then every simulated session as it happens — so the profile is as noisy as a real
history, not the persona's hidden rhythm.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from statistics import mean

from agents import time_of_day
from agents.stats import longest_circular_run, percentile
from backend.recommender import push_rules
from backend.simulation.personas import Persona

START = datetime(2026, 1, 5)  # a Monday, local time


def quiet_window(persona: Persona) -> tuple[int, int]:
    """The persona's quiet hours as the time-of-day agent infers them from a full history:
    the longest run of hours below the mean weekday rhythm."""
    weights = persona.rhythm_weekday
    baseline = mean(weights)
    start, length = longest_circular_run([w < baseline for w in weights])
    if length == 0:
        return push_rules.DEFAULT_QUIET
    return start, (start + length) % 24


def peak_hours(persona: Persona) -> tuple[int, ...]:
    """The persona's peak hours as the time-of-day agent infers them from a full history: the
    hours in the top quartile of the weekday rhythm (and above its median hour)."""
    weights = persona.rhythm_weekday
    active = [w for w in weights if w > 0]
    top, typical = percentile(active, 75), percentile(active, 50)
    peaks = tuple(h for h in range(24) if weights[h] >= top and weights[h] > typical)
    return peaks or tuple(h for h in range(24) if weights[h] == max(weights))


HISTORY_DAYS = 28
"""The app sessions the person had before the simulated days, which the time-of-day agent's
hour profile starts from (then every simulated session adds to it)."""


def past_sessions(persona: Persona, seed: int, user: int) -> tuple[list[int], list[int]]:
    """Sessions per local hour in the HISTORY_DAYS before the simulation (its own stream), on
    weekdays and on weekends."""
    rng = random.Random(f"{seed}:{persona.id}:{user}:history")
    counts = ([0] * 24, [0] * 24)
    for day in range(-HISTORY_DAYS, 0):
        weekend = (START + timedelta(days=day)).weekday() >= 5
        per_day = persona.sessions_weekend if weekend else persona.sessions_weekday
        for _ in range(poisson(rng, per_day)):
            counts[weekend][rng.choices(range(24), weights=persona.rhythm(weekend))[0]] += 1
    return counts


def profiles(
    counts: tuple[list[int], list[int]],
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The agent's hour profiles (weekdays, weekends) from sessions per hour."""
    return tuple(time_of_day.profile_of(counts[0])), tuple(time_of_day.profile_of(counts[1]))


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method: small rates)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
