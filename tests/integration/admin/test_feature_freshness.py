"""The profile features' freshness over time: sampled once an hour (a second run in the same
hour adds nothing), the daily share counted by hand, admins only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from backend.admin import freshness
from backend.admin.freshness_tables import AdminFreshnessDay
from backend.profile.features import FEATURES
from backend.profile.tables import FeatureValue, pack
from tests.integration.admin.test_admin_graphql import gql
from tests.support.fixtures import LiveServer, make_person

LATER = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=500)
TREND = """query($days: Int!) { featureFreshness(days: $days) { feature ttlSeconds shares } }"""


async def test_hourly_samples_and_the_daily_share() -> None:
    spec = FEATURES[0]
    people = [await make_person(tasks=False) for _ in range(2)]
    # One fresh (computed just now), one stale (older than the TTL), at the sampled time.
    for person, age in zip(people, (0, spec.ttl_s + 60), strict=True):
        await FeatureValue(
            user=person.user_id,
            name=spec.name,
            value=pack(1),
            computed_at=LATER - timedelta(seconds=age),
        ).save()
    assert await freshness.sample(LATER) == len(FEATURES)
    assert await freshness.sample(LATER + timedelta(minutes=30)) == 0  # same hour: nothing
    assert await freshness.sample(LATER + timedelta(hours=1)) == len(FEATURES)
    row = await AdminFreshnessDay.objects().get(
        (AdminFreshnessDay.day == LATER.date()) & (AdminFreshnessDay.feature == spec.name)
    )
    assert row is not None
    assert row.samples == 2
    # Everyone else's rows of this feature (other tests') are far older than LATER: only ours
    # can be fresh — the fresh one at 10:00; at 11:00 both are older than the TTL.
    assert row.people_sum >= 2 * 2
    assert row.fresh_sum == 1
    trend = await freshness.freshness(7, LATER)
    (mine,) = [f for f in trend if f.feature == spec.name]
    assert mine.shares[-1] == round(1 / row.people_sum, 4)
    assert mine.shares[0] is None  # not sampled that day


async def test_the_trend_is_for_admins(live_server: LiveServer, token_for: Any) -> None:
    admin = await make_person(tasks=False, role="admin")
    person = await make_person(tasks=False)
    body = gql(live_server, await token_for(admin), TREND, days=7)["data"]["featureFreshness"]
    assert {f["feature"] for f in body} == {s.name for s in FEATURES}
    assert all(len(f["shares"]) == 7 for f in body)
    bad = gql(live_server, await token_for(admin), TREND, days=5)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    refused = gql(live_server, await token_for(person), TREND, days=7)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
