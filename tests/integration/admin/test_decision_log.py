"""The decision log, features and rewards over HTTP against `oo serve`: GraphQL `decisions`
(filters, keyset paging, bad cursors and filters), `decision(id)` (candidates as far as the log
keeps them, NOT_FOUND), `decisionFeatures`, `decisionDiff`, `rewardAnalytics`; and the pages:
admins only, friendly 400 / 404 pages for bad input."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from tests.integration.admin.ml_log import SeededLog, fresh_id, seed_log
from tests.integration.admin.test_admin_graphql import gql
from tests.integration.admin.test_admin_pages import _browser_for
from tests.support.fixtures import DemoPerson, LiveServer, make_person

TokenFor = Callable[[DemoPerson], Awaitable[str]]

DECISIONS = """
query($filter: DecisionFilter, $first: Int!, $after: String) {
  decisions(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id personId content policyId kind source reaction reward propensity
      candidateCount latencyMs explanation { line features { name contribution } }
      features { name value } shadowPicks { policyId agrees propensity servedPropensity }
      feedback { dwellMs rewardSource delayed } } }
    pageInfo { hasNextPage endCursor } } }
"""
DECISION = """
query($id: ID!) { decision(id: $id) { project priority model promptVersion candidatesLogged
  candidatesNote decision { id content reward feedback { delayed } shadowPicks { policyId } }
  candidates { itemRef chosen features { name value } } } }
"""
FEATURES = """
query($person: ID!, $set: String!, $from: DateTime, $to: DateTime) {
  decisionFeatures(person: $person, featureSet: $set, from: $from, to: $to) {
    featureSet keys points { decisionId values } } }
"""
DIFF = """query($a: ID!, $b: ID!) { decisionDiff(a: $a, b: $b) {
  before { id } after { id } changes { name before after change changed } } }"""
REWARDS = """
query($filter: RewardFilter) { rewardAnalytics(groupBy: POLICY, period: DAY, filter: $filter) {
  buckets total { decisions reactions meanReward ciLow ciHigh }
  groups { key label stats { decisions meanReward } series { bucket stats { decisions } } }
  agreement { policyId shadowDecisions agreed agreementRate }
  promotions { policyId previous reason } } }
