"""The data page, export download, delete by category, account deletion, legal pages and the
privacy GraphQL fields — over real HTTP against `oo serve`."""

from __future__ import annotations

import json
import re
from urllib.parse import urlparse

import httpx

from backend.identity.service import create_sign_in_link, principal_for_user
from backend.identity.tables import User
from backend.privacy.service import LEGAL_DOCUMENTS, consents
from backend.recommender.reward import Action
from backend.recommender.service import current_tip, react
from backend.recommender.tables import ServedTip
from tests.support.fixtures import DemoPerson, LiveServer, make_person

MY_DATA = """
query {
  myData {
    categories { key rows deletable lastUpdated tables { name rows } }
    consents { document }
  }
}
"""
EXPORT = "query { exportMyData }"
DELETE_DATA = """
mutation($category: DataCategory!) {
  deleteMyData(category: $category) { category removed errors { code } }
}
"""
DELETE_ACCOUNT = """
mutation($confirm: String!) {
  deleteAccount(confirm: $confirm) { deleted errors { code message field } }
}
"""


async def _person_with_tips() -> DemoPerson:
    person = await make_person()
    principal = await principal_for_user(person.user_id, "session")
    assert principal is not None
    first = await current_tip(principal)
    assert first is not None
    await react(principal, first.id, Action.SNOOZE, 3_000)
    assert await current_tip(principal) is not None
    return person


async def _signed_in(server: LiveServer, person: DemoPerson) -> httpx.Client:
    link = await create_sign_in_link(person.user_id)
    client = server.client(follow_redirects=False)
    response = client.get(urlparse(link).path)
    assert response.status_code == 303
    assert "sid" in client.cookies
    return client


def _rows(html: str, category: str) -> int:
    found = re.search(rf'data-category="{category}" data-rows="(\d+)"', html)
    assert found, f"category {category} on the page"
    return int(found.group(1))


def _count(html: str, category: str) -> int:
    """What the page tells the person (tips shown, answers given), not the stored rows."""
    found = re.search(rf'data-category="{category}" data-rows="\d+" data-count="(\d+)"', html)
    assert found, f"category {category} on the page"
    return int(found.group(1))


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _page_csrf(html: str) -> str:
    found = re.search(r'"x-csrftoken": "([^"]+)"', html)
    assert found, "the page carries the CSRF header for htmx"
    return found.group(1)


