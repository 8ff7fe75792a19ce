"""Integration tables. The demo source keeps its tasks here, standing in for a remote app; a
connected app's completions are kept as derivatives (when, which project, due when; no titles)."""

from piccolo.columns import UUID, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.identity.tables import User


class DemoTask(Table, tablename="demo_task"):
    """A task of the demo signal source (synthetic; what Todoist would hold for a real user)."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    project = Varchar(length=100)
    content = Varchar(length=500)
    description = Text(default="")
    priority = Integer(default=1)
    due_date = Date(null=True, default=None)
    recur_days = Integer(default=0)
    added_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)
    is_deleted = Boolean(default=False)


class Integration(Table, tablename="integration"):
    """A person's connection to a signal source and its health (no tokens here: see the vault)."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    source = Varchar(length=30)
    status = Varchar(length=20, default="connected")
    """connected | needs_attention | needs_reconnect | disconnected"""
    account = Varchar(length=255, default="")
    """The provider's id for the account (Todoist user id), to route webhooks."""
    last_sync_at = Timestamptz(null=True, default=None)
    items_seen = Integer(default=0)
    error = Varchar(length=300, default="")
    """The last problem, in words a person understands."""
    failures = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class WebhookEndpoint(Table, tablename="webhook_endpoint"):
    """A person's secret URL for the generic signed-webhook source (secret sealed by the vault)."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    slug = Varchar(length=64, unique=True, index=True)
    secret_enc = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class SourceCompletion(Table, tablename="source_completion"):
    """A task the person completed in a connected app (no title: see todoist.py), kept
    COMPLETION_KEEP_DAYS for their completion habits and the agents' histories."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    source = Varchar(length=30)
    item_ref = Varchar(length=200)
    """`todoist:<id>`: a recurring task completes many times under one ref."""
    project = Varchar(length=100)
    """The project's name at sync time."""
    due_date = Date(null=True, default=None)
    completed_at = Timestamptz(index=True)
    priority = Integer(default=1)
    """Todoist's 1 (normal) … 4 (urgent), as the completed task carried it."""
    added_at = Timestamptz(null=True, default=None)
    """When the task was added (None: the source did not say); with `completed_at` it says
    which tasks were open at each past completion (recommender/history_fit.py)."""
    recurring = Boolean(default=False)
    """The task's due date recurs (Todoist's `due.is_recurring`)."""