"""


@pytest.fixture
async def seeded() -> SeededLog:
    return await seed_log()


def _window(s: SeededLog) -> dict[str, str]:
    return {"from": s.start.isoformat(), "to": s.end.isoformat()}


async def test_decisions_filter_and_page_newest_first(
    live_server: LiveServer, token_for: TokenFor, seeded: SeededLog
) -> None:
    token = await token_for(await make_person(tasks=False, role="admin"))
    window = _window(seeded)
    seen: list[str] = []
    after = None
    while True:  # two at a time, through the window
        body = gql(live_server, token, DECISIONS, filter=window, first=2, after=after)
        page = body["data"]["decisions"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [seeded.tip_ids[i] for i in (4, 3, 2, 1, 0)], "newest first, no deleted"

    first = gql(live_server, token, DECISIONS, filter=window, first=5)["data"]["decisions"]
    oldest = first["edges"][-1]["node"]
    assert oldest["feedback"] == {"dwellMs": 30000, "rewardSource": "source", "delayed": True}
    assert oldest["shadowPicks"] == [
        {"policyId": "greedy", "agrees": True, "propensity": 0.75, "servedPropensity": 0.75}
    ]
    assert oldest["explanation"]["features"] == [{"name": "is_overdue", "contribution": 0.5}]
    assert {f["name"] for f in oldest["features"]} == {"days_overdue", "is_overdue", "priority"}

    def ids(**narrow: object) -> list[str]:
        f = {**window, **narrow}
        edges = gql(live_server, token, DECISIONS, filter=f, first=50)["data"]["decisions"]
        return [e["node"]["id"] for e in edges["edges"]]

    t = seeded.tip_ids
    assert ids(person=seeded.people["p2"]) == [t[3], t[2]]
    assert ids(policy="random") == [t[4], t[2]]
    assert ids(kind="advice", source="llm") == [t[4], t[2]]
    assert ids(reaction="NONE") == [t[4]]
    assert ids(reaction="DISMISS") == [t[1]]
    assert ids(person=seeded.people["gone"]) == []


async def test_bad_filters_cursors_and_unknown_ids_are_typed_errors(
    live_server: LiveServer, token_for: TokenFor, seeded: SeededLog
) -> None:
    token = await token_for(await make_person(tasks=False, role="admin"))

    def code(query: str, **variables: object) -> tuple[str, str | None]:
        body = gql(live_server, token, query, **variables)
        assert body["data"] is None, body
        ext = body["errors"][0]["extensions"]
        return ext["code"], ext.get("field")

    assert code(DECISIONS, first=0) == ("INVALID_PAGE_SIZE", "first")
    assert code(DECISIONS, first=5, after="bm9wZQ==") == ("INVALID_CURSOR", "after")
    assert code(DECISIONS, first=5, filter={"person": "someone"}) == ("INVALID_FILTER", "person")
    late, early = seeded.end.isoformat(), seeded.start.isoformat()
    assert code(DECISIONS, first=5, filter={"from": late, "to": early})[0] == "INVALID_FILTER"
    assert code(DECISION, id=fresh_id()) == ("NOT_FOUND", "id")
    assert code(DECISION, id="not-an-id") == ("NOT_FOUND", "id")
    assert code(DECISION, id=seeded.tip_ids[5]) == ("NOT_FOUND", "id"), "deleted person"
    assert code(DIFF, a=seeded.tip_ids[0], b=fresh_id()) == ("NOT_FOUND", "b")
    assert code(FEATURES, person=seeded.people["p1"], set="nope")[0] == "INVALID_FEATURE_SET"
    assert code(FEATURES, person="someone", set="all") == ("INVALID_FILTER", "person")
    bad_window = {"from": late, "to": early}
    assert code(REWARDS, filter=bad_window) == ("INVALID_FILTER", "from")


async def test_one_decision_with_its_candidates_features_and_a_diff(
    live_server: LiveServer, token_for: TokenFor, seeded: SeededLog
) -> None:
    token = await token_for(await make_person(tasks=False, role="admin"))
    one = gql(live_server, token, DECISION, id=seeded.tip_ids[2])["data"]["decision"]
    assert (one["model"], one["promptVersion"], one["priority"]) == ("m1", "p1", None)
    assert one["candidatesLogged"] is True
    assert "not stored" in one["candidatesNote"]
    assert [(c["itemRef"], c["chosen"]) for c in one["candidates"]] == [
        ("test:2", True),
        ("test:other", False),
    ]
    assert one["candidates"][1]["features"] == [
        {"name": "days_overdue", "value": 0.0},
        {"name": "is_overdue", "value": 0.0},
        {"name": "priority", "value": 2.0},
    ]

    series = gql(
        live_server, token, FEATURES, person=seeded.people["p1"], set="due", **_window(seeded)
    )["data"]["decisionFeatures"]
    assert series["keys"] == ["is_overdue", "days_overdue"]
    assert [p["decisionId"] for p in series["points"]] == [seeded.tip_ids[i] for i in (0, 1, 4)]
    assert [p["values"] for p in series["points"]] == [[1.0, 0.0], [1.0, 1.0], [1.0, 4.0]]

    diff = gql(live_server, token, DIFF, a=seeded.tip_ids[1], b=seeded.tip_ids[4])
    changes = {c["name"]: c for c in diff["data"]["decisionDiff"]["changes"]}
    assert changes["days_overdue"] == {
        "name": "days_overdue",
        "before": 1.0,
        "after": 4.0,
        "change": 3.0,
        "changed": True,
    }
    assert changes["is_overdue"]["changed"] is False
    assert changes["priority"]["change"] == -1.0


async def test_reward_analytics_over_graphql(
    live_server: LiveServer, token_for: TokenFor, seeded: SeededLog
) -> None:
    token = await token_for(await make_person(tasks=False, role="admin"))
    a = gql(live_server, token, REWARDS, filter=_window(seeded))["data"]["rewardAnalytics"]
    assert a["total"]["decisions"] == 5
    assert a["total"]["meanReward"] == pytest.approx(0.2)
    assert {g["key"]: g["stats"]["decisions"] for g in a["groups"]} == {
        "linucb 2": 3,
        "random 1": 2,
    }
    assert a["agreement"] == [
        {"policyId": "greedy", "shadowDecisions": 2, "agreed": 1, "agreementRate": 0.5}
    ]
    assert a["promotions"] == [
        {"policyId": "linucb", "previous": "random", "reason": "beats random in shadow"}
    ]
    person = await token_for(await make_person(tasks=False))
    refused = gql(live_server, person, REWARDS)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_pages_for_admins_and_the_refusals(
    live_server: LiveServer, seeded: SeededLog
) -> None:
    start = seeded.start.date().isoformat()
    window = f"from={start}&to={(seeded.start + timedelta(days=1)).date().isoformat()}"
    decision = seeded.tip_ids[0]
    pages = [
        f"/admin/decisions?{window}",
        f"/admin/decisions/{decision}",
        f"/admin/features?person={seeded.people['p1']}&{window}",
        f"/admin/rewards?group=COHORT&{window}",
    ]
    anonymous = live_server.client()
    for path in pages:
        response = anonymous.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/signin")
    person = await _browser_for(live_server, await make_person(tasks=False))
    for path in pages:
        assert person.get(path).status_code == 403, path

    admin = await _browser_for(live_server, await make_person(tasks=False, role="admin"))
    listing = admin.get(pages[0])
    assert listing.status_code == 200
    assert listing.text.count('href="/admin/decisions/') == 5
    assert "delayed" in listing.text
    one = admin.get(pages[1])
    assert one.status_code == 200
    assert "Seeded tip 0" in one.text
    assert "not stored" in one.text
    assert 'class="chosen"' in one.text
    features = admin.get(pages[2])
    assert features.status_code == 200
    assert 'data-chart="lines"' in features.text
    assert "features changed" in features.text  # the last two decisions, compared
    assert 'id="freshness-trend"' in features.text  # everyone's, over time (sampled hourly)
    rewards = admin.get(pages[3])
    assert rewards.status_code == 200
    assert "week of" in rewards.text
    assert "What changed:" in rewards.text
    assert 'data-chart="ci-bars"' in rewards.text
    assert "<details" in rewards.text

    for path, status in [
        ("/admin/decisions?from=yesterday", 400),
        ("/admin/decisions?reaction=maybe", 400),
        ("/admin/decisions?after=garbage", 400),
        ("/admin/decisions?person=nobody@nowhere.test", 400),
        (f"/admin/decisions/{fresh_id()}", 404),
        ("/admin/decisions/not-an-id", 404),
        ("/admin/features?person=p&set=all", 400),
        (f"/admin/features?person={fresh_id()}", 404),
        (f"/admin/features?person={seeded.people['p1']}&set=nope", 400),
        (f"/admin/features?a={decision}&b={fresh_id()}", 404),
        ("/admin/rewards?group=NOPE", 400),
        ("/admin/rewards?period=HOUR&from=2025-01-01&to=2025-03-01", 400),
    ]:
        response = admin.get(path)
        assert response.status_code == status, (path, response.status_code)
        assert "Traceback" not in response.text