def _form_csrf(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def test_data_page_counts_export_delete(live_server: LiveServer) -> None:
    person = await _person_with_tips()
    client = await _signed_in(live_server, person)
    # Signing in accepted the current Terms and Privacy, with a time and version.
    recorded = {(c.document, c.version) for c in await consents(person.user_id)}
    assert recorded == set(LEGAL_DOCUMENTS.items())

    page = client.get("/data")
    assert page.status_code == 200
    assert "Your data" in page.text
    assert _rows(page.text, "tips") >= 2  # served tips, and the shadow policies' picks
    assert _count(page.text, "tips") == 2  # …but a person counts the tips they saw
    assert "2 tips shown" in page.text
    assert _rows(page.text, "feedback") == 2  # one reaction + the snooze it caused
    assert _count(page.text, "feedback") == 1
    assert "1 answer" in page.text
    # The demo tasks are one connected app, whatever the number of rows behind it.
    assert _count(page.text, "integrations") == 1
    assert "Demo tasks" in page.text.split('id="apps-h"', 1)[1]
    assert "What oO looked at for your latest tip" in page.text
    # Written for people: no table names, ids, hashes or timings.
    assert not UUID.search(page.text.split("<main", 1)[1])
    for machine in ("served_tip", "recommender.", "latency", "hash", "<code>"):
        assert machine not in page.text, machine
    assert 'href="/data/export"' in page.text

    refused = client.post("/data/delete/tips", headers={"hx-request": "true"})
    assert refused.status_code == 403  # no CSRF token
    assert await ServedTip.count().where(ServedTip.user == person.user_id) == 2

    fragment = client.post(
        "/data/delete/tips",
        headers={"hx-request": "true", "x-csrftoken": _page_csrf(page.text)},
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text  # the `stored` block only, swapped in by htmx
    assert "Tip history: deleted" in fragment.text
    assert _rows(fragment.text, "tips") == 0
    assert _rows(fragment.text, "feedback") == 1  # the reaction went with its tip
    assert await ServedTip.count().where(ServedTip.user == person.user_id) == 0

    download = client.get("/data/export")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/json")
    assert download.headers["content-disposition"].startswith("attachment;")
    document = json.loads(download.text)
    assert document["format"] == "oo-export"
    assert document["tables"]["identity.app_user"][0]["email"] == person.email
    assert "token_hash" not in download.text


async def test_account_deletion_with_confirmation(live_server: LiveServer) -> None:
    person = await _person_with_tips()
    client = await _signed_in(live_server, person)
    page = client.get("/data/delete-account")
    assert page.status_code == 200
    assert person.email in page.text
    token = _form_csrf(page.text)

    wrong = client.post("/data/delete-account", data={"confirm": "yes", "_csrf_token": token})
    assert wrong.status_code == 400
    assert "does not match" in wrong.text
    assert 'value="yes"' in wrong.text  # what was typed is still there
    assert 'aria-invalid="true"' in wrong.text
    assert await User.count().where((User.id == person.user_id) & User.deleted_at.is_null()) == 1

    done = client.post(
        "/data/delete-account", data={"confirm": person.email.upper(), "_csrf_token": token}
    )
    assert done.status_code == 200
    assert "Your account is deleted" in done.text
    assert "sid" not in client.cookies
    row = await User.select().where(User.id == person.user_id).first()
    assert row is not None
    assert row["email"] is None
    assert row["deleted_at"] is not None
    assert client.get("/data").status_code == 303


def test_legal_pages_and_sign_in_note(live_server: LiveServer) -> None:
    client = live_server.client()
    for path, title in (("/legal/terms", "Terms of use"), ("/legal/privacy", "Privacy notice")):
        page = client.get(path)
        assert page.status_code == 200
        assert title in page.text
        assert "Version 2026-11" in page.text
    signin = client.get("/signin")
    assert 'href="/legal/terms"' in signin.text
    assert 'href="/legal/privacy"' in signin.text
    assert "By continuing you agree" in signin.text


def _gql(server: LiveServer, token: str, query: str, **variables: object) -> dict[str, object]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_privacy_graphql(live_server: LiveServer, token_for: object) -> None:
    person = await _person_with_tips()
    token = await token_for(person)  # type: ignore[operator]

    data = _gql(live_server, token, MY_DATA)["data"]["myData"]  # type: ignore[index]
    rows = {c["key"]: c["rows"] for c in data["categories"]}
    tables = {t["name"]: t["rows"] for c in data["categories"] for t in c["tables"]}
    assert tables["recommender.served_tip"] == 2
    assert rows["feedback"] == 2

    exported = _gql(live_server, token, EXPORT)["data"]["exportMyData"]  # type: ignore[index]
    assert exported["version"] == 1
    assert len(exported["tables"]["recommender.served_tip"]) == 2
    assert token not in json.dumps(exported)

    deleted = _gql(live_server, token, DELETE_DATA, category="FEEDBACK")["data"]["deleteMyData"]  # type: ignore[index]
    assert deleted["removed"] == 2
    assert deleted["errors"] == []

    refused = _gql(live_server, token, DELETE_ACCOUNT, confirm="please")["data"]["deleteAccount"]  # type: ignore[index]
    assert refused["deleted"] is False
    assert refused["errors"][0]["code"] == "CONFIRMATION_MISMATCH"
    assert refused["errors"][0]["field"] == "confirm"

    gone = _gql(live_server, token, DELETE_ACCOUNT, confirm="DELETE")["data"]["deleteAccount"]  # type: ignore[index]
    assert gone == {"deleted": True, "errors": []}
    after = _gql(live_server, token, "query { me { id } }")
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # type: ignore[index]


async def test_cookie_session_delete_needs_csrf(live_server: LiveServer) -> None:
    person = await _person_with_tips()
    client = await _signed_in(live_server, person)
    client.get("/data")  # sets the CSRF cookie
    response = client.post(
        "/graphql", json={"query": DELETE_ACCOUNT, "variables": {"confirm": "DELETE"}}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
    assert await User.count().where((User.id == person.user_id) & User.deleted_at.is_null()) == 1
    ok = client.post(
        "/graphql",
        json={"query": DELETE_ACCOUNT, "variables": {"confirm": "DELETE"}},
        headers={"x-csrftoken": client.cookies.get("csrftoken", "")},
    )
    assert ok.json()["data"]["deleteAccount"]["deleted"] is True
    assert "sid" not in client.cookies  # the response signed this browser out
