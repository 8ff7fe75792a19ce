"""The console's pages over HTTP: admins only (403 page otherwise), the figures of the rollups,
friendly pages for bad input."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import httpx
from markupsafe import escape

from backend.admin.rollups import refresh
from backend.audit import record
from backend.identity.service import create_sign_in_link, principal_for_user
from backend.recommender import service
from backend.recommender.reward import Action
from tests.support.fixtures import DemoPerson, LiveServer, make_person

PAGES = ["/admin", "/admin/users", "/admin/audit"]


async def _browser_for(server: LiveServer, person: DemoPerson) -> httpx.Client:
    client = server.client()
    client.get(server.url + urlsplit(await create_sign_in_link(person.user_id)).path)
    assert "sid" in client.cookies
    return client


async def test_people_who_are_not_admins_get_a_friendly_403(live_server: LiveServer) -> None:
    anonymous = live_server.client()
    for path in PAGES:
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/signin"
    person = await make_person(tasks=False)
    client = await _browser_for(live_server, person)
    for path in [*PAGES, f"/admin/users/{person.user_id}"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Admins only" in response.text
        assert "Traceback" not in response.text


async def test_an_admin_reads_the_figures_people_and_audit(live_server: LiveServer) -> None:
    someone = await make_person()
    user = await principal_for_user(someone.user_id, "token")
    assert user is not None
    tip = await service.current_tip(user)
    assert tip is not None
    await service.react(user, tip.id, Action.DONE, 4000)
    admin = await make_person(tasks=False, role="admin")
    target = f"policy-{uuid.uuid4().hex[:6]}"
    await record(admin.user_id, "policy.promote", target, {"reason": "beats random by 0.3"})
    await refresh()
    client = await _browser_for(live_server, admin)

    overview = client.get("/admin?period=LAST_30D")
    assert overview.status_code == 200
    assert 'id="kpi-served"' in overview.text
    assert "Activation" in overview.text
    assert 'data-chart="stacked"' in overview.text, "a chart, with its table alternative"
    assert "As a table" in overview.text

    people = client.get("/admin/users", params={"q": someone.email, "order": "TIPS"})
    assert people.status_code == 200
    assert someone.email in people.text
    assert 'aria-sort="descending"' in people.text

    detail = client.get(f"/admin/users/{someone.user_id}")
    assert detail.status_code == 200
    assert str(escape(tip.content)) in detail.text, "the decision it served"
    assert ">done<" in detail.text

    log = client.get("/admin/audit", params={"target": target})
    assert log.status_code == 200
    assert "beats random by 0.3" in log.text
    assert "policy.promote" in log.text


async def test_bad_input_gets_a_friendly_page(live_server: LiveServer) -> None:
    admin = await make_person(tasks=False, role="admin")
    client = await _browser_for(live_server, admin)
    for path, status, words in [
        ("/admin?period=FOREVER", 400, "Unknown period"),
        ("/admin/users?after=not-a-cursor", 400, "cursor"),
        ("/admin/users?order=SHOE_SIZE", 400, "orderBy"),
        (f"/admin/users/{uuid.uuid4()}", 404, "No such person"),
        ("/admin/users/not-an-id", 404, "No such person"),
        ("/admin/audit?after=%%%", 400, "cursor"),
    ]:
        response = client.get(path)
        assert response.status_code == status, path
        assert words in response.text, path


def test_liveness_and_readiness_for_orchestrators(live_server: LiveServer) -> None:
    with live_server.client() as client:
        assert client.get("/healthz").json() == {"ok": True}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"ok": True, "database": True, "redis": True}
