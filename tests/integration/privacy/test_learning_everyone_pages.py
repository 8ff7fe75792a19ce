"""Learning from everyone on the pages, over real HTTP: the settings switch asks in plain words,
starts off, and the data page says whether the person contributes."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import httpx

from backend.identity.service import create_sign_in_link
from tests.support.fixtures import LiveServer, make_person

NOT_CONTRIBUTING = "You do not contribute"
CONTRIBUTING = "You contribute:"


async def _signed_in(server: LiveServer) -> tuple[httpx.Client, str]:
    person = await make_person()
    link = await create_sign_in_link(person.user_id)
    client = server.client(follow_redirects=False)
    assert client.get(urlparse(link).path).status_code == 303
    page = client.get("/settings")
    assert page.status_code == 200
    token = re.search(r'"x-csrftoken": "([^"]+)"', page.text)
    assert token
    return client, token.group(1)


def _switch(html: str) -> str:
    card = html.split('id="learning-everyone"', 1)[1].split("</article>", 1)[0]
    return " ".join(card.split())  # as read: line breaks of the template are spaces


def _flip(client: httpx.Client, token: str, granted: bool) -> str:
    data = {"key": "learning.everyone", **({"granted": "on"} if granted else {})}
    response = client.post(
        "/settings/consent", data=data, headers={"hx-request": "true", "x-csrftoken": token}
    )
    assert response.status_code == 200, response.text
    return response.text


def _data_text(client: httpx.Client) -> str:
    page = client.get("/data")
    assert page.status_code == 200
    text = page.text.split('id="learning-everyone"', 1)[1].split("</p>", 1)[0]
    return " ".join(text.split())


async def test_the_switch_starts_off_and_the_data_page_follows_it(
    live_server: LiveServer,
) -> None:
    client, token = await _signed_in(live_server)
    switch = _switch(client.get("/settings").text)
    assert "checked" not in switch
    assert "helps train the model that picks first tips for everyone" in switch
    assert NOT_CONTRIBUTING in _data_text(client)

    on = _switch(_flip(client, token, granted=True))
    assert "checked" in on
    assert "On: you contribute." in on
    assert CONTRIBUTING in _data_text(client)

    off = _switch(_flip(client, token, granted=False))
    assert "checked" not in off
    text = _data_text(client)
    assert NOT_CONTRIBUTING in text
    assert CONTRIBUTING not in text
