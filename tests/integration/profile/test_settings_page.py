"""The settings page over real HTTP: inferred values and their evidence, overrides, consents
as switches, contexts."""

from __future__ import annotations

import re

import httpx

from backend.identity.service import create_sign_in_link
from backend.profile.runner import run_agent
from tests.integration.profile.helpers import awake_times, give_completions
from tests.support.fixtures import LiveServer, make_person


async def _signed_in(server: LiveServer) -> tuple[httpx.Client, str, str]:
    person = await make_person()
    await give_completions(person.user_id, awake_times(days=3))
    await run_agent(person.user_id, "time-of-day")
    link = await create_sign_in_link(person.user_id)
    client = server.client(follow_redirects=False)
    path = "/auth/link/" + link.rsplit("/auth/link/", 1)[1]  # our base URL, their server
    assert client.get(path).status_code == 303
    page = client.get("/settings")
    assert page.status_code == 200
    token = re.search(r'"x-csrftoken": "([^"]+)"', page.text)
    assert token
    return client, token.group(1), page.text


def _post(client: httpx.Client, token: str, path: str, data: dict[str, object]) -> str:
    response = client.post(path, data=data, headers={"hx-request": "true", "x-csrftoken": token})
    assert response.status_code == 200, response.text
    return response.text


def _param(html: str, agent: str, key: str) -> str:
    card = html.split(f'id="agent-{agent}"', 1)[1].split("</article>", 1)[0]
    return card.split(f'data-key="{key}"', 1)[1].split("</li>", 1)[0]


async def test_settings_show_override_reset_consent_and_contexts(
    live_server: LiveServer,
) -> None:
    client, token, page = await _signed_in(live_server)
    quiet = _param(page, "time-of-day", "quiet_start")
    assert 'type="time"' in quiet
    assert 'value="23:00"' in quiet
    assert "worked out from 48 events" in quiet
    assert "default — not enough history yet" in _param(page, "momentum", "stdev")
    assert 'name="viewport"' in page

    html = _post(
        client,
        token,
        "/settings/preference",
        {"agent": "time-of-day", "key": "quiet_start", "value": "21:00", "action": "set"},
    )
    assert html.lstrip().startswith('<section id="agents"')  # the fragment only
    assert "set by you" in _param(html, "time-of-day", "quiet_start")
    assert 'value="21:00"' in _param(html, "time-of-day", "quiet_start")

    bad = _post(
        client,
        token,
        "/settings/preference",
        {"agent": "time-of-day", "key": "quiet_start", "value": "late", "action": "set"},
    )
    refused = _param(bad, "time-of-day", "quiet_start")
    assert "Your quiet time starts: must be an hour from 0 to 23." in refused  # in place
    assert 'value="late"' in refused
    assert 'aria-invalid="true"' in refused
    assert "now 21:00" in refused  # and nothing stored from it

    reset = _post(
        client,
        token,
        "/settings/preference",
        {"agent": "time-of-day", "key": "quiet_start", "value": "", "action": "reset"},
    )
    assert "worked out from 48 events" in _param(reset, "time-of-day", "quiet_start")

    # Peak hours are chips (one checkbox per hour), several values in one post.
    peaks = _post(
        client,
        token,
        "/settings/preference",
        {"agent": "time-of-day", "key": "peak_hours", "value": ["9", "14"], "action": "set"},
    )
    chips = _param(peaks, "time-of-day", "peak_hours")
    assert "now 09:00, 14:00" in chips
    assert 'value="9" checked' in chips
    assert 'value="14" checked' in chips

    off = _post(client, token, "/settings/consent", {"key": "agent.time-of-day"})
    card = off.split('id="agent-time-of-day"', 1)[1].split("</article>", 1)[0]
    assert "Off: you switched it off." in card
    assert "checked" not in card.split("</form>", 1)[0]
    on = _post(client, token, "/settings/consent", {"key": "agent.time-of-day", "granted": "on"})
    assert "Off:" not in on.split('id="agent-time-of-day"', 1)[1].split("</article>")[0]

    ctx = _post(
        client,
        token,
        "/settings/context",
        {
            "name": "holiday",
            "agents": ["momentum", "focus-area"],
            "kinds": "task",
            "action": "save",
        },
    )
    assert 'data-context="holiday" data-active="false"' in ctx
    assert "Quiets: Momentum, Focus area, Tasks" in ctx
    active = _post(client, token, "/settings/context", {"name": "holiday", "action": "activate"})
    assert 'data-context="holiday" data-active="true"' in active
    empty = _post(
        client,
        token,
        "/settings/context",
        {"name": "  ", "agents": "momentum", "kinds": "advice", "action": "save"},
    )
    assert "A context name has 1 to 60 characters." in empty
    form = empty.split('class="stack context-form"', 1)[1]
    assert 'value="momentum" checked' in form
    assert 'value="advice" checked' in form
    client.close()


def test_settings_needs_sign_in(live_server: LiveServer) -> None:
    with live_server.client(follow_redirects=False) as client:
        response = client.get("/settings")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
