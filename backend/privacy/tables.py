"""Privacy tables: which legal documents a person accepted, and when."""

from piccolo.columns import UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.identity.tables import User


class Consent(Table, tablename="consent"):
    """A person accepted a version of a legal document (terms, privacy) at a time."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    document = Varchar(length=20)
    version = Varchar(length=20)
    accepted_at = Timestamptz(default=TimestamptzNow())
