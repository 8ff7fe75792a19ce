"""Integration tables. The demo source keeps its tasks here, standing in for a remote app."""

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
