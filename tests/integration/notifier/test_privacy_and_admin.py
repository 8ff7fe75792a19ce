"""Subscriptions are the person's data: exported (keys left out), deleted by category and with
the account. Delivery attempts are readable by admins only."""

from __future__ import annotations

import time
import uuid

from backend.notifier import subscriptions
from backend.notifier.jobs import push_deliver
from backend.notifier.message import PushTip
from backend.notifier.tables import PushAttempt, PushSubscription
from backend.privacy.export import export_user_data
from backend.privacy.service import delete_account, delete_category
from tests.integration.notifier.conftest import gql, signed_in
from tests.support.fixtures import LiveServer, make_person
from tests.support.push_standin import PushStandIn

ATTEMPTS = """
query($id: ID!) { adminPushAttempts(userId: $id) { tipId status outcome latencyMs serviceHost } }
"""


async def _person_with_a_delivered_push(push_service: PushStandIn) -> tuple[str, str, str]:
    person = await make_person(tasks=False)
    browser = push_service.new_browser()
    keys = browser.to_json()["keys"]
    view = await subscriptions.subscribe(
        person.user_id, browser.endpoint, None, keys["p256dh"], keys["auth"], "phone"
    )
    tip = PushTip(str(uuid.uuid4()), "Call the bank", "task", int(time.time()) + 600, True)
    assert await push_deliver({"job_try": 1}, view.id, tip.as_job()) == "delivered"
    return person.user_id, browser.endpoint, keys["auth"]


async def _rows(user_id: str) -> tuple[int, int]:
    return (
        await PushSubscription.count().where(PushSubscription.user == user_id),
        await PushAttempt.count().where(PushAttempt.user == user_id),
    )


async def test_export_has_subscriptions_and_attempts_but_no_keys(
    push_service: PushStandIn,
) -> None:
    user_id, endpoint, auth = await _person_with_a_delivered_push(push_service)
    exported = await export_user_data(user_id)
    subs = exported["tables"]["notifier.push_subscription"]
    assert [s["endpoint"] for s in subs] == [endpoint]
    assert subs[0]["device_label"] == "phone"
    assert "p256dh_enc" not in subs[0]
    assert "auth_enc" not in subs[0]
    assert auth not in str(exported)
    attempts = exported["tables"]["notifier.push_attempt"]
    assert [(a["status"], a["outcome"]) for a in attempts] == [(201, "delivered")]


async def test_the_data_page_counts_them_under_notifications(push_service: PushStandIn) -> None:
    from backend.privacy.dashboard import data_summary

    user_id, _, _ = await _person_with_a_delivered_push(push_service)
    views = {v.category.key: v for v in await data_summary(user_id)}
    notifications = views["notifications"]
    assert notifications.category.deletable
    assert {t.name: t.rows for t in notifications.tables} == {
        "notifier.push_attempt": 1,
        "notifier.push_subscription": 1,
        "notifier.push_decision": 0,
        "notifier.push_learner_state": 0,
        "notifier.push_preference": 0,
    }
    assert "other" not in views or views["other"].rows == 0


async def test_deleted_with_the_notifications_category_and_with_the_account(
    push_service: PushStandIn,
) -> None:
    user_id, _, _ = await _person_with_a_delivered_push(push_service)
    bystander, _, _ = await _person_with_a_delivered_push(push_service)
    counts = await delete_category(user_id, "notifications")
    assert counts["notifier.push_subscription"] == 1
    assert await _rows(user_id) == (0, 0)

    again, _, _ = await _person_with_a_delivered_push(push_service)
    await delete_account(again)
    assert await _rows(again) == (0, 0)
    assert await _rows(bystander) == (1, 1)


async def test_attempts_are_for_admins_only(
    live_server: LiveServer, push_service: PushStandIn
) -> None:
    from backend.identity.service import set_role

    user_id, _, _ = await _person_with_a_delivered_push(push_service)
    _, person_client = await signed_in(live_server, tasks=False)
    refused = gql(person_client, ATTEMPTS, id=user_id)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    admin_id, admin_client = await signed_in(live_server, tasks=False)
    await set_role(admin_id, "admin")
    rows = gql(admin_client, ATTEMPTS, id=user_id)["data"]["adminPushAttempts"]
    assert [(r["status"], r["outcome"], r["serviceHost"]) for r in rows] == [
        (201, "delivered", "127.0.0.1")
    ]
    assert rows[0]["latencyMs"] > 0


async def test_the_data_page_shows_the_notifications_category(
    live_server: LiveServer, push_service: PushStandIn
) -> None:
    from tests.integration.notifier.conftest import subscribe

    _, client = await signed_in(live_server, tasks=False)
    assert subscribe(client, push_service.new_browser())["errors"] == []
    page = client.get("/data")
    assert page.status_code == 200
    assert "Notifications" in page.text
