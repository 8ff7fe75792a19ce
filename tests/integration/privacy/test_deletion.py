"""Account deletion leaves nothing of the person: every table and Redis are scanned afterwards
(on whichever database this run uses), provider tokens are revoked at a stand-in provider."""

from __future__ import annotations

import dataclasses
import os

import pytest

from backend.identity import revocation
from backend.identity.service import principal_for_session, principal_for_token
from backend.identity.tables import User
from backend.privacy.registry import uncovered, uncovered_in_database
from backend.privacy.service import delete_account, delete_category
from backend.recommender.tables import Feedback, ServedTip, Snooze
from backend.settings import get_settings
from tests.integration.privacy.helpers import (
    REFRESH,
    RevokeStandIn,
    footprint,
    scan_database,
    scan_redis,
)


def _redis() -> tuple[str, str]:
    return os.environ["REDIS_URL"], get_settings().redis_prefix


async def test_nothing_of_the_person_is_left(stand_in: RevokeStandIn) -> None:
    victim = await footprint()
    bystander = await footprint()
    url, prefix = _redis()
    # The scanners find the person before deletion (so an empty result later means something).
    assert await scan_database(victim.needles - {REFRESH})
    assert scan_redis(url, prefix, victim.needles)

    report = await delete_account(victim.person.user_id)

    assert stand_in.received == [REFRESH]  # the refresh token ends the whole grant at Google
    assert report.revocation.revoked == ["google"]
    assert report.rows["recommender.served_tip"] == 2
    assert report.rows["recommender.feedback"] == 1
    assert report.rows["admin.admin_audit.actor_user_id→null"] == 1
    assert report.redis.jobs == 2
    assert report.redis.stream_entries >= 3
    assert await scan_database(victim.needles, deleted_user=victim.person.user_id) == []
    assert scan_redis(url, prefix, victim.needles) == []

    row = await User.select().where(User.id == victim.person.user_id).first()
    assert row is not None
    assert row["email"] is None
    assert row["name"] == ""
    assert row["deleted_at"] is not None
    assert await principal_for_session(victim.sid) is None
    assert await principal_for_token(victim.api_token) is None

    # The bystander still has everything.
    assert await principal_for_session(bystander.sid) is not None
    assert await principal_for_token(bystander.api_token) is not None
    assert await ServedTip.count().where(ServedTip.user == bystander.person.user_id) == 2
    assert scan_redis(url, prefix, {bystander.person.user_id})
    await delete_account(bystander.person.user_id)


async def test_deleting_twice_is_harmless(stand_in: RevokeStandIn) -> None:
    victim = await footprint()
    await delete_account(victim.person.user_id)
    again = await delete_account(victim.person.user_id)
    assert again.total_rows == 0
    assert stand_in.received == [REFRESH]


async def test_deletion_goes_on_when_the_provider_is_down(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    patched = dataclasses.replace(get_settings(), google_revoke_url="http://127.0.0.1:9/revoke")
    monkeypatch.setattr(revocation, "get_settings", lambda: patched)
    victim = await footprint()
    report = await delete_account(victim.person.user_id)
    assert report.revocation.failed == ["google"]
    assert await scan_database(victim.needles, deleted_user=victim.person.user_id) == []
    assert REFRESH not in caplog.text
    assert "google" in caplog.text


async def test_every_table_and_column_is_covered_on_this_database() -> None:
    assert uncovered() == []
    assert await uncovered_in_database() == []


async def test_delete_tip_history_takes_its_feedback(stand_in: RevokeStandIn) -> None:
    person = await footprint()
    uid = person.person.user_id
    counts = await delete_category(uid, "tips")
    assert counts["recommender.served_tip"] == 2
    assert counts["recommender.feedback"] == 1  # hangs off the tips, so it goes with them
    assert await ServedTip.count().where(ServedTip.user == uid) == 0
    assert await Feedback.count().where(Feedback.user == uid) == 0
    assert await Snooze.count().where(Snooze.user == uid) == 1  # feedback category, kept
    assert stand_in.received == []
    await delete_account(uid)


async def test_delete_integrations_revokes_first(stand_in: RevokeStandIn) -> None:
    from datetime import UTC, datetime

    from backend.identity.vault import list_providers
    from backend.recommender.habits_cache import habits_of
    from backend.redis import get_redis, key

    person = await footprint()
    uid = person.person.user_id
    await habits_of(uid, "UTC", datetime.now(UTC))  # counted and cached from the demo tasks
    assert await get_redis().exists(key("habits", uid))
    counts = await delete_category(uid, "integrations")
    assert counts["identity.provider_credential"] == 1
    assert counts["integrations.demo_task"] > 0
    assert stand_in.received == [REFRESH]
    assert await list_providers(uid) == []
    # Habits counted from the deleted completions are not served from the cache afterwards.
    assert not await get_redis().exists(key("habits", uid))
    await delete_account(uid)


async def test_unknown_or_protected_category_is_refused() -> None:
    with pytest.raises(LookupError):
        await delete_category("00000000-0000-4000-8000-000000000000", "account")
    with pytest.raises(LookupError):
        await delete_category("00000000-0000-4000-8000-000000000000", "everything")


async def test_delete_computed_profile_keeps_what_the_person_set() -> None:
    from backend.profile.tables import Preference
    from backend.recommender.tables import PolicyState

    person = await footprint()
    uid = person.person.user_id
    await Preference(user=uid, scope="global", key="quiet", value=True, source="user").save()
    await Preference(
        user=uid, scope="global", key="usual_hour", value=9, source="inferred", evidence=12
    ).save()
    counts = await delete_category(uid, "profile")
    assert counts["profile.preference"] == 1
    assert counts["recommender.policy_state"] >= 1
    assert await PolicyState.count().where(PolicyState.user == uid) == 0
    left = await Preference.select(Preference.key).where(Preference.user == uid)
    assert [r["key"] for r in left] == ["quiet"]
    await delete_account(uid)
