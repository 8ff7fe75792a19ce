"""The time-of-day agent's hour profiles in the decider: the profile of today's kind of day is
what the learner weighs the hour by, and it is logged in the decision's context."""

from __future__ import annotations

from backend.notifier import decider, push_settings
from backend.notifier.tables import PushDecision, PushLearnerState
from backend.profile import service as profile
from backend.recommender import push_policy
from tests.support.push_people import subscribed_person_outside_quiet_hours
from tests.support.push_standin import PushStandIn


async def _person_active_at(push_service: PushStandIn, activity_now: float) -> tuple[str, int]:
    """A subscribed person outside quiet hours whose agent says they are this active now (and
    fully active at every other hour); a certain learner (no exploration); their local hour."""
    user_id, hour = await subscribed_person_outside_quiet_hours(push_service)
    profile_now = [activity_now if h == hour else 1.0 for h in range(24)]
    await profile.set_preferences(
        user_id,
        push_settings.TIME_OF_DAY,
        {"hour_profile": profile_now, "hour_profile_weekend": profile_now},
    )
    certain = push_policy.PushState(precision=[1e4] * len(push_policy.FEATURES))
    await PushLearnerState(user=user_id, state=certain.as_json()).save()
    return user_id, hour


async def test_a_quiet_hour_in_the_profile_is_worth_less_than_an_active_one(
    push_service: PushStandIn,
) -> None:
    idle_id, hour = await _person_active_at(push_service, 0.1)
    busy_id, _ = await _person_active_at(push_service, 1.0)
    idle = await decider.decide(idle_id, "manual")
    busy = await decider.decide(busy_id, "manual")
    assert idle is not None
    assert busy is not None
    assert idle.value_now is not None
    assert busy.value_now is not None
    assert idle.value_now < busy.value_now / 2  # 0.1^1.5 of the odds
    row = await (
        PushDecision.select(PushDecision.context)
        .where(PushDecision.id == idle.id)
        .output(load_json=True)
        .first()
    )
    assert row is not None
    logged = decider.context_of(row["context"])
    assert len(logged.hour_profile) == 24
    assert logged.hour_profile[hour] == 0.1
    assert push_policy.activity(logged.hour_profile, logged.local_hour) < 0
