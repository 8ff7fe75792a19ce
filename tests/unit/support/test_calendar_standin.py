"""Self-test of the Google Calendar stand-in, driven with plain httpx as the app would."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.support.calendar_standin import GoogleCalendarStandIn
from tests.support.idp_google import CALENDAR_SCOPE, GoogleStandIn
from tests.unit.support.client import GOOGLE_CB

T0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)


def events_url(gcal: GoogleCalendarStandIn) -> str:
    return f"{gcal.url}/calendar/v3/calendars/primary/events"


def window(hours: int = 24, **extra: Any) -> dict[str, Any]:
    return {
        "timeMin": T0.isoformat(),
        "timeMax": (T0 + timedelta(hours=hours)).isoformat(),
        "singleEvents": "true",
        "orderBy": "startTime",
        **extra,
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_paging_window_declined_and_all_day(
    http: httpx.Client, gcal: GoogleCalendarStandIn
) -> None:
    me = gcal.add_user("ada@example.com")
    gcal.add_event(me, "yesterday", T0 - timedelta(hours=20), T0 - timedelta(hours=19))
    gcal.add_event(me, "tomorrow+", T0 + timedelta(hours=30))
    gcal.add_event(me, "late", T0 + timedelta(hours=5))  # added out of order
    gcal.add_event(me, "ongoing", T0 - timedelta(minutes=30), T0 + timedelta(minutes=30))
    declined = gcal.add_event(me, "skip me", T0 + timedelta(hours=2), declined=True)
    holiday = gcal.add_event(me, "holiday", date(2025, 3, 10), all_day=True)
    gcal.add_event(me, "standup", T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=15))
    gcal.add_event(me, "cancelled", T0 + timedelta(hours=3), status="cancelled")
    auth = bearer(gcal.issue_token(me))

    items: list[dict[str, Any]] = []
    token: str | None = None
    pages = 0
    while True:
        params = window(maxResults=2, **({"pageToken": token} if token else {}))
        resp = http.get(events_url(gcal), params=params, headers=auth)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["kind"] == "calendar#events"
        items.extend(body["items"])
        pages += 1
        token = body.get("nextPageToken")
        if token is None:
            assert "nextPageToken" not in body  # absent, never null
            break
    assert pages == 3
    assert [e["summary"] for e in items] == ["holiday", "ongoing", "standup", "skip me", "late"]
    assert holiday["start"] == {"date": "2025-03-10"}
    assert holiday["end"] == {"date": "2025-03-11"}
    assert "attendees" not in items[1]
    me_in_declined = [a for a in declined["attendees"] if a.get("self")]
    assert me_in_declined == [
        {"email": "ada@example.com", "self": True, "responseStatus": "declined"}
    ]
    assert items[1]["start"] == {"dateTime": "2025-03-10T07:30:00Z", "timeZone": "UTC"}
    assert {"id", "status", "summary", "start", "end"} <= set(items[0])
    assert all(c.user == "ada@example.com" for c in gcal.calls("GET"))

    shown = http.get(events_url(gcal), params=window(showDeleted="true"), headers=auth).json()
    assert "cancelled" in [e["summary"] for e in shown["items"]]


def test_time_zones(http: httpx.Client, gcal: GoogleCalendarStandIn) -> None:
    me = gcal.add_user("ada@example.com", time_zone="Europe/Paris")
    meeting = gcal.add_event(me, "paris", datetime(2025, 3, 10, 10, 0))  # naive: calendar zone
    assert meeting["start"] == {"dateTime": "2025-03-10T10:00:00+01:00", "timeZone": "Europe/Paris"}
    gcal.add_event(me, "day", date(2025, 3, 11), all_day=True)
    auth = bearer(gcal.issue_token(me))
    # 2025-03-10T23:30Z is already the 11th in Paris: the all-day event has begun.
    params = {"timeMin": "2025-03-10T23:30:00Z", "timeMax": "2025-03-10T23:45:00Z"}
    got = http.get(events_url(gcal), params=params, headers=auth).json()
    assert [e["summary"] for e in got["items"]] == ["day"]
    assert got["timeZone"] == "Europe/Paris"


def test_query_rules(http: httpx.Client, gcal: GoogleCalendarStandIn) -> None:
    auth = bearer(gcal.issue_token("ada@example.com"))
    url = events_url(gcal)
    no_offset = http.get(url, params={"timeMin": "2025-03-10T08:00:00"}, headers=auth)
    assert no_offset.status_code == 400
    assert no_offset.json()["error"]["code"] == 400
    raw_plus = f"{url}?timeMin=2025-03-10T08:00:00+01:00"  # "+" unencoded arrives as a space
    assert http.get(raw_plus, headers=auth).status_code == 400
    assert http.get(url, params={"orderBy": "startTime"}, headers=auth).status_code == 400
    empty = {"timeMin": T0.isoformat(), "timeMax": T0.isoformat()}
    assert http.get(url, params=empty, headers=auth).json()["error"]["errors"][0]["reason"] == (
        "timeRangeEmpty"
    )
    assert http.get(url, params={"pageToken": "made-up"}, headers=auth).status_code == 400
    other = f"{gcal.url}/calendar/v3/calendars/someone%40example.com/events"
    assert http.get(other, headers=auth).status_code == 404
    mine = f"{gcal.url}/calendar/v3/calendars/ada%40example.com/events"
    assert http.get(mine, headers=auth).status_code == 200


def test_auth_failures_and_fail_next(http: httpx.Client, gcal: GoogleCalendarStandIn) -> None:
    token = gcal.issue_token("ada@example.com")
    url = events_url(gcal)
    assert http.get(url).status_code == 401
    missing = http.get(url, headers=bearer("nope"))
    assert missing.status_code == 401
    assert missing.json()["error"]["status"] == "UNAUTHENTICATED"
    wrong_scope = bearer(gcal.issue_token("ada@example.com", scope="openid email"))
    forbidden = http.get(url, headers=wrong_scope)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"
    gcal.fail_next(429, retry_after=3)
    limited = http.get(url, headers=bearer(token))
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")
    assert limited.json()["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    gcal.fail_next(500)
    assert http.get(url, headers=bearer(token)).status_code == 500
    assert http.get(url, headers=bearer(token)).status_code == 200
    gcal.expire_access_token(token)
    assert http.get(url, headers=bearer(token)).status_code == 401


def google_calendar_connect(http: httpx.Client, google: GoogleStandIn) -> dict[str, Any]:
    """The app's "connect Calendar" flow against the Google stand-in (no openid scope)."""
    verifier = secrets.token_urlsafe(48)
    resp = http.get(
        google.authorize_url(
            GOOGLE_CB,
            scope=CALENDAR_SCOPE,
            state="cal-1",
            access_type="offline",
            prompt="consent",
            include_granted_scopes="true",
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
    )
    assert resp.status_code == 302, resp.text
    code = parse_qs(urlsplit(resp.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": GOOGLE_CB,
        "code_verifier": verifier,
        "client_id": google.client_id,
        "client_secret": google.client_secret,
    }
    token = http.post(f"{google.url}/token", data=form)
    assert token.status_code == 200, token.text
    body: dict[str, Any] = token.json()
    return body


def test_tokens_from_the_google_stand_in(
    http: httpx.Client, google: GoogleStandIn, gcal: GoogleCalendarStandIn
) -> None:
    google.next_account = "grace@example.com"
    gcal.add_event("grace@example.com", "1:1", T0 + timedelta(hours=1))
    token = google_calendar_connect(http, google)
    assert token["refresh_token"]
    assert CALENDAR_SCOPE in token["scope"].split()
    url = events_url(gcal)
    got = http.get(url, params=window(), headers=bearer(token["access_token"]))
    assert got.status_code == 200, got.text
    assert [e["summary"] for e in got.json()["items"]] == ["1:1"]

    gcal.expire_access_token(token["access_token"])
    assert http.get(url, headers=bearer(token["access_token"])).status_code == 401
    form = {
        "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"],
        "client_id": google.client_id,
        "client_secret": google.client_secret,
    }
    fresh = http.post(f"{google.url}/token", data=form).json()
    assert http.get(url, headers=bearer(fresh["access_token"])).status_code == 200

    assert http.post(f"{google.url}/revoke", data={"token": token["refresh_token"]}).is_success
    assert http.get(url, headers=bearer(fresh["access_token"])).status_code == 401


@pytest.mark.usefixtures("gcal")
def test_sign_in_token_without_calendar_scope_is_forbidden(
    http: httpx.Client, google: GoogleStandIn, gcal_server: GoogleCalendarStandIn
) -> None:
    verifier = secrets.token_urlsafe(48)
    resp = http.get(
        google.authorize_url(
            GOOGLE_CB,
            state="s",
            nonce="n",
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
    )
    code = parse_qs(urlsplit(resp.headers["location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": GOOGLE_CB}
    form |= {"code_verifier": verifier, "client_id": google.client_id}
    form["client_secret"] = google.client_secret
    token = http.post(f"{google.url}/token", data=form).json()
    got = http.get(events_url(gcal_server), headers=bearer(token["access_token"]))
    assert got.status_code == 403


def test_env(gcal_env: dict[str, str], gcal: GoogleCalendarStandIn) -> None:
    assert gcal_env == {"GOOGLE_CALENDAR_API_URL": f"{gcal.url}/calendar/v3"}
