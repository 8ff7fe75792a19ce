"""Sign in with Google and Apple over real HTTP against stand-in providers on 127.0.0.1."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.support.fixtures import LiveServer
from tests.support.idp import parse_form_post
from tests.support.idp_apple import AppleStandIn
from tests.support.idp_fixtures import ADMIN_EMAIL, ADMIN_TOKEN
from tests.support.idp_google import GoogleStandIn

ME = "{ me { id email name role } }"


def me(client: httpx.Client) -> dict[str, Any] | None:
    body = client.post("/graphql", json={"query": ME}).json()
    return body["data"]["me"] if body.get("data") else None


def google_round_trip(
    server: LiveServer, idp: GoogleStandIn, client: httpx.Client, email: str = "ada@example.com"
) -> str:
    """Start at our /auth/google/start and return our callback URL the provider redirects to."""
    idp.auto_approve = True
    idp.next_account = email
    start = client.get("/auth/google/start")
    assert start.status_code == 302
    authorize = start.headers["location"]
    assert authorize.startswith(idp.url)
    back = httpx.get(authorize, follow_redirects=False, timeout=60)
    assert back.status_code == 302, back.text
    callback = back.headers["location"]
    assert callback.startswith(f"{server.url}/auth/google/callback")
    return callback


def apple_form(
    server: LiveServer, idp: AppleStandIn, client: httpx.Client
) -> tuple[str, dict[str, str]]:
    """Start at our /auth/apple/start; return the form Apple would POST back (form_post)."""
    idp.auto_approve = True
    start = client.get("/auth/apple/start")
    assert start.status_code == 302
    page = httpx.get(start.headers["location"], follow_redirects=False, timeout=60)
    action, fields = parse_form_post(page.text)
    assert action == f"{server.url}/auth/apple/callback"
    return action, fields


def test_google_sign_in_with_pkce_and_nonce(
    signin_server: LiveServer, google_idp: GoogleStandIn
) -> None:
    client = signin_server.client()
    callback = google_round_trip(signin_server, google_idp, client)
    done = client.get(callback)
    assert done.status_code == 303
    assert done.headers["location"] == "/tip"
    person = me(client)
    assert person is not None
    assert person["email"] == "ada@example.com"
    authorize = next(p for m, path, p in google_idp.requests if path.endswith("/auth"))
    assert authorize["code_challenge_method"] == "S256"
    assert authorize["nonce"]
    token_call = next(p for m, path, p in google_idp.requests if path.endswith("/token"))
    assert token_call["code_verifier"]
    # Signing in again keeps the same person (sub is the stable key).
    client2 = signin_server.client()
    client2.get(google_round_trip(signin_server, google_idp, client2))
    again = me(client2)
    assert again is not None
    assert again["id"] == person["id"]


@pytest.mark.parametrize(
    "tamper", ["wrong_nonce", "expired", "wrong_audience", "bad_signature", "wrong_issuer"]
)
def test_bad_id_tokens_are_refused_without_a_session(
    signin_server: LiveServer, google_idp: GoogleStandIn, tamper: str
) -> None:
    client = signin_server.client()
    callback = google_round_trip(signin_server, google_idp, client)
    google_idp.tamper = tamper
    refused = client.get(callback)
    assert refused.status_code == 400
    assert "Sign-in did not complete" in refused.text
    assert "sid" not in client.cookies
    assert me(client) is None


def test_forged_state_is_refused(signin_server: LiveServer, google_idp: GoogleStandIn) -> None:
    client = signin_server.client()
    callback = google_round_trip(signin_server, google_idp, client)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged-" + query["state"][:10]
    refused = client.get(urlunsplit(parts._replace(query=urlencode(query))))
    assert refused.status_code == 400
    assert "unknown or has expired" in refused.text
    assert "sid" not in client.cookies


def test_replayed_code_is_refused(signin_server: LiveServer, google_idp: GoogleStandIn) -> None:
    first = signin_server.client()
    callback = google_round_trip(signin_server, google_idp, first)
    assert first.get(callback).status_code == 303
    old_code = parse_qs(urlsplit(callback).query)["code"][0]
    # A fresh, valid state with the already-used code: the provider refuses the code.
    second = signin_server.client()
    fresh = google_round_trip(signin_server, google_idp, second)
    parts = urlsplit(fresh)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["code"] = old_code
    refused = second.get(urlunsplit(parts._replace(query=urlencode(query))))
    assert refused.status_code == 400
    assert "sid" not in second.cookies
    # The same callback replayed as is: its state was used once already.
    assert first.get(callback).status_code == 400


def test_session_id_changes_at_sign_in(
    signin_server: LiveServer, google_idp: GoogleStandIn
) -> None:
    client = signin_server.client()
    page = client.get("/signin")
    csrf = client.cookies["csrftoken"]
    assert page.status_code == 200
    assert client.post("/auth/demo", data={"_csrf_token": csrf}).status_code == 303
    before = client.cookies["sid"]
    client.get(google_round_trip(signin_server, google_idp, client))
    after = client.cookies["sid"]
    assert after != before
    stale = httpx.post(
        f"{signin_server.url}/graphql", json={"query": ME}, cookies={"sid": before}, timeout=10
    ).json()
    assert stale["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_apple_first_and_second_sign_in_keep_the_name(
    signin_server: LiveServer, apple_idp: AppleStandIn
) -> None:
    client = signin_server.client()
    action, fields = apple_form(signin_server, apple_idp, client)
    assert "user" in fields  # first authorization carries the name
    done = client.post(action, data=fields)
    assert done.status_code == 303
    first = me(client)
    assert first is not None
    assert first["name"]
    assert first["email"] == "ada@example.com"

    client2 = signin_server.client()
    action, fields = apple_form(signin_server, apple_idp, client2)
    assert "user" not in fields  # Apple sends the name only once
    assert client2.post(action, data=fields).status_code == 303
    second = me(client2)
    assert second == first


def test_apple_private_relay_email_is_accepted(
    signin_server: LiveServer, apple_idp: AppleStandIn
) -> None:
    relay = next(e for e in apple_idp.accounts if e.endswith("@privaterelay.appleid.com"))
    apple_idp.next_account = relay
    client = signin_server.client()
    action, fields = apple_form(signin_server, apple_idp, client)
    assert client.post(action, data=fields).status_code == 303
    person = me(client)
    assert person is not None
    assert person["email"] == relay


def test_apple_callback_with_forged_state_is_refused(
    signin_server: LiveServer, apple_idp: AppleStandIn
) -> None:
    client = signin_server.client()
    action, fields = apple_form(signin_server, apple_idp, client)
    refused = client.post(action, data={**fields, "state": "forged"})
    assert refused.status_code == 400
    assert "sid" not in client.cookies


def test_admin_seed_email_becomes_admin(
    signin_server: LiveServer, google_idp: GoogleStandIn
) -> None:
    client = signin_server.client()
    client.get(google_round_trip(signin_server, google_idp, client, email=ADMIN_EMAIL))
    person = me(client)
    assert person is not None
    assert person["role"] == "admin"
    other = signin_server.client()
    other.get(google_round_trip(signin_server, google_idp, other, email="ada@example.com"))
    assert (me(other) or {}).get("role") == "user"


def test_admin_token_sign_in(signin_server: LiveServer) -> None:
    client = signin_server.client()
    wrong = client.post("/auth/token", data={"token": "nope"})
    assert wrong.status_code == 401
    assert "sid" not in client.cookies
    ok = client.post("/auth/token", data={"token": ADMIN_TOKEN})
    assert ok.status_code == 303
    person = me(client)
    assert person is not None
    assert person["email"] == ADMIN_EMAIL
    assert person["role"] == "admin"


def test_unconfigured_provider_says_what_to_set(live_server: LiveServer) -> None:
    page = httpx.get(f"{live_server.url}/auth/google/start", timeout=60)
    assert page.status_code == 400
    assert "GOOGLE_CLIENT_ID" in page.text
    signin = httpx.get(f"{live_server.url}/signin", timeout=60).text
    assert "Continue with Google" not in signin
