"""The SQL runner's saved queries."""

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.identity.tables import User


class AdminSavedQuery(Table, tablename="admin_saved_query"):
    """A named query an admin kept for the next operator (names are unique)."""

    id = UUID(primary_key=True)
    name = Varchar(length=120, unique=True)
    sql = Text()
    author = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    """Who saved it (their saved queries leave with their account, like all their data)."""
    created_at = Timestamptz(default=TimestamptzNow())
