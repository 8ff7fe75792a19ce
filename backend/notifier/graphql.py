"""GraphQL of the notifier: the public key, my subscriptions, subscribe / unsubscribe, a test
push, my push settings, and (for admins) a person's delivery attempts and push decisions."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from backend.contracts.errors import Refused
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin, IsAuthenticated
from backend.graphql.types import UserError
from backend.notifier import decider, delivery, outcomes, push_settings, subscriptions
from backend.notifier.message import push_tip
from backend.notifier.vapid import current_key
from backend.recommender import service as recommender


@strawberry.input
class PushSubscriptionKeysInput:
    """`keys` of PushSubscription.toJSON() (base64url)."""

    p256dh: str
    auth: str


@strawberry.input
class PushSubscriptionInput:
    """Exactly what the browser's PushSubscription.toJSON() gives."""

    endpoint: str
    keys: PushSubscriptionKeysInput
    expiration_time: float | None = None


@strawberry.type(name="PushSubscription")
class PushSubscriptionType:
    """One of my browsers that can show notifications."""

    id: strawberry.ID
    endpoint: str
    device_label: str
    created_at: datetime
    expires_at: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_failure: str | None

    @classmethod
    def of(cls, view: subscriptions.SubscriptionView) -> PushSubscriptionType:
        """From the service's view."""
        return cls(
            id=strawberry.ID(view.id),
            endpoint=view.endpoint,
            device_label=view.device_label,
            created_at=view.created_at,
            expires_at=view.expires_at,
            last_success_at=view.last_success_at,
            last_failure_at=view.last_failure_at,
            last_failure=view.last_failure or None,
        )


@strawberry.type
class SubscribePushPayload:
    """The subscription kept (or why not: then nothing was stored)."""

    subscription: PushSubscriptionType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UnsubscribePushPayload:
    """Whether the subscription was forgotten."""

    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SendTestPushPayload:
    """How many pushes were queued, and for which tip."""

    queued: int = 0
    tip_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PushAttempt:
    """One request to a push service (no payload is kept)."""

    subscription_id: strawberry.ID
    tip_id: str
    attempt: int
    status: int = strawberry.field(description="HTTP status of the push service; 0: no answer.")
    outcome: str = strawberry.field(description="delivered | gone | too_large | retry | failed")
    latency_ms: float
    retry_after_s: int | None
    service_host: str
    created_at: datetime


@strawberry.type
class PushDecisionType:
    """One decision of the push decider: push or hold, why, and its propensity."""

    id: strawberry.ID
    decided_at: datetime
    trigger: str = strawberry.field(description="candidate | context | periodic | manual")
    tip_id: str
    tip_kind: str
    push: bool
    reason: str = strawberry.field(
        description=(
            "value (pushed); below_threshold / better_hour (the learner held; better_later "
            "in older rows); rest (the budget held after unanswered pushes); or the hard "
            "rule that held: quiet_hours, daily_cap, spacing, active, already_pushed, "
            "silenced, no_candidate"
        )
    )
    better_hour: int | None = strawberry.field(
        description="For a hold for a better hour: the local hour (0-23) the learner waits for."
    )
    value_now: float | None = strawberry.field(description="Chance of a reaction if pushed now.")
    value_wait: float | None = strawberry.field(description="Best discounted chance later.")
    threshold: float | None = strawberry.field(description="The person's learned threshold.")
    propensity: float = strawberry.field(description="Probability of the action taken.")
    policy_id: str
    outcome: str | None = strawberry.field(
        description="reacted | dismissed | ignored | turned_off (pushes only; null: open)"
    )
    outcome_at: datetime | None

    @classmethod
    def of(cls, v: decider.DecisionView) -> PushDecisionType:
        """From the service's view."""
        return cls(
            id=strawberry.ID(v.id),
            decided_at=v.decided_at,
            trigger=v.trigger,
            tip_id=v.tip_id,
            tip_kind=v.tip_kind,
            push=v.push,
            reason=v.reason,
            better_hour=v.better_hour,
            value_now=v.value_now,
            value_wait=v.value_wait,
            threshold=v.threshold,
            propensity=v.propensity,
            policy_id=v.policy_id,
            outcome=v.outcome,
            outcome_at=v.outcome_at,
        )


@strawberry.type(name="PushSettings")
class PushSettingsType:
    """When oO may notify me."""

    quiet_start: int = strawberry.field(description="First local hour of quiet (0-23).")
    quiet_end: int = strawberry.field(description="First local hour after quiet.")
    quiet_source: str = strawberry.field(
        description="push (set here) | agent (time of day, inferred or set there) | default"
    )
    daily_max: int
    min_spacing_minutes: int

    @classmethod
    def of(cls, s: push_settings.PushSettings) -> PushSettingsType:
        """From the service's settings."""
        return cls(
            quiet_start=s.quiet_start,
            quiet_end=s.quiet_end,
            quiet_source=s.quiet_source,
            daily_max=s.daily_max,
            min_spacing_minutes=s.min_spacing_min,
        )


