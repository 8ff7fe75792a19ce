"""The console's push figures: delivery rate, holds by reason, pushes by outcome — counted by
hand on a seeded log (placed in the future, so no other test's rows fall in its window), and
admins only over GraphQL and the page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend.notifier import report
from backend.notifier.tables import PushAttempt, PushDecision
from backend.recommender import push_policy
from tests.integration.admin.test_admin_graphql import gql
from tests.integration.admin.test_admin_pages import _browser_for
from tests.support.fixtures import LiveServer, make_person

LATER = datetime.now(UTC) + timedelta(days=400)
REPORT = """query($days: Int!) { pushReport(days: $days) { days pushes holds deliveryRate
  reactionsPerPush attempts { key count } holdReasons { key count } pushOutcomes { key count } } }"""


async def _seed() -> None:
    person = await make_person(tasks=False)
    for minutes, outcome in ((10, "delivered"), (20, "delivered"), (30, "retry"), (40, "gone")):
        await PushAttempt(
            user=person.user_id,
            subscription_id=uuid.uuid4(),
            tip_id="t",
            status=201 if outcome == "delivered" else 429,
            outcome=outcome,
            created_at=LATER - timedelta(minutes=minutes),
        ).save()
    rows: list[tuple[bool, str, str | None]] = [
        (True, "", "reacted"),
        (True, "", "ignored"),
        (True, "", None),
        (False, "quiet_hours", None),
        (False, "quiet_hours", None),
        (False, "daily_cap", None),
    ]
    for i, (push, reason, outcome) in enumerate(rows):
        await PushDecision(
            user=person.user_id,
            decided_at=LATER - timedelta(hours=i + 1),
            trigger="periodic",
            tip_id=f"tip-{i}",
            push=push,
            reason=reason,
            propensity=1.0,
            policy_id=push_policy.POLICY_ID,
            context={},
            outcome=outcome,
        ).save()
    # Outside a one-day window: eight days before.
    await PushDecision(
        user=person.user_id,
        decided_at=LATER - timedelta(days=8),
        trigger="periodic",
        tip_id="old",
        push=True,
        reason="",
        propensity=1.0,
        policy_id=push_policy.POLICY_ID,
        context={},
        outcome="reacted",
    ).save()


async def test_the_figures_match_a_hand_count() -> None:
    await _seed()
    day = await report.report(1, now=LATER)
    assert day.delivery_rate == 0.5  # 2 of 4 attempts delivered
    assert {t.key: t.count for t in day.attempts} == {"delivered": 2, "retry": 1, "gone": 1}
    assert (day.pushes, day.holds) == (3, 3)
    assert {t.key: t.count for t in day.decisions} == {"quiet_hours": 2, "daily_cap": 1}
    assert {t.key: t.count for t in day.outcomes} == {"reacted": 1, "ignored": 1, "pending": 1}
    assert day.reactions_per_push == round(1 / 3, 4)
    month = await report.report(30, now=LATER)
    assert (month.pushes, month.reactions_per_push) == (4, 0.5)
    with pytest.raises(report.ReportError):
        await report.report(3, now=LATER)


async def test_admins_only_over_graphql_and_the_page(
    live_server: LiveServer, token_for: Any
) -> None:
    admin = await make_person(tasks=False, role="admin")
    person = await make_person(tasks=False)
    body = gql(live_server, await token_for(admin), REPORT, days=7)["data"]["pushReport"]
    assert body["days"] == 7
    bad = gql(live_server, await token_for(admin), REPORT, days=3)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    refused = gql(live_server, await token_for(person), REPORT, days=7)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    page = (await _browser_for(live_server, admin)).get("/admin/push?days=30")
    assert page.status_code == 200
    assert 'id="kpi-delivery"' in page.text
    assert (await _browser_for(live_server, person)).get("/admin/push").status_code == 403
