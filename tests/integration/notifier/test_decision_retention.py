"""Push decisions are kept for a while, then purged: holds sooner than pushes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.notifier import outcomes
from backend.notifier.tables import PushDecision
from backend.recommender import push_policy
from tests.support.fixtures import make_person


async def test_old_decisions_are_purged_holds_before_pushes() -> None:
    person = await make_person(tasks=False)
    now = datetime.now(UTC)
    ages = {"old-hold": (False, 31), "new-hold": (False, 29), "old-push": (True, 181),
            "kept-push": (True, 60)}  # fmt: skip
    for tip_id, (push, days) in ages.items():
        await PushDecision(
            user=person.user_id,
            decided_at=now - timedelta(days=days),
            trigger="manual",
            tip_id=tip_id,
            push=push,
            reason="" if push else "quiet_hours",
            propensity=1.0,
            policy_id=push_policy.POLICY_ID,
            context={},
        ).save()
    assert await outcomes.purge_old_decisions(now) == 2
    left = await PushDecision.select(PushDecision.tip_id).where(PushDecision.user == person.user_id)
    assert sorted(r["tip_id"] for r in left) == ["kept-push", "new-hold"]
