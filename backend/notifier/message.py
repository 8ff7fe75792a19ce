"""What one push carries: the tip as a notification shows it, its action tokens, and the
headers that tell the push service how long it matters and how urgent it is."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from backend.notifier import action_tokens
from backend.settings import get_settings

# RFC 8291: a push service must accept 4096 bytes of aes128gcm body; the header (86 bytes), the
# tag (16) and the padding delimiter (1) leave 3993 for the JSON. A margin for safety.
MAX_PLAINTEXT = 3900
SHORTENED_CONTENT = 140
TOPIC = "oo-tip"
"""One topic for every tip: a newer tip replaces an older one still waiting at the service."""


@dataclass(frozen=True)
class PushTip:
    """A tip as a push carries it (plain data: it travels in job arguments)."""

    id: str
    content: str
    kind: str
    expires_at: int
    """Unix seconds: when the tip stops being relevant (TTL, token expiry)."""
    due_now: bool
    """Due today or overdue: Urgency high."""
    enqueued_at: float = 0.0

    def as_job(self) -> dict[str, Any]:
        """The job argument."""
        return asdict(self)

    @classmethod
    def from_job(cls, raw: dict[str, Any]) -> PushTip:
        """From the job argument."""
        return cls(**raw)


def push_tip(
    tip_id: str,
    content: str,
    kind: str,
    served_at: datetime,
    due_date: str | None,
    today: date | None = None,
) -> PushTip:
    """A served tip as a push: relevant as long as the tip page would show it."""
    expires = served_at + timedelta(seconds=get_settings().tip_valid_s)
    today = today or datetime.now(UTC).date()
    due_now = False
    if due_date:
        try:
            due_now = date.fromisoformat(due_date[:10]) <= today
        except ValueError:
            due_now = False
    return PushTip(
        id=tip_id,
        content=content,
        kind=kind,
        expires_at=int(expires.timestamp()),
        due_now=due_now,
        enqueued_at=time.time(),
    )


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def payload(user_id: str, tip: PushTip, *, shortened: bool = False) -> bytes:
    """The JSON the service worker reads, at most MAX_PLAINTEXT bytes (the content is cut when
    needed; `shortened` cuts it hard, for a push service that answered 413)."""
    nonce = action_tokens.new_nonce()
    actions = {
        a: action_tokens.mint(user_id, tip.id, a, tip.expires_at, nonce)
        for a in action_tokens.ACTIONS
    }
    opened = action_tokens.mint(user_id, tip.id, action_tokens.OPEN, tip.expires_at, nonce)
    content = tip.content[:SHORTENED_CONTENT] if shortened else tip.content
    while True:
        body = {
            "v": 1,
            "tip": {"id": tip.id, "content": content, "kind": tip.kind},
            "actions": actions,
            "open": opened,
            "url": f"/tip?tip={tip.id}",
            "expires": tip.expires_at,
        }
        encoded = _encode(body)
        if len(encoded) <= MAX_PLAINTEXT:
            return encoded
        content = content[: max(0, len(content) - (len(encoded) - MAX_PLAINTEXT) - 1)] + "…"


def headers(tip: PushTip, now: float | None = None) -> tuple[int, dict[str, str]]:
    """(TTL seconds, the Urgency and Topic headers)."""
    ttl = max(0, tip.expires_at - int(time.time() if now is None else now))
    return ttl, {"Urgency": "high" if tip.due_now else "normal", "Topic": TOPIC}
