"""Admin tables: the audit log every domain writes its administrative changes to."""

from piccolo.columns import JSON, UUID, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AdminAudit(Table, tablename="admin_audit"):
    """Who changed what, when and why. No foreign key: the record outlives the actor."""

    id = UUID(primary_key=True)
    actor_user_id = UUID(null=True, default=None)
    action = Varchar(length=100)
    target = Varchar(length=200, default="")
    detail = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
