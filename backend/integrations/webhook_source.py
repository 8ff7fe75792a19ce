"""The generic signed-webhook source: any app can push items to a person's secret URL.

POST /webhooks/in/{slug} with header `X-OO-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`
and a JSON body `{"items": [{"id": "…", "content": "…", "priority": 1-4, "due_date": "YYYY-MM-DD",
"project": "…", "done": false}]}`. Items upsert by id; `done: true` removes one. There is no API to
read back, so the items live in Redis (the cache is this source's only copy), never the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import date
from typing import Any

from backend.contracts.candidate import Candidate
from backend.identity.vault import context_for, get_vault, register_encrypted_columns
from backend.integrations.tables import WebhookEndpoint
from backend.redis import get_redis, key

NAME = "webhook"
PREFIX = "webhook:"
MAX_ITEMS = 500


register_encrypted_columns(WebhookEndpoint, "secret_enc")  # re-sealed by `oo rotate-keys`


def _context(endpoint_id: str) -> str:
    return context_for(WebhookEndpoint, endpoint_id, "secret_enc")


async def create_endpoint(user_id: str) -> tuple[str, str]:
    """A new secret URL slug and its signing secret (shown once); replaces any old one."""
    await WebhookEndpoint.delete().where(WebhookEndpoint.user == user_id)
    slug = secrets.token_urlsafe(24)
    secret = secrets.token_urlsafe(32)
    row = WebhookEndpoint(user=user_id, slug=slug, secret_enc="")
    await row.save()
    sealed = get_vault().encrypt(secret, _context(str(row.id)))
    await WebhookEndpoint.update({WebhookEndpoint.secret_enc: sealed}).where(
        WebhookEndpoint.id == row.id
    )
    return slug, secret


async def verify(slug: str, body: bytes, signature: str | None) -> str | None:
    """The user id when the signature over the raw body is right (constant-time compare)."""
    row = await WebhookEndpoint.select().where(WebhookEndpoint.slug == slug).first()
    if row is None or not signature or not signature.startswith("sha256="):
        return None
    secret = get_vault().decrypt(row["secret_enc"], _context(str(row["id"])))
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.removeprefix("sha256=").encode()):
        return None
    return str(row["user"])


def _valid_item(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str | int):
        return None
    content = raw.get("content")
    if not isinstance(content, str) or not content.strip():
        return None
    due = raw.get("due_date")
    try:
        due_text = date.fromisoformat(due).isoformat() if isinstance(due, str) else None
    except ValueError:
        due_text = None
    priority = raw.get("priority")
    return {
        "id": str(raw["id"])[:100],
        "content": content.strip()[:500],
        "priority": priority if isinstance(priority, int) and 1 <= priority <= 4 else 1,
        "due_date": due_text,
        "project": str(raw.get("project") or "")[:100],
        "done": bool(raw.get("done")),
    }


async def ingest(user_id: str, payload: Any) -> int:
    """Apply a pushed batch; returns how many items it touched. Raises ValueError on bad shape."""
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise ValueError('the body must be {"items": [...]}')
    items = [i for i in (_valid_item(r) for r in payload["items"]) if i is not None]
    if len(items) != len(payload["items"]):
        raise ValueError("every item needs an id and a non-empty content")
    redis = get_redis()
    store = key("webhook-items", user_id)
    for item in items:
        if item["done"]:
            await redis.hdel(store, item["id"])  # type: ignore[misc]
        else:
            await redis.hset(store, item["id"], json.dumps(item))  # type: ignore[misc]
    if await redis.hlen(store) > MAX_ITEMS:  # type: ignore[misc]
        raise ValueError(f"at most {MAX_ITEMS} open items per person")
    return len(items)


class WebhookSource:
    """Items pushed to the person's secret URL."""

    name = NAME

    async def list_items(self, user_id: str) -> list[Candidate]:
        """The pushed, not-done items."""
        raw = await get_redis().hvals(key("webhook-items", user_id))  # type: ignore[misc]
        items = [json.loads(r) for r in raw]
        return [
            Candidate(
                item_ref=f"{PREFIX}{i['id']}",
                source=NAME,
                kind="task",
                content=i["content"],
                priority=i["priority"],
                due_date=date.fromisoformat(i["due_date"]) if i["due_date"] else None,
                project=i["project"],
                detail={"project": i["project"]},
            )
            for i in items
        ]

    async def complete(self, user_id: str, item_ref: str) -> bool:
        """Done in oO: drop it here (the pushing app learns through its own means)."""
        removed = await get_redis().hdel(  # type: ignore[misc]
            key("webhook-items", user_id), item_ref.removeprefix(PREFIX)
        )
        return bool(removed)
