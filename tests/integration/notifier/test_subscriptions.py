"""subscribePush / unsubscribePush / pushSubscriptions / pushPublicKey over real HTTP."""

from __future__ import annotations

import base64

from backend.notifier.tables import PushSubscription
from tests.integration.notifier.conftest import gql, signed_in, subscribe
from tests.support.fixtures import LiveServer
from tests.support.push_standin import PushStandIn

LIST = "query { pushSubscriptions { endpoint deviceLabel lastSuccessAt lastFailure } }"
UNSUBSCRIBE = "mutation($e: String!) { unsubscribePush(endpoint: $e) { ok errors { code field } } }"


async def _stored(endpoint: str) -> int:
    return await PushSubscription.count().where(PushSubscription.endpoint == endpoint)


async def test_public_key_is_a_p256_point_and_stable(live_server: LiveServer) -> None:
    _, client = await signed_in(live_server, tasks=False)
    first = gql(client, "{ pushPublicKey }")["data"]["pushPublicKey"]
    raw = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4))
    assert len(raw) == 65
    assert raw[0] == 4
    assert gql(client, "{ pushPublicKey }")["data"]["pushPublicKey"] == first


async def test_subscribe_lists_it_with_keys_sealed(
    live_server: LiveServer, push_service: PushStandIn
) -> None:
    _, client = await signed_in(live_server, tasks=False)
    browser = push_service.new_browser()
    payload = subscribe(client, browser, label="Firefox on the laptop")
    assert payload["errors"] == []
    assert payload["subscription"]["endpoint"] == browser.endpoint
    listed = gql(client, LIST)["data"]["pushSubscriptions"]
    assert [(s["endpoint"], s["deviceLabel"]) for s in listed] == [
        (browser.endpoint, "Firefox on the laptop")
    ]
    row = (
        await PushSubscription.select().where(PushSubscription.endpoint == browser.endpoint).first()
    )
    keys = browser.to_json()["keys"]
    assert keys["p256dh"] not in row["p256dh_enc"]
    assert row["p256dh_enc"].startswith("v1.")
    assert keys["auth"] not in row["auth_enc"]
    assert row["auth_enc"].startswith("v1.")
    # The same browser again: one row, still one subscription.
    assert subscribe(client, browser, label="renamed")["errors"] == []
    assert await _stored(browser.endpoint) == 1


async def test_malformed_partial_and_foreign_subscriptions_are_refused_and_not_stored(
    live_server: LiveServer, push_service: PushStandIn
) -> None:
    _, client = await signed_in(live_server, tasks=False)
    browser = push_service.new_browser()
    good = browser.to_json()

    bad_key = {**good, "keys": {"p256dh": "not-a-key", "auth": good["keys"]["auth"]}}
    result = gql(
        client,
        "mutation($s: PushSubscriptionInput!) { subscribePush(subscription: $s)"
        " { subscription { id } errors { code field } } }",
        s=bad_key,
    )
    assert result["data"]["subscribePush"]["errors"][0]["code"] == "INVALID_SUBSCRIPTION"

    short_auth = {**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": "AAAA"}}
    result = gql(
        client,
        "mutation($s: PushSubscriptionInput!) { subscribePush(subscription: $s)"
        " { errors { code field } } }",
        s=short_auth,
    )
    assert result["data"]["subscribePush"]["errors"] == [
        {"code": "INVALID_SUBSCRIPTION", "field": "subscription.keys.auth"}
    ]

    partial = {"endpoint": good["endpoint"], "expirationTime": None}  # no keys at all
    result = gql(
        client,
        "mutation($s: PushSubscriptionInput!) { subscribePush(subscription: $s)"
        " { errors { code } } }",
        s=partial,
    )
    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    for endpoint, code in (
        ("https://evil.example.com/push/abc", "ENDPOINT_NOT_ALLOWED"),
        ("http://10.0.0.7/push/abc", "ENDPOINT_NOT_ALLOWED"),
        ("https://fcm.googleapis.com.evil.example/x", "ENDPOINT_NOT_ALLOWED"),
        ("http://169.254.169.254/latest/meta-data", "ENDPOINT_NOT_ALLOWED"),
        ("file:///etc/passwd", "INVALID_SUBSCRIPTION"),
    ):
        result = gql(
            client,
            "mutation($s: PushSubscriptionInput!) { subscribePush("
            "subscription: $s) { errors { code field } } }",
            s={**good, "endpoint": endpoint},
        )
        errors = result["data"]["subscribePush"]["errors"]
        assert errors == [{"code": code, "field": "subscription.endpoint"}], endpoint
        assert await _stored(endpoint) == 0

    assert await _stored(good["endpoint"]) == 0
    assert gql(client, LIST)["data"]["pushSubscriptions"] == []


async def test_unsubscribe_known_and_unknown(
    live_server: LiveServer, push_service: PushStandIn
) -> None:
    _, client = await signed_in(live_server, tasks=False)
    _, other = await signed_in(live_server, tasks=False)
    browser = push_service.new_browser()
    assert subscribe(client, browser)["errors"] == []

    # Someone else cannot remove it (and learns nothing: the same answer as unknown).
    result = gql(other, UNSUBSCRIBE, e=browser.endpoint)["data"]["unsubscribePush"]
    assert result == {"ok": False, "errors": [{"code": "NOT_FOUND", "field": "endpoint"}]}
    assert await _stored(browser.endpoint) == 1

    result = gql(client, UNSUBSCRIBE, e=browser.endpoint)["data"]["unsubscribePush"]
    assert result == {"ok": True, "errors": []}
    assert await _stored(browser.endpoint) == 0
    again = gql(client, UNSUBSCRIBE, e=browser.endpoint)["data"]["unsubscribePush"]
    assert again["errors"][0]["code"] == "NOT_FOUND"


async def test_send_test_push_needs_a_subscription(live_server: LiveServer) -> None:
    _, client = await signed_in(live_server)
    result = gql(client, "mutation { sendTestPush { queued errors { code } } }")
    assert result["data"]["sendTestPush"] == {"queued": 0, "errors": [{"code": "NO_SUBSCRIPTION"}]}
