""" "Notify me" on the tip page in real Chromium: permission only after the tap, the browser's
subscription sent to subscribePush, a refusal explained.

Headless Chromium has no push service (subscribing needs Google's FCM), so `PushManager` is the
one thing stubbed here: `subscribe()` hands back what a browser would (a real P-256 key and auth
secret, made like tests/support/push_standin.py makes them) and records the applicationServerKey
the page passed. Permission prompts, the service worker registration, the GraphQL calls with the
page's CSRF header and the row stored are real. Delivery and decryption are covered against the
push stand-in in tests/integration/notifier. The service worker's `push` handler is driven through
the DevTools protocol (ServiceWorker.deliverPushMessage); its `notificationclick` (Done / Snooze
posting the token, a tap opening the tip) cannot be triggered from a test: the endpoint it calls
is tested over HTTP instead.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_tip_page import CHROMIUM, DESKTOP, run_db, sign_in
from tests.support.fixtures import LiveServer
from tests.support.push_standin import BrowserSubscription

POLL_DEADLINE_S = 60
REDELIVER_S = 15

pytestmark = pytest.mark.browser

STUB = """
window.__asks = 0;
const ask = Notification.requestPermission.bind(Notification);
Notification.requestPermission = function () { window.__asks += 1; return ask(); };
const FAKE = %s;
PushManager.prototype.getSubscription = async function () { return window.__sub || null; };
PushManager.prototype.subscribe = async function (options) {
  window.__key = Array.from(new Uint8Array(options.applicationServerKey));
  window.__sub = { endpoint: FAKE.endpoint, options: options, toJSON: () => FAKE,
                   unsubscribe: async () => true };
  return window.__sub;
};
"""


def _page(browser: Browser, granted: bool, fake: dict[str, object]) -> Page:
    context = browser.new_context(
        viewport=DESKTOP, permissions=["notifications"] if granted else []
    )
    context.set_default_timeout(10_000)
    context.add_init_script(STUB % json.dumps(fake))
    return context.new_page()


@pytest.fixture
def fake_browser() -> BrowserSubscription:
    """What the stubbed PushManager returns (an endpoint on loopback: accepted outside prod)."""
    return BrowserSubscription(f"http://127.0.0.1:9/push/e2e-{secrets.token_hex(8)}")


@pytest.fixture
def granting(browser: Browser, fake_browser: BrowserSubscription) -> Iterator[Page]:
    page = _page(browser, True, fake_browser.to_json())
    yield page
    page.context.close()


@pytest.fixture
def refusing(browser: Browser, fake_browser: BrowserSubscription) -> Iterator[Page]:
    page = _page(browser, False, fake_browser.to_json())
    yield page
    page.context.close()


async def _stored(endpoint: str) -> list[dict[str, object]]:
    from backend.notifier.tables import PushSubscription

    return await PushSubscription.select(
        PushSubscription.user, PushSubscription.device_label
    ).where(PushSubscription.endpoint == endpoint)


def _public_key() -> list[int]:
    async def get() -> str:
        from backend.notifier.vapid import current_key

        return (await current_key()).public_key

    key = run_db(get())
    return list(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))


def test_notify_me_asks_after_the_tap_and_subscribes(
    granting: Page, live_server: LiveServer, fake_browser: BrowserSubscription
) -> None:
    person = sign_in(granting, live_server)
    button = granting.locator("[data-push-button]")
    expect(button).to_be_visible()
    assert granting.evaluate("window.__asks") == 0  # nothing asked on load

    button.click()
    expect(granting.locator("[data-push-status]")).to_contain_text("oO will nudge you")
    expect(button).to_be_hidden()
    assert granting.evaluate("window.__asks") == 1
    assert granting.evaluate("window.__key") == _public_key()
    rows = run_db(_stored(fake_browser.endpoint))
    assert [str(r["user"]) for r in rows] == [person.user_id]
    assert str(rows[0]["device_label"]).startswith("Chrome")


def test_a_refusal_is_explained_and_nothing_is_stored(
    refusing: Page, live_server: LiveServer, fake_browser: BrowserSubscription
) -> None:
    sign_in(refusing, live_server)
    refusing.locator("[data-push-button]").click()
    status = refusing.locator("[data-push-status]")
    expect(status).to_be_visible()
    assert "No notifications" in status.inner_text() or "blocked" in status.inner_text()
    assert run_db(_stored(fake_browser.endpoint)) == []
    assert CHROMIUM  # the module's skip condition is the tip page's (Chromium installed)


async def _subscriptions_of(user_id: str) -> int:
    from backend.notifier.tables import PushSubscription

    return int(await PushSubscription.count().where(PushSubscription.user == user_id))


def test_the_settings_switch_turns_notifications_on_and_off(
    granting: Page, live_server: LiveServer
) -> None:
    person = sign_in(granting, live_server)
    granting.goto(live_server.url + "/settings")
    switch = granting.locator("[data-push-switch]")
    expect(switch).to_be_enabled()
    expect(switch).not_to_be_checked()
    assert granting.evaluate("window.__asks") == 0

    granting.locator("#notifications .switch").click()
    expect(granting.locator("#notifications [data-push-status]")).to_have_text(
        "Notifications are on in this browser."
    )
    assert run_db(_subscriptions_of(person.user_id)) == 1

    granting.locator("#notifications .switch").click()
    expect(granting.locator("#notifications [data-push-status]")).to_have_text(
        "Notifications are off in this browser."
    )
    assert run_db(_subscriptions_of(person.user_id)) == 0


def test_the_service_worker_shows_a_pushed_tip_with_done_and_snooze(
    granting: Page, live_server: LiveServer
) -> None:
    """A push handed to the service worker through the DevTools protocol (what the browser does
    when its push service delivers) becomes a notification with the tip and both actions."""
    sign_in(granting, live_server)
    granting.evaluate("navigator.serviceWorker.register('/sw.js')")
    granting.wait_for_function(
        "() => navigator.serviceWorker.ready.then(r => !!r.active).catch(() => false)"
    )
    cdp = granting.context.new_cdp_session(granting)
    registrations: list[str] = []
    seen: list[tuple[str, Any]] = []  # every worker event, for the failure message
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(
            r["registrationId"] for r in event["registrations"] if not r.get("isDeleted")
        ),
    )
    for name in ("workerRegistrationUpdated", "workerVersionUpdated", "workerErrorReported"):
        cdp.on(f"ServiceWorker.{name}", lambda event, name=name: seen.append((name, event)))
    cdp.send("ServiceWorker.enable")
    # Bounded polls, sized for a loaded machine (5 s was once too short for the push event).
    deadline = time.monotonic() + POLL_DEADLINE_S
    while not registrations and time.monotonic() < deadline:
        granting.wait_for_timeout(100)  # a bounded poll for the CDP event, not a fixed wait
    assert registrations, "the service worker registration was not reported"
    message = {
        "v": 1,
        "tip": {"id": "tip-42", "content": "Water the plants", "kind": "task"},
        "actions": {"done": "token-done", "snooze": "token-snooze"},
        "url": "/tip?tip=tip-42",
        "expires": 0,
    }
    shown = _deliver_until_shown(granting, cdp, live_server.url, registrations[-1], message)
    assert len(shown) == 1, f"no notification; worker events: {json.dumps(seen)}"
    note = shown[0]
    assert (note["title"], note["body"], note["tag"]) == ("oO", "Water the plants", "oo-tip")
    assert note["actions"] == ["done", "snooze"]
    assert note["data"]["tokens"] == {"done": "token-done", "snooze": "token-snooze"}
    assert note["data"]["url"] == "/tip?tip=tip-42"


def _deliver_until_shown(
    page: Page, cdp: Any, origin: str, registration_id: str, message: dict[str, Any]
) -> list[dict[str, Any]]:
    """Hand the push to the worker and poll its notifications, handing it again when a delivery
    shows nothing within REDELIVER_S. Seen on a loaded machine (about 1 run in 5): DevTools
    accepts the delivery of a running, activated worker and the push event never fires, with no
    error reported. A push service retries an undelivered message too; the tag makes a second
    delivery replace the first, so a broken handler still shows nothing and fails here."""
    shown: list[dict[str, Any]] = []
    deadline = time.monotonic() + POLL_DEADLINE_S
    while time.monotonic() < deadline and not shown:
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": origin, "registrationId": registration_id, "data": json.dumps(message)},
        )
        redeliver_at = min(deadline, time.monotonic() + REDELIVER_S)
        while time.monotonic() < redeliver_at:  # the push event runs in the worker, async
            shown = page.evaluate(
                """() => navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns =>
                     ns.map(n => ({title: n.title, body: n.body, tag: n.tag,
                                   actions: n.actions.map(a => a.action), data: n.data})))"""
            )
            if shown:
                break
            page.wait_for_timeout(100)
    return shown
