"""People set up for the push decider's tests."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from backend.notifier import push_settings, subscriptions
from backend.profile import service as profile
from tests.support.fixtures import make_person
from tests.support.push_standin import PushStandIn


async def subscribed_person_outside_quiet_hours(push_service: PushStandIn) -> tuple[str, int]:
    """A person with tasks and one subscription, whose quiet hours start three hours from now and
    whose push limits never hold a decision: (user id, their local hour)."""
    person = await make_person(tasks=True)
    browser = push_service.new_browser()
    keys = browser.to_json()["keys"]
    await subscriptions.subscribe(
        person.user_id, browser.endpoint, None, keys["p256dh"], keys["auth"], "phone"
    )
    elig = await profile.eligibility(person.user_id)
    assert elig is not None
    hour = datetime.now(UTC).astimezone(ZoneInfo(elig.timezone)).hour
    await push_settings.set_settings(
        person.user_id,
        quiet_start=(hour + 3) % 24,
        quiet_end=(hour + 5) % 24,
        daily_max=3,
        min_spacing_min=0,
    )
    return person.user_id, hour
