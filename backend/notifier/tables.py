"""Notifier tables: the deployment's VAPID keys, people's push subscriptions, delivery attempts,
and the decider's decisions, learned state and people's push settings."""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.identity.tables import User


class PushVapidKey(Table, tablename="push_vapid_key"):
    """A VAPID key pair of this deployment (private half sealed by the vault). The newest
    unretired one signs new subscriptions; a retired one still signs for the subscriptions
    made with it, until the browser re-subscribes with the new public key."""

    id = UUID(primary_key=True)
    public_key = Varchar(length=100)
    """The application server key: base64url of the uncompressed P-256 point."""
    private_key_enc = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)


class PushSubscription(Table, tablename="push_subscription"):
    """A browser's PushSubscription of a person (its keys sealed by the vault)."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    endpoint = Varchar(length=1000, unique=True)
    p256dh_enc = Text()
    auth_enc = Text()
    expires_at = Timestamptz(null=True, default=None)
    """The browser's expirationTime, when it gave one."""
    device_label = Varchar(length=100, default="")
    vapid_key = UUID()
    """The PushVapidKey the browser subscribed with (it must sign every push to it)."""
    created_at = Timestamptz(default=TimestamptzNow())
    last_success_at = Timestamptz(null=True, default=None)
    last_failure_at = Timestamptz(null=True, default=None)
    last_failure = Varchar(length=200, default="")


class PushAttempt(Table, tablename="push_attempt"):
    """One request to a push service: its answer and how long it took (never the payload)."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    subscription_id = UUID()
    """No foreign key: the attempt that found a subscription gone outlives it."""
    tip_id = Varchar(length=64)
    attempt = Integer(default=1)
    status = Integer(default=0)
    """The push service's HTTP status (0: no answer)."""
    outcome = Varchar(length=20)
    """delivered | gone | too_large | retry | failed"""
    latency_ms = Float(default=0.0)
    retry_after_s = Integer(null=True, default=None)
    service_host = Varchar(length=255, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class PushDecision(Table, tablename="push_decision"):
    """One decision of the decider, push or hold, with its why and propensity (for OPE)."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    decided_at = Timestamptz(default=TimestamptzNow(), index=True)
    trigger = Varchar(length=20)
    """candidate | context | periodic | manual"""
    tip_id = Varchar(length=64, default="", index=True)
    tip_kind = Varchar(length=20, default="")
    tip_score = Float(null=True, default=None)
    """The recommender's own score of the tip (None: no tip, or a rule served it unscored): the
    person's recent scores are what the tip floor ranks a tip against (ADR 0040)."""
    push = Boolean(default=False)
    reason = Varchar(length=30)
    """value (pushed) · a learner hold (below_threshold, better_hour; better_later in older
    rows) · the budget's hold (rest) · the tip floor's hold (weak_tip) · a hard rule's code"""
    value_now = Float(null=True, default=None)
    value_wait = Float(null=True, default=None)
    threshold = Float(null=True, default=None)
    propensity = Float(default=1.0)
    """Probability of the action taken (1.0 when a hard rule decided)."""
    policy_id = Varchar(length=40, default="")
    context = JSON(default="{}")
    """The learner's context (hour, weekday, fatigue ages, …): what an update and OPE replay."""
    expires_at = Timestamptz(null=True, default=None)
    """A push not answered by then is ignored."""
    outcome = Varchar(length=20, null=True, default=None)
    """reacted | dismissed | ignored | turned_off (pushes only)"""
    outcome_at = Timestamptz(null=True, default=None)


class PushLearnerState(Table, tablename="push_learner_state"):
    """A person's push learner (push_policy.PushState as JSON)."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, unique=True)
    state = JSON(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())


class PushPreference(Table, tablename="push_preference"):
    """A person's push settings; a null quiet hour falls back to the time-of-day agent's."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, unique=True)
    quiet_start = Integer(null=True, default=None)
    quiet_end = Integer(null=True, default=None)
    daily_max = Integer(default=3)
    min_spacing_min = Integer(default=90)
    updated_at = Timestamptz(default=TimestamptzNow())
