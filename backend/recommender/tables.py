"""Recommender tables: the decision log of served tips, reactions, policy state, snoozes,
the policy registry, shadow decisions and the pooled (population) policy states."""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Real,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

PEOPLE = LazyTableReference("User", module_path="backend.identity.tables")
"""The people table, by name: the recommender's rows hang off a person, but its code imports no
domain (docs/architecture.md); Piccolo resolves the reference when the tables are used."""


NOT_SCORED, SCORED, REPLAYED = 0, 1, 2
"""`served_tip.shadowed`: how far the shadow policies have replayed a decision (ADR 0046)."""


class ServedTip(Table, tablename="served_tip"):
    """One served tip and why it was picked: the decision log (30-day retention)."""

    id = UUID(primary_key=True)
    user: ForeignKey[Table] = ForeignKey(PEOPLE, on_delete=OnDelete.cascade, index=True)
    item_ref = Varchar(length=200)
    source = Varchar(length=50)
    kind = Varchar(length=20, default="task")
    content = Text()
    detail = JSON(default="{}")
    features = JSON(default="{}")
    candidate_count = Integer()
    policy_id = Varchar(length=50)
    policy_version = Varchar(length=20)
    score = Real()
    propensity = Real()
    latency_ms = Real()
    served_at = Timestamptz(default=TimestamptzNow(), index=True)
    reacted_at = Timestamptz(null=True, default=None, index=True)  # admin rollups read changes
    project = Varchar(length=200, default="")
    reaction = Varchar(length=10, null=True, default=None)
    reward = Real(null=True, default=None)
    explanation = JSON(default="{}")
    candidates = JSON(default="{}")
    """Raw features of every candidate scored ({refs, keys, values}): replay for evaluation."""
    shadowed = SmallInt(default=NOT_SCORED)
    """How far the shadow policies have replayed this decision (shadow_replay.py): 0 not
    scored, 1 scored (its reward not learned yet), 2 done."""


class Feedback(Table, tablename="feedback"):
    """A reaction to a served tip and the reward it earned. One per tip."""

    id = UUID(primary_key=True)
    tip = ForeignKey(ServedTip, on_delete=OnDelete.cascade, unique=True)
    user: ForeignKey[Table] = ForeignKey(PEOPLE, on_delete=OnDelete.cascade, index=True)
    action = Varchar(length=10)
    dwell_ms = Integer()
    dwell_source = Varchar(length=10, default="client")
    reward = Real()
    reward_source = Varchar(length=20, default="reaction")
    created_at = Timestamptz(default=TimestamptzNow())
    answer = Varchar(length=12, null=True, default=None)
    """The answer given (helpful, not_now, true, …; reward.py); `action` keeps its effect
    (done, snooze or dismiss) for the rollups. Null on reactions stored before answers per kind."""
    request_id = Varchar(length=80, null=True, default=None)
    """The client's id for the request that stored it: a retry with the same id gets the same
    answer instead of ALREADY_REACTED (an idempotency key)."""


class PolicyState(Table, tablename="policy_state"):
    """A policy's learned per-user state, versioned by policy id and version."""

    id = UUID(primary_key=True)
    user: ForeignKey[Table] = ForeignKey(PEOPLE, on_delete=OnDelete.cascade, index=True)
    policy_id = Varchar(length=50)
    policy_version = Varchar(length=20)
    state = JSON(default="{}")
    updates = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class Snooze(Table, tablename="snooze"):
    """An item hidden from a user until a time (snoozed or dismissed)."""

    id = UUID(primary_key=True)
    user: ForeignKey[Table] = ForeignKey(PEOPLE, on_delete=OnDelete.cascade, index=True)
    item_ref = Varchar(length=200)
    until = Timestamptz()
    reason = Varchar(length=10, default="snooze")
    created_at = Timestamptz(default=TimestamptzNow())


class PolicyRegistry(Table, tablename="policy_registry"):
    """Which policies run: exactly one active (served), any number of shadows, or disabled."""

    id = UUID(primary_key=True)
    policy_id = Varchar(length=50, unique=True)
    version = Varchar(length=20)
    status = Varchar(length=10, default="shadow")
    # 1 for the active policy, NULL otherwise: the unique index makes a second active
    # impossible even when two admins promote at the same moment.
    active_slot = Integer(null=True, default=None, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    promoted_at = Timestamptz(null=True, default=None)


class ShadowDecision(Table, tablename="shadow_decision"):
    """What a shadow policy would have served for a served tip (logged, never shown)."""

    id = UUID(primary_key=True)
    tip = ForeignKey(ServedTip, on_delete=OnDelete.cascade, index=True)
    policy_id = Varchar(length=50, index=True)
    policy_version = Varchar(length=20)
    item_ref = Varchar(length=200)
    score = Real()
    propensity = Real()
    served_propensity = Real()
    """The shadow's probability of the candidate actually served (off-policy evaluation)."""
    agrees = Boolean(default=False)
    explored = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class PopulationState(Table, tablename="population_state"):
    """A pooled policy's population model, learned from every user's rewards by a job."""

    id = UUID(primary_key=True)
    policy_id = Varchar(length=50, unique=True)
    policy_version = Varchar(length=20)
    state = JSON(default="{}")
    rows = Integer(default=0)
    watermark = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class Outbox(Table, tablename="recommender_outbox"):
    """Side effects of a stored reaction, written in its transaction and sent after it commits.

    kind "event": `body` is {"subject", "payload"} for the bus; kind "job": {"function",
    "args", "job_id"} for the queue. A row is deleted once sent; a worker sends what a failed
    or crashed request left behind (outbox.drain), so a stored reaction's "done" close and its
    event can never be lost, only delayed. `given_up_at`: a row the drain could not send after
    many attempts (kept a day for a look, then purged).
    """

    id = UUID(primary_key=True)
    user: ForeignKey[Table] = ForeignKey(PEOPLE, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=10)
    body = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    attempts = Integer(default=0)
    given_up_at = Timestamptz(null=True, default=None, index=True)
