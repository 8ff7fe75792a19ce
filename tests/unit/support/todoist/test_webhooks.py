"""Self-test of the Todoist stand-in's webhooks: signature over the raw body, redelivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest

from tests.support.todoist_standin import TodoistStandIn

HOOK = "http://127.0.0.1:9/webhooks/todoist"


class Receiver:
    """The app's webhook endpoint, as far as the signature goes (bytes as they arrived)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.seen: list[httpx.Request] = []
        self.delivery_ids: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        raw = request.content
        expected = base64.b64encode(hmac.new(self.secret.encode(), raw, hashlib.sha256).digest())
        given = request.headers.get("x-todoist-hmac-sha256", "").encode()
        if not hmac.compare_digest(expected, given):
            return httpx.Response(403)
        self.delivery_ids.add(request.headers["x-todoist-delivery-id"])
        return httpx.Response(200)


def test_webhook_signature_over_raw_body(td: TodoistStandIn) -> None:
    ada = td.add_user("ada@example.com")
    task = td.add_task(ada, "café ☕ order")
    td.complete_task(task)
    receiver = Receiver(td.client_secret)
    with httpx.Client(transport=httpx.MockTransport(receiver)) as client:
        assert td.send_webhook(HOOK, "item:completed", task, client=client) == 200
        assert td.send_webhook(HOOK, "item:completed", task, tamper=True, client=client) == 403
        assert td.send_webhook(HOOK, "item:added", task, secret="other", client=client) == 403
        assert td.redeliver(td.webhooks[0], client=client) == 200
    first, forged, _, retried = receiver.seen
    assert first.content == retried.content
    assert first.headers["x-todoist-delivery-id"] == retried.headers["x-todoist-delivery-id"]
    assert len(receiver.delivery_ids) == 1
    assert first.headers["user-agent"] == "Todoist-Webhooks"
    assert "café ☕".encode() in first.content  # raw UTF-8, not \\u escapes
    body = json.loads(first.content)
    assert body["version"] == "1"
    assert body["user_id"] == ada.id
    assert body["event_name"] == "item:completed"
    assert body["initiator"]["email"] == "ada@example.com"
    assert body["event_data"]["id"] == task["id"]
    assert body["event_data"]["checked"] is True
    assert body["triggered_at"].endswith("Z")
    assert json.loads(forged.content) == body | {
        "triggered_at": json.loads(forged.content)["triggered_at"]
    }
    assert td.webhooks[0].statuses == [200, 200]
    assert td.close_calls == []  # completed "in the Todoist app", not through the API
    with pytest.raises(ValueError, match="unknown Todoist event"):
        td.webhook_request("item:exploded", task)


def test_webhook_over_real_http(http: httpx.Client, td: TodoistStandIn) -> None:
    task = td.add_task("ada@example.com", "x")
    # Nothing listens at this path of the stand-in itself: the status is what came back.
    assert td.send_webhook(f"{td.url}/no-webhook-here", "item:added", task) == 404
