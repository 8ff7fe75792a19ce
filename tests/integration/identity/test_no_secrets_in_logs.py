"""The server's logs never contain a token or secret, whatever happened during sign-in and use."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.integration.identity.test_signin import apple_form, google_round_trip
from tests.support.fixtures import LiveServer, make_person
from tests.support.idp_apple import AppleStandIn
from tests.support.idp_fixtures import ADMIN_TOKEN
from tests.support.idp_google import GoogleStandIn


async def test_logs_hold_no_tokens_or_secrets(
    signin_server: LiveServer, google_idp: GoogleStandIn, apple_idp: AppleStandIn
) -> None:
    from backend.identity.service import create_api_token, create_sign_in_link

    secrets: set[str] = {
        ADMIN_TOKEN,
        google_idp.client_secret,
        apple_idp.private_pem.splitlines()[1],
    }

    # Personal token: used, then a wrong one.
    person = await make_person()
    _, token = await create_api_token(person.user_id, "log-test")
    secrets.add(token)
    for bearer in (token, token + "x"):
        httpx.post(
            f"{signin_server.url}/graphql",
            json={"query": "{ me { id } tip { id } }"},
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=60,
        )
    # One-time link, used twice.
    link = await create_sign_in_link(person.user_id)
    secrets.add(link.rsplit("/", 1)[1])
    link_client = signin_server.client()
    link_client.get(link.replace("http://127.0.0.1:8000", signin_server.url))
    link_client.get(link.replace("http://127.0.0.1:8000", signin_server.url))

    # Google and Apple sign-ins, including a refused one.
    client = signin_server.client()
    callback = google_round_trip(signin_server, google_idp, client)
    secrets.add(callback.split("code=")[1].split("&")[0])
    client.get(callback)
    secrets.add(client.cookies["sid"])
    bad = signin_server.client()
    bad_callback = google_round_trip(signin_server, google_idp, bad)
    google_idp.tamper = "expired"
    bad.get(bad_callback)
    google_idp.tamper = None
    apple_client = signin_server.client()
    action, fields = apple_form(signin_server, apple_idp, apple_client)
    secrets.update({fields["code"], fields["id_token"]})
    apple_client.post(action, data=fields)
    secrets.add(apple_client.cookies["sid"])
    for issued in [*google_idp.tokens, *apple_idp.tokens]:  # what the providers handed out
        secrets.add(issued.access_token)
        if issued.refresh_token:
            secrets.add(issued.refresh_token)

    log_text = Path(signin_server.log).read_text(errors="replace")
    assert "/graphql" in log_text  # the access log is on: the test reads real log lines
    leaked = sorted(s for s in secrets if s and len(s) >= 8 and s in log_text)
    assert not leaked, f"secrets found in the server log: {[s[:6] + '…' for s in leaked]}"
