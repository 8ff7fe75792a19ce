"""Google Calendar as context (eligibility) and the generic signed-webhook source."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.integration.integrations.conftest import (
    background_sync_done,
    connect_todoist,
    gql,
    signed_in,
)
from tests.support.calendar_standin import GoogleCalendarStandIn
from tests.support.fixtures import LiveServer
from tests.support.idp_google import GoogleStandIn
from tests.support.todoist_standin import TodoistStandIn

TIP = "{ tip { id content source } }"


def sync(client: httpx.Client, source: str) -> dict[str, object]:
    q = "mutation($s: String!) { syncIntegration(source: $s) { integration { status } errors { code message } } }"
    return gql(client, q, s=source)["data"]["syncIntegration"]  # type: ignore[no-any-return]


def connect_calendar(
    server: LiveServer, google: GoogleStandIn, client: httpx.Client, email: str
) -> None:
    google.auto_approve = True
    google.next_account = email
    start = client.get("/integrations/google-calendar/connect")
    assert start.status_code == 302, start.text
    assert "calendar.readonly" in start.headers["location"]
    back = httpx.get(start.headers["location"], follow_redirects=False, timeout=60)
    assert back.status_code == 302, back.text
    assert client.get(back.headers["location"]).status_code == 303


async def test_no_long_task_right_before_a_meeting(
    integrations_server: LiveServer,
    todoist: TodoistStandIn,
    gcal: GoogleCalendarStandIn,
    google_idp: GoogleStandIn,
) -> None:
    user_id, client = await signed_in(integrations_server)
    email = f"c-{uuid.uuid4().hex[:8]}@example.com"
    account = todoist.add_user(email)
    todoist.add_task(account, "Deep work on the report", duration=(90, "minute"))
    todoist.add_task(account, "Reply to Sam", duration=(5, "minute"))
    connect_todoist(integrations_server, todoist, client, email)
    await background_sync_done(user_id, "todoist")
    assert sync(client, "todoist")["errors"] == []

    cal = gcal.add_user(email)
    now = datetime.now(UTC)
    gcal.add_event(cal, "Standup", now + timedelta(minutes=8), now + timedelta(minutes=20))
    gcal.add_event(
        cal,
        "Declined thing",
        now - timedelta(minutes=5),
        now + timedelta(minutes=30),
        declined=True,
    )
    connect_calendar(integrations_server, google_idp, client, email)
    await background_sync_done(user_id, "google-calendar")
    assert sync(client, "google-calendar")["errors"] == []

    tip = gql(client, TIP)["data"]["tip"]
    assert tip["content"] == "Reply to Sam"
    dismiss = "mutation($id: ID!) { feedback(tipId: $id, action: DISMISS, dwellMs: 1000) { errors { code } } }"
    assert gql(client, dismiss, id=tip["id"])["data"]["feedback"]["errors"] == []
    assert gql(client, TIP)["data"]["tip"] is None  # the long task waits for a free block


async def test_calendar_token_refresh_and_reconnect(
    integrations_server: LiveServer, gcal: GoogleCalendarStandIn, google_idp: GoogleStandIn
) -> None:
    from backend.identity.vault import get_credential

    user_id, client = await signed_in(integrations_server)
    email = f"r-{uuid.uuid4().hex[:8]}@example.com"
    gcal.add_user(email)
    connect_calendar(integrations_server, google_idp, client, email)
    # The connection's own first sync runs in the worker: let it finish, so it cannot refresh
    # the token between what this test expires, refreshes and expects to see revoked.
    await background_sync_done(user_id, "google-calendar")
    cred = await get_credential(user_id, "google-calendar")
    assert cred is not None
    assert cred.refresh_token is not None  # access_type=offline gave one
    gcal.expire_access_token(cred.access_token.reveal())
    assert sync(client, "google-calendar")["errors"] == []
    again = await get_credential(user_id, "google-calendar")
    assert again is not None
    assert again.access_token.reveal() != cred.access_token.reveal()
    # Disconnect revokes at Google and forgets the tokens (whatever tokens are current then).
    current = await get_credential(user_id, "google-calendar")
    assert current is not None
    body = gql(
        client,
        'mutation { disconnectIntegration(source: "google-calendar") { integration { status } } }',
    )
    assert body["data"]["disconnectIntegration"]["integration"]["status"] == "disconnected"
    assert await get_credential(user_id, "google-calendar") is None
    assert current.access_token.reveal() in google_idp.revoked or (
        current.refresh_token and current.refresh_token.reveal() in google_idp.revoked
    )


async def test_signed_webhook_source(integrations_server: LiveServer) -> None:
    _, client = await signed_in(integrations_server)
    page = client.post(
        "/integrations/webhook/create", data={"_csrf_token": client.cookies["csrftoken"]}
    )
    url = re.search(r"<code>(http[^<]+/webhooks/in/[^<]+)</code>", page.text)
    secret = re.search(r"<code>([A-Za-z0-9_\-]{30,})</code>", page.text)
    assert url
    assert secret
    body = json.dumps(
        {"items": [{"id": "a1", "content": "Pay the nursery fee", "priority": 4}]}
    ).encode()
    good = "sha256=" + hmac.new(secret.group(1).encode(), body, hashlib.sha256).hexdigest()
    assert (
        httpx.post(url.group(1), content=body, headers={"X-OO-Signature": "sha256=00"}).status_code
        == 401
    )
    accepted = httpx.post(url.group(1), content=body, headers={"X-OO-Signature": good})
    assert accepted.json() == {"accepted": 1}
    tip = gql(client, TIP)["data"]["tip"]
    assert tip == {"id": tip["id"], "content": "Pay the nursery fee", "source": "webhook"}
    bad = json.dumps({"items": [{"id": "a2"}]}).encode()
    sig = "sha256=" + hmac.new(secret.group(1).encode(), bad, hashlib.sha256).hexdigest()
    refused = httpx.post(url.group(1), content=bad, headers={"X-OO-Signature": sig})
    assert refused.status_code == 400
    assert "content" in refused.json()["error"]
