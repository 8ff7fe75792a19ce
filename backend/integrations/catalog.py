"""The integrations a person can see on the Connect page, with their state in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.integrations import status
from backend.integrations.connect import is_configured
from backend.integrations.tables import DemoTask, WebhookEndpoint

CATALOG: tuple[tuple[str, str, str], ...] = (
    ("todoist", "Todoist", "Your tasks; done in oO closes them in Todoist."),
    ("google-calendar", "Google Calendar", "Busy or free: no long task right before a meeting."),
    ("webhook", "Any app (signed webhook)", "Push items to a secret URL, signed with HMAC-SHA256."),
    ("demo", "Demo tasks", "Synthetic tasks to try oO with."),
)


@dataclass(frozen=True)
class IntegrationView:
    """One row of the Connect page / the `integrations` query."""

    source: str
    name: str
    description: str
    configured: bool
    status: str
    last_sync_at: datetime | None
    items_seen: int
    error: str

    @property
    def connected(self) -> bool:
        """Items flow from it."""
        return self.status in status.ACTIVE

    @property
    def needs_reconnect(self) -> bool:
        """Only the person can fix it."""
        return self.status == status.NEEDS_RECONNECT


async def integrations_of(user_id: str) -> list[IntegrationView]:
    """Every integration with the person's state of it."""
    states = {s.source: s for s in await status.list_states(user_id)}
    has_demo = await DemoTask.exists().where(DemoTask.user == user_id)
    has_hook = await WebhookEndpoint.exists().where(WebhookEndpoint.user == user_id)
    views: list[IntegrationView] = []
    for source, name, description in CATALOG:
        state = states.get(source)
        if source == "demo":
            current = status.CONNECTED if has_demo else status.DISCONNECTED
        elif source == "webhook":
            current = status.CONNECTED if has_hook else status.DISCONNECTED
        else:
            current = state.status if state else status.DISCONNECTED
        views.append(
            IntegrationView(
                source=source,
                name=name,
                description=description,
                configured=source in ("demo", "webhook") or is_configured(source),
                status=current,
                last_sync_at=state.last_sync_at if state else None,
                items_seen=state.items_seen if state else 0,
                error=state.error if state else "",
            )
        )
    return views
