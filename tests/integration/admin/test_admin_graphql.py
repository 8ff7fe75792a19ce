"""The console's GraphQL over HTTP: overview, people and the audit log come from rollups a
worker keeps (refreshed by hand here), admins only, deleted people nowhere."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from backend.admin.rollups import refresh
from backend.identity.service import principal_for_user
from backend.recommender import service
from backend.recommender.reward import Action
from tests.support.fixtures import DemoPerson, LiveServer, make_person

TokenFor = Callable[[DemoPerson], Awaitable[str]]

OVERVIEW = """
query($period: Period!) { adminOverview(period: $period) {
  period start end kpis { key value previous change } days { day served reactions done }
  funnel { key people } } }
"""
USERS = """
query($search: String, $first: Int!, $after: String, $orderBy: PeopleOrder!) {
  adminUsers(search: $search, first: $first, after: $after, orderBy: $orderBy) {
    totalCount edges { cursor node { id email tips reactions meanReward sources } }
    pageInfo { hasNextPage endCursor } } }
"""
USER = """
query($id: ID!) { adminUser(id: $id) { id email tips reactions
  rewardHistory { day served reactions meanReward }
  decisions(last: 5) { id content reaction reward policyId propensity } } }
"""
AUDIT = """
query($after: String) { auditLog(first: 2, after: $after, action: "policy.") {
  edges { cursor node { action target detail actorUserId } } pageInfo { hasNextPage endCursor } } }
"""


def gql(server: LiveServer, token: str, query: str, **variables: Any) -> dict[str, Any]:
    with server.client() as client:
        response = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def _active_person(reactions: list[Action]) -> DemoPerson:
    person = await make_person()
    user = await principal_for_user(person.user_id, "token")
    assert user is not None
    for action in reactions:
        tip = await service.current_tip(user)
        assert tip is not None
        await service.react(user, tip.id, action, 5000)
    return person


@pytest.fixture
async def admin() -> DemoPerson:
    return await make_person(tasks=False, role="admin")


async def test_people_and_overview_come_from_the_rollups(
    live_server: LiveServer, token_for: TokenFor, admin: DemoPerson
) -> None:
    busy = await _active_person([Action.DONE, Action.DONE, Action.DISMISS])
    quiet = await _active_person([Action.SNOOZE])
    await refresh()
    token = await token_for(admin)

    page = gql(live_server, token, USERS, search=busy.email, first=5, orderBy="TIPS")
    (edge,) = page["data"]["adminUsers"]["edges"]
    assert edge["node"]["email"] == busy.email
    assert (edge["node"]["tips"], edge["node"]["reactions"]) == (3, 3)

    person = gql(live_server, token, USER, id=busy.user_id)["data"]["adminUser"]
    assert [d["reaction"] for d in person["decisions"]] == ["dismiss", "done", "done"]
    assert sum(d["served"] for d in person["rewardHistory"]) == 3

    overview = gql(live_server, token, OVERVIEW, period="LAST_7D")["data"]["adminOverview"]
    kpis = {k["key"]: k for k in overview["kpis"]}
    assert kpis["served"]["value"] >= 4
    assert kpis["dau"]["value"] >= 2
    assert sum(d["served"] for d in overview["days"]) == kpis["served"]["value"]
    assert len(overview["days"]) == 7
    funnel = [f["people"] for f in overview["funnel"]]
    assert funnel[0] >= funnel[2] >= funnel[3] >= 2, "a funnel narrows"

    # Incremental and idempotent: a new reaction counts once, however often refresh runs.
    user = await principal_for_user(quiet.user_id, "token")
    assert user is not None
    tip = await service.current_tip(user)
    assert tip is not None
    await service.react(user, tip.id, Action.DONE, 5000)
    await refresh()
    await refresh()
    again = gql(live_server, token, USERS, search=quiet.email, first=5, orderBy="TIPS")
    assert again["data"]["adminUsers"]["edges"][0]["node"]["reactions"] == 2


async def test_paging_sorting_and_bad_input(
    live_server: LiveServer, token_for: TokenFor, admin: DemoPerson
) -> None:
    for _ in range(3):
        await _active_person([Action.DONE])
    await refresh()
    token = await token_for(admin)
    first = gql(live_server, token, USERS, first=2, orderBy="SIGNED_UP")["data"]["adminUsers"]
    assert len(first["edges"]) == 2
    assert first["pageInfo"]["hasNextPage"]
    second = gql(
        live_server,
        token,
        USERS,
        first=2,
        after=first["pageInfo"]["endCursor"],
        orderBy="SIGNED_UP",
    )["data"]["adminUsers"]
    ids = [e["node"]["id"] for e in first["edges"]] + [e["node"]["id"] for e in second["edges"]]
    assert len(set(ids)) == len(ids), "no one twice across pages"

    bad = gql(live_server, token, USERS, first=2, after="not-a-cursor", orderBy="TIPS")
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    big = gql(live_server, token, USERS, first=5000, orderBy="TIPS")
    assert big["errors"][0]["extensions"]["code"] == "INVALID_PAGE_SIZE"
    unknown = gql(live_server, token, USER, id=str(uuid.uuid4()))
    assert unknown["data"]["adminUser"] is None


async def test_a_deleted_person_disappears_from_every_view(
    live_server: LiveServer, token_for: TokenFor, admin: DemoPerson
) -> None:
    from backend.admin.tables import AdminUserDay, AdminUserTotals
    from backend.privacy.deletion import delete_account

    gone = await _active_person([Action.DONE])
    await refresh()
    token = await token_for(admin)

    def served() -> int:
        body = gql(live_server, token, OVERVIEW, period="LAST_7D")["data"]["adminOverview"]
        return int(next(k["value"] for k in body["kpis"] if k["key"] == "served"))

    before = served()
    await delete_account(gone.user_id)
    await refresh()
    assert served() == before - 1, "their tip left the day's figures too"
    found = gql(live_server, token, USERS, search=gone.email, first=5, orderBy="TIPS")
    assert found["data"]["adminUsers"]["edges"] == []
    assert gql(live_server, token, USER, id=gone.user_id)["data"]["adminUser"] is None
    assert not await AdminUserTotals.exists().where(AdminUserTotals.user == gone.user_id)
    assert not await AdminUserDay.exists().where(AdminUserDay.user == gone.user_id)


async def test_only_admins_read_the_console(
    live_server: LiveServer, token_for: TokenFor, person: DemoPerson
) -> None:
    token = await token_for(person)
    for query, variables in [
        (OVERVIEW, {"period": "LAST_7D"}),
        (USERS, {"first": 5, "orderBy": "TIPS"}),
        (USER, {"id": person.user_id}),
        (AUDIT, {}),
    ]:
        body = gql(live_server, token, query, **variables)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", query


async def test_the_audit_log_pages_newest_first(
    live_server: LiveServer, token_for: TokenFor, admin: DemoPerson
) -> None:
    from backend.audit import record

    target = f"policy-{uuid.uuid4().hex[:6]}"
    for n in range(3):
        await record(admin.user_id, "policy.test", target, {"reason": f"step {n}"})
    token = await token_for(admin)
    page = gql(live_server, token, AUDIT)["data"]["auditLog"]
    assert [e["node"]["detail"]["reason"] for e in page["edges"]] == ["step 2", "step 1"]
    assert page["pageInfo"]["hasNextPage"]
    rest = gql(live_server, token, AUDIT, after=page["pageInfo"]["endCursor"])["data"]["auditLog"]
    assert rest["edges"][0]["node"]["detail"]["reason"] == "step 0"