@strawberry.type
class SetPushSettingsPayload:
    """The settings now in force (or why nothing was stored)."""

    settings: PushSettingsType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _error(err: Refused) -> UserError:
    return UserError(code=err.code, message=err.message, field=err.field)


@strawberry.type
class NotifierQuery:
    """Notifier queries."""

    @strawberry.field(
        description="The VAPID public key (base64url) to pass as applicationServerKey."
    )
    async def push_public_key(self) -> str:
        return (await current_key()).public_key

    @strawberry.field(permission_classes=[IsAuthenticated], description="My push subscriptions.")
    async def push_subscriptions(self, info: Info) -> list[PushSubscriptionType]:
        user = await info.context.user()
        return [
            PushSubscriptionType.of(v) for v in await subscriptions.subscriptions_of(user.user_id)
        ]

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="A person's latest push delivery attempts, newest first (admins only).",
    )
    async def admin_push_attempts(
        self, info: Info, user_id: strawberry.ID, last: int = 50
    ) -> list[PushAttempt]:
        try:
            uid = str(uuid.UUID(str(user_id)))
        except ValueError:
            return []
        return [
            PushAttempt(
                subscription_id=strawberry.ID(a.subscription_id),
                tip_id=a.tip_id,
                attempt=a.attempt,
                status=a.status,
                outcome=a.outcome,
                latency_ms=a.latency_ms,
                retry_after_s=a.retry_after_s,
                service_host=a.service_host,
                created_at=a.created_at,
            )
            for a in await delivery.attempts_of(uid, last)
        ]

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="A person's latest push decisions (push or hold, why), newest first (admins).",
    )
    async def push_decisions(
        self, info: Info, user_id: strawberry.ID, first: int = 50
    ) -> list[PushDecisionType]:
        try:
            uid = str(uuid.UUID(str(user_id)))
        except ValueError:
            return []
        return [PushDecisionType.of(v) for v in await decider.decisions_of(uid, first)]

    @strawberry.field(permission_classes=[IsAuthenticated], description="My push settings.")
    async def push_settings(self, info: Info) -> PushSettingsType:
        user = await info.context.user()
        return PushSettingsType.of(await push_settings.settings_of(user.user_id))


@strawberry.type
class NotifierMutation:
    """Notifier mutations."""

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Keep this browser's PushSubscription (its toJSON()), with a device label.",
    )
    async def subscribe_push(
        self, info: Info, subscription: PushSubscriptionInput, device_label: str | None = None
    ) -> SubscribePushPayload:
        user = await info.context.user()
        try:
            view = await subscriptions.subscribe(
                user.user_id,
                subscription.endpoint,
                subscription.expiration_time,
                subscription.keys.p256dh,
                subscription.keys.auth,
                device_label or "",
            )
        except Refused as err:
            return SubscribePushPayload(errors=[_error(err)])
        return SubscribePushPayload(subscription=PushSubscriptionType.of(view))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="Stop notifications to this endpoint."
    )
    async def unsubscribe_push(self, info: Info, endpoint: str) -> UnsubscribePushPayload:
        user = await info.context.user()
        try:
            await subscriptions.unsubscribe(user.user_id, endpoint)
        except Refused as err:
            return UnsubscribePushPayload(errors=[_error(err)])
        # Turning notifications off soon after a push is the costliest outcome to learn from.
        await outcomes.record_turned_off(user.user_id)
        return UnsubscribePushPayload(ok=True)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description=(
            "Set my push settings: quiet hours (both, or neither to follow my time-of-day "
            "agent), at most dailyMax pushes a day, at least minSpacingMinutes apart."
        ),
    )
    async def set_push_settings(
        self,
        info: Info,
        quiet_start: int | None = None,
        quiet_end: int | None = None,
        daily_max: int | None = None,
        min_spacing_minutes: int | None = None,
    ) -> SetPushSettingsPayload:
        user = await info.context.user()
        try:
            done = await push_settings.set_settings(
                user.user_id,
                quiet_start=quiet_start,
                quiet_end=quiet_end,
                daily_max=daily_max,
                min_spacing_min=min_spacing_minutes,
            )
        except Refused as err:
            return SetPushSettingsPayload(errors=[_error(err)])
        return SetPushSettingsPayload(settings=PushSettingsType.of(done))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Send my current tip to all my subscriptions now.",
    )
    async def send_test_push(self, info: Info) -> SendTestPushPayload:
        user = await info.context.user()
        if not await subscriptions.subscription_ids_of(user.user_id):
            return SendTestPushPayload(
                errors=[UserError(code="NO_SUBSCRIPTION", message="Turn on notifications first.")]
            )
        tip = await recommender.current_tip(user)
        if tip is None:
            return SendTestPushPayload(
                errors=[UserError(code="NO_TIP", message="There is no tip to send right now.")]
            )
        due = tip.detail.get("due_date")
        queued = await delivery.deliver(
            user.user_id,
            push_tip(
                tip.id, tip.content, tip.kind, tip.served_at, due if isinstance(due, str) else None
            ),
        )
        return SendTestPushPayload(queued=queued, tip_id=strawberry.ID(tip.id))
