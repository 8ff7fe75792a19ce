"""Signed webhook deliveries the Todoist stand-in sends to the app (and redelivers)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from tests.support.todoist.model import (
    ITEM_EVENTS,
    TodoistAccount,
    WebhookDelivery,
    todoist_time,
    webhook_signature,
)
from tests.support.todoist.state import TodoistState


class TodoistWebhooks(TodoistState):
    """Builds, signs, sends and resends webhook deliveries (kept in ``webhooks``)."""

    def webhook_request(
        self,
        event_name: str,
        task: dict[str, Any],
        user_id: str | None = None,
        delivery_id: str | None = None,
        secret: str | None = None,
        tamper: bool = False,
    ) -> tuple[bytes, dict[str, str]]:
        """(raw body, headers) of a Todoist webhook delivery, for tests posting it themselves.

        The body is compact JSON with non-ASCII kept as UTF-8, so an app that re-serialises
        the parsed JSON before checking the signature fails, as it would with Todoist.
        ``tamper`` signs a different body than the one returned (a forgery).
        """
        if not (event_name in ITEM_EVENTS or event_name.split(":")[0] in ("note", "project")):
            raise ValueError(f"unknown Todoist event {event_name!r}")
        owner = self._owner(task)
        uid = user_id or (owner.id if owner else str(task.get("user_id", "")))
        initiator = {
            "id": uid,
            "email": owner.email if owner else "",
            "full_name": owner.full_name if owner else "",
            "image_id": None,
            "is_premium": False,
        }
        payload = {
            "version": "1",
            "user_id": uid,
            "initiator": initiator,
            "event_name": event_name,
            "event_data": task,
            "triggered_at": todoist_time(self.clock()),
        }
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        signed = body
        if tamper:
            forged = {**payload, "event_data": {**task, "content": f"{task.get('content')}!"}}
            signed = json.dumps(forged, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Todoist-Webhooks",
            "X-Todoist-Hmac-SHA256": webhook_signature(secret or self.client_secret, signed),
            "X-Todoist-Delivery-ID": delivery_id or str(uuid.uuid4()),
        }
        return body, headers

    def send_webhook(
        self,
        target_url: str,
        event_name: str,
        task: dict[str, Any],
        user_id: str | None = None,
        delivery_id: str | None = None,
        secret: str | None = None,
        tamper: bool = False,
        client: httpx.Client | None = None,
    ) -> int:
        """POST a signed webhook to ``target_url``; the HTTP status the app answered.

        ``client``: send with this httpx client (e.g. one with a ``MockTransport``) instead of
        a fresh one. The delivery is kept in ``webhooks`` (see ``redeliver``).
        """
        body, headers = self.webhook_request(event_name, task, user_id, delivery_id, secret, tamper)
        delivery = WebhookDelivery(
            headers["X-Todoist-Delivery-ID"], event_name, target_url, body, headers
        )
        self.webhooks.append(delivery)
        return self._deliver(delivery, client)

    def redeliver(
        self, delivery: WebhookDelivery | None = None, client: httpx.Client | None = None
    ) -> int:
        """Send a delivery (default: the last) again, byte for byte with the same
        X-Todoist-Delivery-ID, as Todoist retries a non-200 answer."""
        return self._deliver(delivery or self.webhooks[-1], client)

    def _deliver(self, delivery: WebhookDelivery, client: httpx.Client | None) -> int:
        if client is None:
            with httpx.Client(timeout=60, trust_env=False) as own:
                return self._deliver(delivery, own)
        resp = client.post(delivery.target_url, content=delivery.body, headers=delivery.headers)
        delivery.statuses.append(resp.status_code)
        return resp.status_code

    def _owner(self, task: dict[str, Any]) -> TodoistAccount | None:
        for acct in self.accounts.values():
            if task.get("id") in acct.tasks:
                return acct
        return None
