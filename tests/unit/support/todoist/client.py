"""What the Todoist stand-in self-tests share: the callback URI and the app's side of OAuth."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.todoist_standin import TodoistStandIn

CB = "http://127.0.0.1:9/integrations/todoist/callback"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def connect(http: httpx.Client, td: TodoistStandIn, state: str = "st-1") -> dict[str, str]:
    """Authorize (auto-approved) and exchange the code, as the app's connect flow does."""
    td.auto_approve = True
    query = {"client_id": td.client_id, "scope": "data:read_write", "state": state}
    resp = http.get(f"{td.url}/oauth/authorize", params=query)
    assert resp.status_code == 302, resp.text
    code = parse_qs(urlsplit(resp.headers["location"]).query)["code"][0]
    form = {"client_id": td.client_id, "client_secret": td.client_secret, "code": code}
    token = http.post(f"{td.url}/oauth/access_token", data=form)
    assert token.status_code == 200, token.text
    body: dict[str, str] = token.json()
    return body


def refresh(http: httpx.Client, td: TodoistStandIn, refresh_token: str) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": td.client_id,
        "client_secret": td.client_secret,
    }
    return http.post(f"{td.url}/oauth/access_token", data=form)
