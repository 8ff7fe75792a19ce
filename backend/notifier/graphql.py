"""GraphQL of the notifier: the public key, my subscriptions, subscribe / unsubscribe, a test
push, and (for admins) a person's delivery attempts."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from backend.contracts.errors import Refused
from backend.graphql.context import Info
from backend.graphql.permissions import IsAdmin, IsAuthenticated
from backend.graphql.types import UserError
from backend.notifier import delivery, subscriptions
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
        return UnsubscribePushPayload(ok=True)

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
