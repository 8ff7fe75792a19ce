"""Learning from everyone is opt-in: only consenting people's rewards enter the pooled prior,
the prior is served only from 20 people on, and withdrawing removes a person at the next rebuild.

The database is shared by the session, so each test starts with nobody consenting (only these
tests grant `learning.everyone`).
"""

from __future__ import annotations

import pytest

from backend.contracts.consent import LEARNING_EVERYONE, people_granting
from backend.identity.service import Principal
from backend.profile.service import consents, learns_from_everyone, set_consent
from backend.profile.tables import ProfileConsent
from backend.recommender import service
from backend.recommender.population import (
    MIN_PEOPLE,
    PEOPLE_KEY,
    forget_priors,
    population_priors,
    refresh_population,
)
from backend.recommender.reward import Action
from backend.recommender.tables import PopulationState
from tests.integration.recommender.conftest import person_with_tasks

TASKS = [("Water the plants", 1), ("Call the bank", 4), ("Book the dentist", 2)]


@pytest.fixture(autouse=True)
async def nobody_consents() -> None:
    await ProfileConsent.delete().where(ProfileConsent.key == LEARNING_EVERYONE)
    forget_priors()


async def reacting_person(consent: bool) -> Principal:
    """A person who reacted to one tip, with or without the consent."""
    user = await person_with_tasks(*TASKS)
    if consent:
        await set_consent(user.user_id, LEARNING_EVERYONE, True)
    tip = await service.current_tip(user)
    assert tip is not None
    await service.react(user, tip.id, Action.DONE, 30_000)
    return user


async def pooled() -> tuple[int, int]:
    """(feedback rows, people) of oo-v1's stored population state."""
    row = (
        await PopulationState.select()
        .where(PopulationState.policy_id == "oo-v1")
        .output(load_json=True)
        .first()
    )
    assert row is not None
    state = row["state"]
    return int(row["rows"]), int(state[PEOPLE_KEY])


async def oo_prior_served() -> bool:
    forget_priors()
    return "oo-v1" in await population_priors()


async def test_the_consent_is_off_until_granted() -> None:
    user = await person_with_tasks(*TASKS)
    view = {c.key: c for c in await consents(user.user_id)}[LEARNING_EVERYONE]
    assert not view.granted
    assert not await learns_from_everyone(user.user_id)
    assert user.user_id not in await people_granting(LEARNING_EVERYONE)
    await set_consent(user.user_id, LEARNING_EVERYONE, True)
    assert await learns_from_everyone(user.user_id)
    assert user.user_id in await people_granting(LEARNING_EVERYONE)


async def test_non_consenting_rewards_are_left_out() -> None:
    await reacting_person(consent=True)
    await reacting_person(consent=False)
    await reacting_person(consent=False)
    await refresh_population(settle_s=0)
    assert await pooled() == (1, 1)
    assert not await oo_prior_served(), "one person is far below the minimum"


async def test_prior_needs_twenty_people_and_withdrawal_removes_one() -> None:
    people = [await reacting_person(consent=True) for _ in range(MIN_PEOPLE - 1)]
    late = await reacting_person(consent=False)
    await refresh_population(settle_s=0)
    assert await pooled() == (MIN_PEOPLE - 1, MIN_PEOPLE - 1)
    assert not await oo_prior_served()

    await set_consent(late.user_id, LEARNING_EVERYONE, True)  # their past reactions count too
    await refresh_population(settle_s=0)
    assert await pooled() == (MIN_PEOPLE, MIN_PEOPLE)
    assert await oo_prior_served()

    await set_consent(people[0].user_id, LEARNING_EVERYONE, False)
    assert await pooled() == (MIN_PEOPLE, MIN_PEOPLE), "removed at the next rebuild, not before"
    await refresh_population(settle_s=0)
    assert await pooled() == (MIN_PEOPLE - 1, MIN_PEOPLE - 1)
    assert not await oo_prior_served()
