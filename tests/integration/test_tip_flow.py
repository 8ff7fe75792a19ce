"""Sign in as demo → tip → feedback → next tip, over real HTTP against `oo serve`."""

from __future__ import annotations

import re

import httpx

from tests.support.fixtures import LiveServer

TIP = "query { tip { id content kind source servedAt project } }"
FEEDBACK = """
mutation($tipId: ID!, $action: FeedbackAction!, $dwellMs: Int) {
  feedback(tipId: $tipId, action: $action, dwellMs: $dwellMs) {
    reward
    tip { id }
    nextTip { id content }
    errors { code message field }
  }
}
"""


def _demo_session(server: LiveServer) -> httpx.Client:
    client = server.client(follow_redirects=False)
    page = client.get("/signin")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token, "sign-in page carries a CSRF token"
    response = client.post("/auth/demo", data={"_csrf_token": token.group(1)})
    assert response.status_code == 303
    assert response.headers["location"] == "/tip"
    assert "sid" in client.cookies
    return client


def gql(client: httpx.Client, query: str, **variables: object) -> dict[str, object]:
    # Cookie sessions echo the CSRF cookie in a header for mutations, as the pages do.
    headers = {"x-csrftoken": client.cookies.get("csrftoken", "")}
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_demo_tip_feedback_next_tip(live_server: LiveServer) -> None:
    client = _demo_session(live_server)
    first = gql(client, TIP)["data"]["tip"]  # type: ignore[index]
    assert first["kind"] == "TASK"
    assert first["source"] == "demo"
    # Stable on reload: the same tip until answered.
    assert gql(client, TIP)["data"]["tip"]["id"] == first["id"]  # type: ignore[index]

    result = gql(client, FEEDBACK, tipId=first["id"], action="DONE", dwellMs=40_000)
    payload = result["data"]["feedback"]  # type: ignore[index]
    assert payload["errors"] == []
    assert payload["reward"] == 1.0
    assert payload["tip"]["id"] == first["id"]
    assert payload["nextTip"]["id"] != first["id"]

    second = gql(client, TIP)["data"]["tip"]  # type: ignore[index]
    assert second["id"] == payload["nextTip"]["id"]

    again = gql(client, FEEDBACK, tipId=first["id"], action="DONE", dwellMs=40_000)
    assert again["data"]["feedback"]["errors"][0]["code"] == "ALREADY_REACTED"  # type: ignore[index]


def test_cookie_mutation_without_csrf_token_is_refused(live_server: LiveServer) -> None:
    client = _demo_session(live_server)
    tip = gql(client, TIP)["data"]["tip"]  # type: ignore[index]
    response = client.post(
        "/graphql",
        json={"query": FEEDBACK, "variables": {"tipId": tip["id"], "action": "DONE"}},
    )
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
    # Nothing was stored: the same tip is still the current one and can be answered.
    assert gql(client, TIP)["data"]["tip"]["id"] == tip["id"]  # type: ignore[index]
    ok = gql(client, FEEDBACK, tipId=tip["id"], action="DONE", dwellMs=20_000)
    assert ok["data"]["feedback"]["errors"] == []  # type: ignore[index]
