"""The account page over real HTTP: tokens shown once and revoked at once; sessions signed out."""

from __future__ import annotations

import re

import httpx

from tests.support.fixtures import LiveServer, make_person

ME = {"query": "{ me { id } }"}


async def _signed_in(server: LiveServer, user_id: str) -> httpx.Client:
    from backend.identity.service import create_sign_in_link

    link = await create_sign_in_link(user_id)
    client = server.client()
    client.get(link.replace("http://127.0.0.1:8000", server.url))
    assert "sid" in client.cookies
    return client


def _csrf(client: httpx.Client) -> dict[str, str]:
    return {"_csrf_token": client.cookies["csrftoken"]}


async def test_token_is_shown_once_and_revocation_is_immediate(live_server: LiveServer) -> None:
    person = await make_person(tasks=False)
    client = await _signed_in(live_server, person.user_id)
    assert client.get("/account").status_code == 200
    created = client.post("/account/tokens", data={"name": "my script", **_csrf(client)})
    match = re.search(r'id="new-token">(oo_pat_[^<]+)<', created.text)
    assert match, "the new token is on the page"
    secret = match.group(1)
    bearer = {"Authorization": f"Bearer {secret}"}
    body = httpx.post(f"{live_server.url}/graphql", json=ME, headers=bearer, timeout=60).json()
    assert body["data"]["me"]["id"] == person.user_id
    again = client.get("/account").text
    assert secret not in again  # shown once only
    token_id = re.search(r"/account/tokens/([0-9a-f-]{36})/revoke", again)
    assert token_id
    client.post(f"/account/tokens/{token_id.group(1)}/revoke", data=_csrf(client))
    refused = httpx.post(f"{live_server.url}/graphql", json=ME, headers=bearer, timeout=60).json()
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_empty_token_name_is_refused_with_a_message(live_server: LiveServer) -> None:
    person = await make_person(tasks=False)
    client = await _signed_in(live_server, person.user_id)
    page = client.post("/account/tokens", data={"name": "  ", **_csrf(client)})
    assert "Give the token a name." in page.text
    assert "oo_pat_" not in page.text


async def test_signing_out_another_session(live_server: LiveServer) -> None:
    person = await make_person(tasks=False)
    laptop = await _signed_in(live_server, person.user_id)
    phone = await _signed_in(live_server, person.user_id)
    page = laptop.get("/account").text
    others = re.findall(r"/account/sessions/([0-9a-f]{32})/revoke", page)
    assert len(others) == 1  # the phone; the current session has no button
    laptop.post(f"/account/sessions/{others[0]}/revoke", data=_csrf(laptop))
    gone = phone.post("/graphql", json=ME).json()
    assert gone["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    still = laptop.post("/graphql", json=ME).json()
    assert still["data"]["me"]["id"] == person.user_id


async def test_form_without_csrf_token_is_refused(live_server: LiveServer) -> None:
    person = await make_person(tasks=False)
    client = await _signed_in(live_server, person.user_id)
    refused = client.post("/account/tokens", data={"name": "sneaky"})
    assert refused.status_code == 403
    assert "oo_pat_" not in refused.text
