"""The export holds every row about the person and no secret; retention purges only old rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from backend.identity.tables import ApiToken, ProviderCredential, SignInLink
from backend.privacy.export import EXPORT_FORMAT, EXPORT_VERSION
from backend.privacy.jobs import purge_tip_log_job
from backend.privacy.registry import ownership_map
from backend.privacy.service import delete_account, export_user_data, purge_tip_log
from backend.recommender.tables import Feedback, ServedTip
from tests.integration.privacy.helpers import ACCESS, REFRESH, footprint
from tests.support.fixtures import make_person


async def test_export_has_every_row_and_no_secret() -> None:
    trace = await footprint()
    uid = trace.person.user_id
    document = await export_user_data(uid)
    text = json.dumps(document)

    assert document["format"] == EXPORT_FORMAT
    assert document["version"] == EXPORT_VERSION
    assert document["user_id"] == uid
    tables = document["tables"]
    # One entry per table of the ownership map, plus the person's own row.
    assert set(tables) == {o.name for o in ownership_map()} | {"identity.app_user"}
    assert tables["identity.app_user"][0]["email"] == trace.person.email
    assert {t["id"] for t in tables["recommender.served_tip"]} == set(trace.tip_ids)
    assert len(tables["recommender.feedback"]) == 1
    assert {c["document"] for c in tables["privacy.consent"]} == {"terms", "privacy"}
    credential = tables["identity.provider_credential"][0]
    assert credential["provider"] == "google"
    assert "access_token_enc" not in credential
    assert "refresh_token_enc" not in credential
    assert "token_hash" not in tables["identity.api_token"][0]
    assert "token_hash" not in tables["identity.sign_in_link"][0]
    assert len(document["sessions"]) == 2
    assert {e["subject"] for e in document["events"]} >= {
        "signals.tip.served",
        "signals.tip.feedback",
        "signals.item.completed",
    }

    # No secret in any form: plaintext tokens, sealed tokens, token hashes.
    hashes = [
        r["token_hash"]
        for r in [
            *await ApiToken.select(ApiToken.token_hash).where(ApiToken.user == uid),
            *await SignInLink.select(SignInLink.token_hash).where(SignInLink.user == uid),
        ]
    ]
    for secret in (ACCESS, REFRESH, trace.api_token, trace.sid, *hashes):
        assert secret not in text
    sealed = await ProviderCredential.select(
        ProviderCredential.access_token_enc, ProviderCredential.refresh_token_enc
    ).where(ProviderCredential.user == uid)
    for row in sealed:
        assert row["access_token_enc"] not in text
        assert row["refresh_token_enc"] not in text
    await delete_account(uid)


async def _tip(user_id: str, served_at: datetime, with_feedback: bool) -> str:
    tip = ServedTip(
        user=user_id,
        item_ref="demo:retention",
        source="demo",
        content="old thing",
        candidate_count=1,
        policy_id="random",
        policy_version="1",
        score=0.5,
        propensity=1.0,
        latency_ms=1.0,
        served_at=served_at,
    )
    await tip.save()
    if with_feedback:
        await Feedback(tip=tip.id, user=user_id, action="done", dwell_ms=1000, reward=1.0).save()
    return str(tip.id)


async def test_retention_purges_only_old_rows_and_counts_them() -> None:
    person = await make_person(tasks=False)
    now = datetime.now(UTC)
    old = [await _tip(person.user_id, now - timedelta(days=31 + i), True) for i in range(3)]
    recent = [await _tip(person.user_id, now - timedelta(days=29), True)]
    cutoff = now - timedelta(days=30)
    expected = await ServedTip.count().where(ServedTip.served_at < cutoff)

    report = await purge_tip_log(days=30, now=now)

    assert report.tips == expected >= 3
    assert report.children["recommender.feedback"] >= 3
    remaining = {
        str(r["id"])
        for r in await ServedTip.select(ServedTip.id).where(ServedTip.user == person.user_id)
    }
    assert remaining == set(recent)
    assert await Feedback.count().where(Feedback.tip.is_in(old)) == 0
    assert await Feedback.count().where(Feedback.tip.is_in(recent)) == 1
    assert (await purge_tip_log(days=30, now=now)).tips == 0
    await delete_account(person.user_id)


async def test_retention_job_reports_counts() -> None:
    person = await make_person(tasks=False)
    await _tip(person.user_id, datetime.now(UTC) - timedelta(days=45), True)
    result = await purge_tip_log_job({})
    assert result["served_tips"] >= 1
    assert result["recommender.feedback"] >= 1
    assert "deleted_accounts_rows" in result
    await delete_account(person.user_id)


async def test_dashboard_counts_and_computed() -> None:
    from backend.privacy.dashboard import computed, data_summary
    from backend.profile.tables import Preference, pack

    trace = await footprint()
    uid = trace.person.user_id
    await Preference(
        user=uid,
        scope="global",
        key="usual_time",
        value=pack("morning"),
        source="inferred",
        evidence=12,
    ).save()
    views = {v.category.key: v for v in await data_summary(uid)}
    assert set(views) >= {"tips", "feedback", "profile", "integrations", "account"}
    tables = {t.name: t.rows for v in views.values() for t in v.tables}
    assert tables["recommender.served_tip"] == 2
    assert tables["identity.provider_credential"] == 1
    assert tables["identity.app_user"] == 1
    assert views["feedback"].rows == 2
    assert views["tips"].last_updated is not None
    assert views["tips"].count == 2  # tips shown: shadow picks are not counted
    assert views["tips"].counted == "2 tips shown"
    titles = {e.title: e for e in await computed(uid)}
    assert "What oO looked at for your latest tip" in titles
    assert "How oO picks your tips" in titles
    inferred = titles["What oO guessed you prefer"]
    assert inferred.facts == (("Usual time", "morning, from 12 events"),)
    await delete_account(uid)
