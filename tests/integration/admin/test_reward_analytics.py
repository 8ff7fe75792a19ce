"""Reward analytics on a small seeded log (tests/integration/admin/ml_log.py), every figure
checked against values worked out by hand from the rows, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import math
import statistics
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

import pytest

from backend.admin.reward_analytics import Analytics, AnalyticsError, Stats, analytics
from tests.integration.admin.ml_log import SeededLog, seed_log


def ci(rewards: list[float]) -> tuple[float, float]:
    """The 95 % interval worked out directly: mean ± 1.96 · stdev / √n."""
    mean = statistics.fmean(rewards)
    half = 1.96 * statistics.stdev(rewards) / math.sqrt(len(rewards))
    return mean - half, mean + half


def by_key(a: Analytics) -> dict[str, Stats]:
    return {g.label: g.stats for g in a.groups}


def means(a: Analytics) -> dict[str, float | None]:
    return {
        g.label: None if g.stats.mean_reward is None else round(g.stats.mean_reward, 6)
        for g in a.groups
    }


def counts(a: Analytics) -> dict[str, tuple[int, int]]:
    return {g.label: (g.stats.decisions, g.stats.reactions) for g in a.groups}


Analyze = Callable[..., Awaitable[Analytics]]


@pytest.fixture
async def seeded() -> SeededLog:
    return await seed_log()


@pytest.fixture(params=["rollup", "log"])
def analyze(request: pytest.FixtureRequest) -> Analyze:
    """analytics() read from the hourly rollup, or from the log itself: the same figures."""
    return partial(analytics, use_rollup=request.param == "rollup")


async def test_totals_and_daily_series(seeded: SeededLog, analyze: Analyze) -> None:
    a = await analyze("TIME", "DAY", seeded.start, seeded.end)
    day1, day2 = seeded.start.date().isoformat(), (seeded.start + timedelta(days=1)).date()
    assert a.buckets == [day1, day2.isoformat()]
    # Rows 0-4: 5 decisions, 4 answered, rewards 1, -1, 0.8, 0 (the deleted person's row and
    # the row before the window do not count).
    t = a.total
    assert (t.decisions, t.reactions, t.done, t.snoozed, t.dismissed, t.rewarded) == (
        5,
        4,
        2,
        1,
        1,
        4,
    )
    assert t.mean_reward == pytest.approx(0.2)
    low, high = ci([1.0, -1.0, 0.8, 0.0])
    assert (t.ci_low, t.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert t.reaction_rate == pytest.approx(0.8)
    (everything,) = a.groups
    monday, tuesday = (s for _, s in everything.series)
    assert (monday.decisions, monday.reactions) == (3, 3)
    assert monday.mean_reward == pytest.approx((1.0 - 1.0 + 0.8) / 3)
    assert (tuesday.decisions, tuesday.reactions, tuesday.mean_reward) == (2, 1, 0.0)
    # The promotion inside the window is the "what changed" note.
    (promotion,) = a.promotions
    assert (promotion.policy_id, promotion.previous) == ("linucb", "random")
    assert promotion.reason == "beats random in shadow"


async def test_hourly_series(seeded: SeededLog, analyze: Analyze) -> None:
    a = await analyze("TIME", "HOUR", seeded.start, seeded.end)
    assert len(a.buckets) == 48
    series = dict(a.groups[0].series)
    nine = series[seeded.start.strftime("%Y-%m-%dT09")]
    assert (nine.decisions, nine.reactions, nine.mean_reward) == (2, 2, 0.0)
    assert series[seeded.start.strftime("%Y-%m-%dT14")].mean_reward == pytest.approx(0.8)
    assert series[seeded.start.strftime("%Y-%m-%dT10")].decisions == 0


async def test_per_policy_with_confidence_intervals(seeded: SeededLog, analyze: Analyze) -> None:
    a = await analyze("POLICY", "DAY", seeded.start, seeded.end)
    assert counts(a) == {"linucb 2": (3, 3), "random 1": (2, 1)}
    assert means(a) == {"linucb 2": 0.0, "random 1": 0.8}
    linucb = by_key(a)["linucb 2"]
    low, high = ci([1.0, -1.0, 0.0])
    assert (linucb.ci_low, linucb.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert by_key(a)["random 1"].ci_low is None  # one reward: no interval
    # Shadow agreement: greedy agreed on one of its two decisions of live people.
    (greedy,) = a.agreement
    assert (greedy.policy_id, greedy.shadow_decisions, greedy.agreed) == ("greedy", 2, 1)


async def test_by_hour_of_day(seeded: SeededLog, analyze: Analyze) -> None:
    a = await analyze("HOUR_OF_DAY", "DAY", seeded.start, seeded.end)
    assert counts(a) == {"09:00": (3, 3), "14:00": (1, 1), "21:00": (1, 0)}
    assert means(a) == {"09:00": 0.0, "14:00": 0.8, "21:00": None}


async def test_by_weekday(seeded: SeededLog, analyze: Analyze) -> None:
    a = await analyze("WEEKDAY", "DAY", seeded.start, seeded.end)
    assert counts(a) == {"Monday": (3, 3), "Tuesday": (2, 1)}
    assert means(a) == {"Monday": pytest.approx(0.8 / 3, abs=1e-6), "Tuesday": 0.0}


async def test_by_priority(seeded: SeededLog, analyze: Analyze) -> None:
    a = await analyze("PRIORITY", "DAY", seeded.start, seeded.end)
    assert [g.label for g in a.groups] == ["1", "4", "(none)"]
    assert counts(a) == {"1": (2, 1), "4": (2, 2), "(none)": (1, 1)}
    assert means(a) == {"1": -1.0, "4": 0.5, "(none)": 0.8}


async def test_by_kind(seeded: SeededLog, analyze: Analyze) -> None:
    a = await analyze("KIND", "DAY", seeded.start, seeded.end)
    assert counts(a) == {"advice": (2, 1), "task": (3, 3)}
    assert means(a) == {"advice": 0.8, "task": 0.0}


async def test_by_source(seeded: SeededLog, analyze: Analyze) -> None:
    a = await analyze("SOURCE", "DAY", seeded.start, seeded.end)
    assert counts(a) == {"demo": (1, 1), "llm": (2, 1), "todoist": (2, 2)}
    assert means(a) == {"demo": 0.0, "llm": 0.8, "todoist": 0.0}


async def test_by_model(seeded: SeededLog, analyze: Analyze) -> None:
    a = await analyze("MODEL", "DAY", seeded.start, seeded.end)
    assert counts(a) == {"(none)": (3, 3), "m1": (2, 1)}
    assert means(a) == {"(none)": 0.0, "m1": 0.8}


async def test_by_prompt_version(seeded: SeededLog, analyze: Analyze) -> None:
    a = await analyze("PROMPT_VERSION", "DAY", seeded.start, seeded.end)
    assert counts(a) == {"(none)": (3, 3), "p1": (1, 1), "p2": (1, 0)}
    assert means(a) == {"(none)": 0.0, "p1": 0.8, "p2": None}


async def test_by_cohort(seeded: SeededLog, analyze: Analyze) -> None:
    a = await analyze("COHORT", "DAY", seeded.start, seeded.end)
    p1_week = (seeded.start - timedelta(days=7)).date().isoformat()  # signed up on a Wednesday
    p2_week = seeded.start.date().isoformat()
    assert counts(a) == {f"week of {p1_week}": (3, 2), f"week of {p2_week}": (2, 2)}
    assert means(a) == {f"week of {p1_week}": 0.0, f"week of {p2_week}": 0.4}


async def test_filters_narrow_every_figure(seeded: SeededLog, analyze: Analyze) -> None:
    w = (seeded.start, seeded.end)
    by_policy = await analyze("TIME", "DAY", *w, policy_id="linucb")
    assert (by_policy.total.decisions, by_policy.total.mean_reward) == (3, 0.0)
    by_person = await analyze("TIME", "DAY", *w, user_id=seeded.people["p2"])
    assert by_person.total.decisions == 2
    assert by_person.total.mean_reward == pytest.approx(0.4)
    assert (await analyze("KIND", "DAY", *w, kind="advice")).total.decisions == 2
    assert (await analyze("TIME", "DAY", *w, source="todoist")).total.decisions == 2
    gone = await analyze("TIME", "DAY", *w, user_id=seeded.people["gone"])
    assert gone.total.decisions == 0, "a deleted person's decisions count nowhere"


@pytest.mark.parametrize(
    ("slice_by", "period", "days", "code"),
    [
        ("NOPE", "DAY", 1, "INVALID_SLICE"),
        ("TIME", "WEEK", 1, "INVALID_PERIOD"),
        ("TIME", "DAY", -1, "INVALID_FILTER"),
        ("TIME", "HOUR", 15, "WINDOW_TOO_LONG"),
        ("TIME", "DAY", 93, "WINDOW_TOO_LONG"),
    ],
)
async def test_bad_requests_are_refused_with_a_code(
    slice_by: str, period: str, days: int, code: str
) -> None:
    from datetime import UTC, datetime

    until = datetime(2025, 6, 1, tzinfo=UTC)
    with pytest.raises(AnalyticsError) as err:
        await analytics(slice_by, period, until - timedelta(days=days), until)
    assert err.value.code == code


async def test_a_person_filter_must_be_an_id() -> None:
    with pytest.raises(AnalyticsError) as err:
        await analytics("TIME", "DAY", user_id="not-an-id")
    assert (err.value.code, err.value.field) == ("INVALID_FILTER", "person")


async def test_the_rollup_follows_the_log_incrementally_and_forgets_the_deleted() -> None:
    from datetime import UTC, datetime

    from backend.admin import reward_rollup
    from backend.privacy.deletion import delete_account
    from backend.recommender.tables import ServedTip
    from tests.support.fixtures import make_person

    person = await make_person(tasks=False)
    policy = f"rollup-{person.user_id[:8]}"
    now = datetime.now(UTC)
    tip = ServedTip(
        user=person.user_id, item_ref="test:r", source="test", kind="task", content="R",
        candidate_count=1, policy_id=policy, policy_version="1", score=1.0, propensity=1.0,
        latency_ms=1.0, served_at=now - timedelta(minutes=2),
    )  # fmt: skip
    await tip.save()

    async def figures() -> tuple[int, int, float | None]:
        t = (
            await analytics(
                "TIME", "HOUR", now - timedelta(hours=2), now + timedelta(hours=1),
                policy_id=policy, use_rollup=True,
            )
        ).total  # fmt: skip
        return t.decisions, t.reactions, t.mean_reward

    await reward_rollup.refresh()
    assert await figures() == (1, 0, None)
    await reward_rollup.refresh()
    assert await figures() == (1, 0, None), "a rerun changes nothing"
    await ServedTip.update(
        {ServedTip.reaction: "done", ServedTip.reward: 1.0, ServedTip.reacted_at: now}
    ).where(ServedTip.id == tip.id)
    await reward_rollup.refresh()
    assert await figures() == (1, 1, 1.0), "the reaction reached the rollup"
    await delete_account(person.user_id)
    await reward_rollup.refresh()
    assert await figures() == (0, 0, None), "a deleted person leaves the rollup"


def test_changed_hours_are_summarised_in_spans_of_at_most_a_day() -> None:
    from datetime import UTC, datetime

    from backend.admin.reward_rollup import spans

    t = datetime(2025, 3, 1, tzinfo=UTC)
    hours = [t + timedelta(hours=n) for n in (0, 1, 2, 5, *range(10, 40))]
    assert spans(hours) == [
        (t, t + timedelta(hours=3)),
        (t + timedelta(hours=5), t + timedelta(hours=6)),
        (t + timedelta(hours=10), t + timedelta(hours=34)),
        (t + timedelta(hours=34), t + timedelta(hours=40)),
    ]
