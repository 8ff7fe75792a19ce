"""The admin person page shows the person's push decisions — push or hold, value, threshold and
the rule or reason that held — read from the notifier through its contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from backend.admin.rollups import refresh
from backend.identity.service import create_sign_in_link
from backend.notifier.tables import PushDecision
from backend.recommender import push_policy
from tests.support.fixtures import LiveServer, make_person


async def test_an_admin_sees_why_a_person_was_or_was_not_pushed(live_server: LiveServer) -> None:
    person = await make_person(tasks=False)
    now = datetime.now(UTC)
    rows = [
        ("tip-pushed", True, "value", 0.612, 0.401, 0.35, 0.844, "reacted", 3),
        ("tip-low", False, "below_threshold", 0.123, 0.2, 0.41, 0.906, None, 2),
        ("", False, "quiet_hours", None, None, None, 1.0, None, 1),
    ]
    for tip_id, push, reason, now_v, wait_v, threshold, propensity, outcome, hours in rows:
        await PushDecision(
            user=person.user_id,
            decided_at=now - timedelta(hours=hours),
            trigger="periodic",
            tip_id=tip_id,
            push=push,
            reason=reason,
            value_now=now_v,
            value_wait=wait_v,
            threshold=threshold,
            propensity=propensity,
            policy_id=push_policy.POLICY_ID,
            context={},
            outcome=outcome,
        ).save()
    admin = await make_person(tasks=False, role="admin")
    nobody = await make_person(tasks=False)
    await refresh()  # the people rollup the page reads
    client = live_server.client()
    client.get(live_server.url + urlsplit(await create_sign_in_link(admin.user_id)).path)

    page = client.get(f"/admin/users/{person.user_id}")
    assert page.status_code == 200
    text = page.text
    assert "Last 3 push decisions" in text
    section = text[text.index('id="push-decisions"') :]
    for shown in ("0.612", "0.401", "0.350", "0.844", "tip-pushed", "reacted", "0.123", "0.410"):
        assert shown in section
    assert ">below threshold<" in section, "the learner's reason for a hold"
    assert ">quiet hours<" in section, "the hard rule that held"
    assert section.index("tip-low") < section.index("tip-pushed"), "newest first"
    assert section.count(">push<") == 1
    assert section.count(">hold<") == 2

    empty = client.get(f"/admin/users/{nobody.user_id}")
    assert "No push decisions" in empty.text
