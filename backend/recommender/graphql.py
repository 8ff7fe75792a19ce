"""GraphQL of the recommender: the current tip and the reaction to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from backend import presence
from backend.events import live
from backend.graphql.context import Info
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.types import UserError
from backend.recommender import answers, service
from backend.recommender.reward import Action


@strawberry.enum
class TipKind(Enum):
    """What a tip is."""

    TASK = "task"
    ADVICE = "advice"
    INSIGHT = "insight"
    REMINDER = "reminder"


@strawberry.enum
class FeedbackAction(Enum):
    """An answer to a tip. Each kind has its own (`Tip.answers`); DONE, SNOOZE and DISMISS are
    accepted on every kind."""

    DONE = "done"
    SNOOZE = "snooze"
    DISMISS = "dismiss"
    HELPFUL = "helpful"
    NOT_NOW = "not_now"
    NOT_FOR_ME = "not_for_me"
    TRUE = "true"
    NOT_REALLY = "not_really"
    LATER = "later"


@strawberry.type
class TipAnswer:
    """One answer a tip offers: send `action` to `feedback`; show `label`; bind `key`."""

    action: FeedbackAction
    label: str
    key: str = strawberry.field(description="The keyboard key the tip page binds to it.")
    aria_label: str = strawberry.field(description="What a screen reader says for it.")


def _answers(kind: str) -> list[TipAnswer]:
    return [
        TipAnswer(
            action=FeedbackAction(a.action.value), label=a.label, key=a.key, aria_label=a.aria_label
        )
        for a in answers.answers_for(kind)
    ]


@strawberry.type
class FeatureContribution:
    """One feature's part in a score: its (scaled) value times the policy's weight for it."""

    name: str
    value: float
    weight: float
    contribution: float


@strawberry.type
class TipExplanation:
    """Why this tip was picked."""

    policy_id: str
    policy_version: str
    score: float
    propensity: float = strawberry.field(description="The probability the policy had of this pick.")
    explored: bool = strawberry.field(description="Picked to learn, not as the best guess.")
    candidate_count: int
    features: list[FeatureContribution] = strawberry.field(
        description="The top contributing features, largest first."
    )
    summary: str = strawberry.field(description="One plain-language line.")

    @classmethod
    def from_stored(cls, why: dict[str, Any]) -> TipExplanation | None:
        """From the explanation stored with the decision (None for tips logged before it)."""
        if not why or "policy_id" not in why:
            return None
        return cls(
            policy_id=str(why["policy_id"]),
            policy_version=str(why.get("policy_version", "")),
            score=float(why.get("score", 0.0)),
            propensity=float(why.get("propensity", 0.0)),
            explored=bool(why.get("explored", False)),
            candidate_count=int(why.get("candidate_count", 0)),
            features=[
                FeatureContribution(
                    name=str(f["name"]),
                    value=float(f["value"]),
                    weight=float(f["weight"]),
                    contribution=float(f["contribution"]),
                )
                for f in why.get("features", [])
            ],
            summary=str(why.get("line", "")),
        )


@strawberry.type
class Tip:
    """The one thing to do right now."""

    id: strawberry.ID
    content: str
    kind: TipKind
    source: str
    served_at: datetime
    project: str | None
    due_date: date | None
    priority: int
    explanation: TipExplanation | None = strawberry.field(
        default=None, description="Why this tip was picked."
    )
    model: str | None = strawberry.field(
        default=None,
        description='Who wrote it: a litellm model, "template", or null for a source task.',
    )
    prompt_version: str | None = strawberry.field(
        default=None, description="The version (content hash) of the prompt that wrote it."
    )
    answers: list[TipAnswer] = strawberry.field(
        default_factory=list,
        description="The answers this kind of tip offers, in the order to show them.",
    )
    phrasing: str | None = strawberry.field(
        default=None,
        description=(
            "The tip said as a person would say it, to show instead of `content` (which keeps"
            " the task's title as it is): one short sentence, e.g. on a newcomer's first task."
            " Null when `content` is already what to show."
        ),
    )

    @classmethod
    def from_view(cls, view: service.TipView) -> Tip:
        """Build from the service's view."""
        due = view.detail.get("due_date")
        return cls(
            explanation=TipExplanation.from_stored(view.explanation),
            id=strawberry.ID(view.id),
            content=view.content,
            kind=TipKind(view.kind),
            source=view.source,
            served_at=view.served_at,
            project=view.detail.get("project") or None,
            due_date=date.fromisoformat(due) if isinstance(due, str) else None,
            priority=int(view.detail.get("priority", 1)),
            model=view.detail.get("model") or None,
            prompt_version=view.detail.get("prompt_version") or None,
            answers=_answers(view.kind),
            phrasing=str(view.detail["phrasing"]) if view.detail.get("phrasing") else None,
        )


