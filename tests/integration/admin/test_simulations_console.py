"""The simulations page over HTTP: a run started from the form (bad input refused), its live
progress streamed as HTML over SSE from the `simulation` subscription until the results arrive,
the results page (reward curve, per persona × policy), past runs with their parameters, and
cancelling (reason required, audited; refused for ended, unknown and malformed runs)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from backend import audit
from backend.identity.service import create_api_token
from backend.simulation import store
from tests.integration.admin.test_admin_pages import _browser_for
from tests.integration.admin.test_live_pages import sse
from tests.support.fixtures import LiveServer, make_person

RUN_DEADLINE_S = 90.0
SMALL = {
    "policies": ["random", "oo-v1"],
    "personas": ["lark", "retiree"],
    "users_per_persona": "1",
    "decisions": "60",
    "seed": "5",
}
# Long enough to be cancelled while it runs (minutes), small enough for the API's bound.
LONG = {**SMALL, "policies": ["random"], "personas": ["lark"], "users_per_persona": "60"}
LONG["decisions"] = "1000"
CANCEL = """mutation($id: ID!, $reason: String!) { cancelSimulation(id: $id, reason: $reason) {
  simulation { id status error } errors { code field } } }"""
RUN = "query($id: ID!) { simulationRun(id: $id) { id status config } }"


async def _admin(server: LiveServer) -> tuple[httpx.Client, str, dict[str, str]]:
    admin = await make_person(tasks=False, role="admin")
    client = await _browser_for(server, admin)
    client.get("/admin/simulations")
    return client, admin.user_id, {"x-csrftoken": client.cookies["csrftoken"]}


def _start(client: httpx.Client, csrf: dict[str, str], form: dict[str, Any]) -> str:
    response = client.post("/admin/simulations", data=form, headers=csrf, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    location = response.headers["location"]
    assert location.startswith("/admin/simulations/")
    return location.rsplit("/", 1)[1]


async def _until(run_id: str, statuses: tuple[str, ...]) -> store.RunView:
    deadline = time.monotonic() + RUN_DEADLINE_S
    while time.monotonic() < deadline:
        view = await store.get_run(run_id)
        if view is not None and view.status in statuses:
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} never reached {statuses}")


async def test_pages_are_for_admins_only(live_server: LiveServer) -> None:
    paths = ["/admin/simulations", "/admin/policies", f"/admin/simulations/{uuid.uuid4()}"]
    anonymous = live_server.client()
    for path in paths:
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/signin"
    person = await make_person(tasks=False)
    client = await _browser_for(live_server, person)
    for path in [*paths, f"{paths[2]}/stream"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Admins only" in response.text


async def test_bad_input_is_refused_with_the_form_again(live_server: LiveServer) -> None:
    client, _id, csrf = await _admin(live_server)
    for form, says in (
        ({**SMALL, "decisions": "lots"}, "whole numbers"),
        ({**SMALL, "policies": []}, "at least one policy"),
        ({**SMALL, "policies": ["nope"]}, "unknown policy"),
        ({**SMALL, "personas": ["nobody"]}, "unknown persona"),
        ({**SMALL, "decisions": "0"}, "decisions must be"),
        ({**SMALL, "users_per_persona": "1000", "decisions": "100000"}, "at most"),
    ):
        response = client.post("/admin/simulations", data=form, headers=csrf)
        assert response.status_code == 400, form
        assert says in response.text
        assert 'class="sim-form"' in response.text
    for path in ("/admin/simulations/not-a-run", f"/admin/simulations/{uuid.uuid4()}"):
        assert client.get(path).status_code == 404


async def test_a_run_from_the_form_streams_progress_then_its_results(
    live_server: LiveServer,
) -> None:
    client, admin_id, csrf = await _admin(live_server)
    run_id = _start(client, csrf, SMALL)
    line = (await audit.recent(target=run_id, action_prefix="simulation.start"))[0]
    assert line.actor_user_id == admin_id
    page = client.get(f"/admin/simulations/{run_id}")
    assert page.status_code == 200
    assert f'sse-connect="/admin/simulations/{run_id}/stream"' in page.text or (
        'id="sim-policies"' in page.text  # it may already have finished
    )

    progress: list[str] = []
    async with sse(client, f"/admin/simulations/{run_id}/stream") as stream:
        while True:
            event, _id, data = await stream.next()
            if event == "finished":
                break
            assert event == "progress"
            progress.append(data)
    assert progress, "the state at once, then each update"
    assert "<progress" in progress[-1]
    assert 'data-status="finished"' in progress[-1]
    assert 'id="sim-policies"' in data
    assert 'data-chart="curves"' in data
    assert 'id="sim-personas"' in data
    for policy in ("oracle", "random", "oo-v1"):
        assert f"<code>{policy}</code>" in data
    for persona in ("lark", "retiree"):
        assert f'<th scope="row">{persona}</th>' in data

    done = client.get(f"/admin/simulations/{run_id}")
    assert "sse-connect" not in done.text, "an ended run is not streamed"
    assert "regret" in done.text
    runs = client.get("/admin/simulations")
    assert f'href="/admin/simulations/{run_id}"' in runs.text
    assert "lark, retiree" in runs.text  # its parameters


async def test_cancel_a_running_run_with_a_reason(live_server: LiveServer) -> None:
    client, admin_id, csrf = await _admin(live_server)
    run_id = _start(client, csrf, LONG)
    await _until(run_id, (store.RUNNING,))
    url = f"/admin/simulations/{run_id}/cancel"
    no_reason = client.post(url, data={"reason": " "}, headers=csrf)
    assert no_reason.status_code == 400
    assert "Say why" in no_reason.text
    cancelled = client.post(url, data={"reason": "wrong seed"}, headers=csrf)
    assert cancelled.status_code == 200
    assert "Cancelled" in cancelled.text
    ended = await _until(run_id, store.TERMINAL)
    assert ended.status == store.FAILED
    assert ended.error == "cancelled by an admin"
    assert ended.done < ended.total
    line = (await audit.recent(target=run_id, action_prefix="simulation.cancel"))[0]
    assert line.actor_user_id == admin_id
    assert line.detail == {"reason": "wrong seed", "status": "running"}

    again = client.post(url, data={"reason": "again"}, headers=csrf)
    assert again.status_code == 409
    assert "already failed" in again.text
    unknown = f"/admin/simulations/{uuid.uuid4()}/cancel"
    assert client.post(unknown, data={"reason": "why"}, headers=csrf).status_code == 404
    malformed = "/admin/simulations/nope/cancel"
    assert client.post(malformed, data={"reason": "why"}, headers=csrf).status_code == 404


async def test_cancel_and_read_a_run_over_graphql(live_server: LiveServer) -> None:
    admin = await make_person(tasks=False, role="admin")
    token = (await create_api_token(admin.user_id, "test"))[1]
    run_id = await store.create_run({"policies": ["random"]}, "graphql", 10)  # never queued

    def gql(query: str, **variables: Any) -> dict[str, Any]:
        with live_server.client(headers={"Authorization": f"Bearer {token}"}) as c:
            body: dict[str, Any] = c.post(
                "/graphql", json={"query": query, "variables": variables}
            ).json()
        return body["data"]

    assert gql(RUN, id=run_id)["simulationRun"]["status"] == "QUEUED"
    assert gql(RUN, id=str(uuid.uuid4()))["simulationRun"] is None
    assert gql(RUN, id="nope")["simulationRun"] is None
    refused = gql(CANCEL, id=run_id, reason="")["cancelSimulation"]
    assert refused["errors"] == [{"code": "REASON_REQUIRED", "field": "reason"}]
    done = gql(CANCEL, id=run_id, reason="not needed")["cancelSimulation"]
    assert done["errors"] == []
    assert done["simulation"] == {
        "id": run_id,
        "status": "FAILED",
        "error": "cancelled by an admin",
    }
    ended = gql(CANCEL, id=run_id, reason="again")["cancelSimulation"]
    assert ended["errors"] == [{"code": "ENDED", "field": "id"}]
    missing = gql(CANCEL, id="nope", reason="why")["cancelSimulation"]
    assert missing["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
