"""A notification's Done / Snooze: the action token stands in for the session, and the
reaction goes through the recommender's own `react` (one reward, one policy update)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.contracts.errors import Refused
from backend.contracts.principal import authenticator
from backend.notifier import action_tokens, outcomes
from backend.recommender import service
from backend.recommender.reward import MAX_DWELL_MS, Action


@dataclass(frozen=True)
class ActionResult:
    """What answering from a notification did."""

    tip_id: str
    action: str
    reward: float


async def react_with_token(token: str, dwell_ms: int | None) -> ActionResult:
    """Verify the token, use it once, record the reaction; Refused with a code otherwise.

    The dwell is checked before the token is used, so a malformed call does not burn it.
    """
    claims = action_tokens.verify(token)
    if claims.action not in action_tokens.ACTIONS:  # an "open" token answers nothing
        raise Refused("INVALID_TOKEN", "This notification's link is not valid.", "token")
    if dwell_ms is not None and not 0 <= dwell_ms <= MAX_DWELL_MS:
        raise Refused("INVALID_DWELL", f"dwellMs must be between 0 and {MAX_DWELL_MS}.", "dwellMs")
    principal = await authenticator().from_user_id(claims.user_id, "push")
    if principal is None:
        raise Refused("INVALID_TOKEN", "This notification's link is not valid.", "token")
    await action_tokens.claim(claims)
    try:
        reaction = await service.react(principal, claims.tip_id, Action(claims.action), dwell_ms)
    except service.ReactionError as err:
        if err.code == "ALREADY_REACTED":
            raise Refused("ALREADY_ANSWERED", "This tip was already answered.", "token") from None
        raise
    return ActionResult(claims.tip_id, claims.action, reaction.reward)


async def open_with_token(token: str) -> str:
    """The notification was tapped: verify its "open" token, use it once and let the push
    learner know (outcome "opened"); the tip id. Refused with a code otherwise."""
    claims = action_tokens.verify(token)
    if claims.action != action_tokens.OPEN:
        raise Refused("INVALID_TOKEN", "This notification's link is not valid.", "token")
    await action_tokens.claim(claims)
    await outcomes.record_reaction(claims.user_id, claims.tip_id, "open")
    return claims.tip_id
