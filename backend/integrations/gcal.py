"""Google Calendar (read-only) as context: busy now, minutes to the next event, free block.

Events are never stored: the context is computed from one bounded read and cached briefly.
All-day events do not block time (they mark days: holidays, birthdays) but are counted; events
the person declined and cancelled events are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from backend.identity.oidc import fetch_json
from backend.identity.vault import get_credential
from backend.integrations import tokens
from backend.integrations.errors import NeedsReconnect, RateLimited, SourceError
from backend.settings import get_settings

PROVIDER = "google-calendar"
SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
WINDOW = timedelta(hours=24)
_TIMEOUT = httpx.Timeout(10.0)


@dataclass(frozen=True)
class CalendarContext:
    """What the calendar says about now."""

    busy_now: bool
    next_event_at: datetime | None
    all_day_events: int

    def minutes_until_next(self, now: datetime) -> int | None:
        """Minutes from `now` to the next event's start (None: nothing in the next 24 h)."""
        if self.next_event_at is None:
            return None
        return max(0, int((self.next_event_at - now).total_seconds() // 60))

    def free_block_minutes(self, now: datetime) -> int | None:
        """Free minutes from now (0 when busy; None: free for the rest of the window)."""
        if self.busy_now:
            return 0
        return self.minutes_until_next(now)


def _when(value: Any) -> tuple[datetime | None, bool]:
    """(start/end as an aware datetime, is all-day)."""
    if not isinstance(value, dict):
        return None, False
    if isinstance(value.get("dateTime"), str):
        parsed = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), False
    if isinstance(value.get("date"), str):
        day = datetime.fromisoformat(value["date"]).replace(tzinfo=UTC)
        return day, True
    return None, False


def _declined(event: dict[str, Any]) -> bool:
    return any(
        a.get("self") and a.get("responseStatus") == "declined"
        for a in event.get("attendees") or []
    )


def compute_context(events: list[dict[str, Any]], now: datetime) -> CalendarContext:
    """Busy now / next event / all-day count from the raw events."""
    busy = False
    next_at: datetime | None = None
    all_day = 0
    for event in events:
        if event.get("status") == "cancelled" or _declined(event):
            continue
        start, is_all_day = _when(event.get("start"))
        end, _ = _when(event.get("end"))
        if start is None or end is None:
            continue
        if is_all_day:
            all_day += 1 if start <= now < end else 0
            continue
        if start <= now < end:
            busy = True
        elif start > now and (next_at is None or start < next_at):
            next_at = start
    return CalendarContext(busy_now=busy, next_event_at=next_at, all_day_events=all_day)


async def _token_endpoint() -> str:
    meta = await fetch_json(get_settings().google_discovery_url)
    return str(meta["token_endpoint"])


async def _refresh(user_id: str, refresh_token: str) -> str:
    s = get_settings()
    async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
        response = await http.post(
            await _token_endpoint(),
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": s.google_client_id,
                "client_secret": s.google_client_secret,
            },
        )
    if response.status_code >= 400:
        raise NeedsReconnect("Google Calendar no longer accepts oO's access. Reconnect it.")
    token = response.json()
    await store_token(user_id, token)
    return str(token["access_token"])


async def store_token(user_id: str, token: dict[str, Any]) -> None:
    """Keep a Calendar token response in the vault (Google sends refresh tokens only once)."""
    await tokens.store_token(user_id, PROVIDER, "primary", token, scopes=(SCOPE,))


async def fetch_events(user_id: str, now: datetime) -> list[dict[str, Any]]:
    """Upcoming events of the primary calendar (singleEvents, by start time), paged."""
    cred = await get_credential(user_id, PROVIDER)
    if cred is None:
        raise NeedsReconnect("Google Calendar is not connected.")
    token = cred.access_token.reveal()
    if cred.expires_at is not None and cred.expires_at - timedelta(seconds=60) <= now:
        if cred.refresh_token is None:
            raise NeedsReconnect("Google Calendar access expired. Reconnect it.")
        token = await _refresh(user_id, cred.refresh_token.reveal())
    url = f"{get_settings().google_calendar_api_url}/calendars/primary/events"
    params: dict[str, Any] = {
        "timeMin": now.isoformat(),
        "timeMax": (now + WINDOW).isoformat(),
        "singleEvents": "true",
        "orderBy": "startTime",
        "maxResults": 250,
    }
    events: list[dict[str, Any]] = []
    refreshed = False
    async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
        for _ in range(20):
            try:
                response = await http.get(
                    url, params=params, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError as err:
                raise SourceError("Google Calendar could not be reached.") from err
            if response.status_code == 401 and not refreshed and cred.refresh_token is not None:
                token = await _refresh(user_id, cred.refresh_token.reveal())
                refreshed = True
                continue
            if response.status_code == 401:
                raise NeedsReconnect("Google Calendar no longer accepts oO's access. Reconnect it.")
            if response.status_code == 429:
                raise RateLimited(float(response.headers.get("retry-after", "30") or 30))
            if response.status_code >= 400:
                raise SourceError(f"Google Calendar answered HTTP {response.status_code}.")
            body = response.json()
            events.extend(body.get("items") or [])
            if not body.get("nextPageToken"):
                break
            params["pageToken"] = body["nextPageToken"]
    return events