@strawberry.type
class FeedbackPayload:
    """The result of a reaction: the tip, its reward, and the next tip (or errors)."""

    tip: Tip | None = None
    reward: float | None = None
    next_tip: Tip | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


TIP_SUBJECTS = ("signals.tip.served", "signals.tip.feedback")


@strawberry.type
class RecommenderQuery:
    """Recommender queries."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The one tip for now (stable on reload until answered); null when nothing.",
    )
    async def tip(self, info: Info) -> Tip | None:
        view = await service.current_tip(await info.context.user())
        return Tip.from_view(view) if view else None


@strawberry.type
class RecommenderMutation:
    """Recommender mutations."""

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description=(
            "Answer a tip with one of its `answers` (DONE, SNOOZE or DISMISS also fit every"
            " kind), with the visible time in ms. Another kind's answer: ANSWER_NOT_FOR_KIND."
        ),
    )
    async def feedback(
        self,
        info: Info,
        tip_id: strawberry.ID,
        action: FeedbackAction,
        dwell_ms: int | None = None,
        client_request_id: Annotated[
            str | None,
            strawberry.argument(
                description="Your id for this request (≤ 80 characters): a retry with the "
                "same id gets the stored answer instead of ALREADY_REACTED."
            ),
        ] = None,
    ) -> FeedbackPayload:
        user = await info.context.user()
        if client_request_id is not None and not 0 < len(client_request_id) <= 80:
            return FeedbackPayload(
                errors=[
                    UserError(
                        code="BAD_USER_INPUT",
                        message="clientRequestId must be 1 to 80 characters.",
                        field="clientRequestId",
                    )
                ]
            )
        try:
            reaction = await service.react(
                user, str(tip_id), Action(action.value), dwell_ms, client_request_id
            )
        except service.ReactionError as err:
            return FeedbackPayload(
                errors=[UserError(code=err.code, message=err.message, field=err.field)]
            )
        nxt = await service.next_tip_or_none(user)
        return FeedbackPayload(
            tip=Tip.from_view(reaction.tip),
            reward=reaction.reward,
            next_tip=Tip.from_view(nxt) if nxt else None,
        )


@strawberry.type
class RecommenderSubscription:
    """The person's own tip, live."""

    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description=(
            "My current tip now, then again whenever it changes: answered on another device, or"
            " a new tip served (null: nothing to show). Keeps two open pages in step."
        ),
    )
    async def my_tip(self, info: Info) -> AsyncGenerator[Tip | None, None]:
        user = await info.context.user()
        # An open tip page: the push decider does not interrupt someone already looking.
        present = asyncio.create_task(presence.keep_present(user.user_id))
        try:
            shown = await service.current_tip(user)
            yield Tip.from_view(shown) if shown else None
            async for _event in live.subscribe(TIP_SUBJECTS, user.user_id):
                now = await service.current_tip(user)
                if (now.id if now else None) == (shown.id if shown else None):
                    continue  # nothing changed on screen (e.g. the serve of this very tip)
                shown = now
                yield Tip.from_view(now) if now else None
        finally:
            present.cancel()
