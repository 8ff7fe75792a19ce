"""Admin rollups: the decision log summarised per person and day, and per person overall, kept
current by a worker (backend/admin/rollups.py) so the console never scans the log itself.

Both hang off the person (deleted with them), so a deleted person disappears from every
aggregate too.
"""

from piccolo.columns import UUID, Date, ForeignKey, Integer, Real, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.identity.tables import User


class AdminUserDay(Table, tablename="admin_user_day"):
    """One person's activity on one UTC day (unique per person and day)."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    day = Date(index=True)
    served = Integer(default=0)
    reactions = Integer(default=0)
    done = Integer(default=0)
    snoozed = Integer(default=0)
    dismissed = Integer(default=0)
    reward_sum = Real(default=0.0)
    rewarded = Integer(default=0)
    first_at = Timestamptz(null=True, default=None)
    last_at = Timestamptz(null=True, default=None)


class AdminUserTotals(Table, tablename="admin_user_totals"):
    """One person's activity over everything the rollups hold; one row per live person (the
    console's people list reads this table alone, joined to the person)."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, primary_key=True)
    served = Integer(default=0, index=True)
    reactions = Integer(default=0, index=True)
    reward_sum = Real(default=0.0)
    rewarded = Integer(default=0)
    mean_reward = Real(null=True, default=None, index=True)
    active_days = Integer(default=0)
    first_at = Timestamptz(null=True, default=None)
    last_at = Timestamptz(null=True, default=None, index=True)
    sources = Integer(default=0, index=True)
    """Connected sources (connected or struggling), refreshed every run."""


class AdminRollupState(Table, tablename="admin_rollup_state"):
    """How far a rollup has read (its watermark)."""

    name = Varchar(length=40, primary_key=True)
    watermark = Timestamptz(null=True, default=None)
    deleted_people = Integer(default=0)
    """Accounts deleted when it last ran: when it grows, the per-day figures are recomputed."""


class AdminDay(Table, tablename="admin_day"):
    """Everyone's activity on one UTC day, with the distinct active people of the day, the
    week and the month ending on it (what the overview reads; a period is at most 180 rows)."""

    day = Date(primary_key=True)
    served = Integer(default=0)
    reactions = Integer(default=0)
    done = Integer(default=0)
    snoozed = Integer(default=0)
    dismissed = Integer(default=0)
    reward_sum = Real(default=0.0)
    rewarded = Integer(default=0)
    active = Integer(default=0)
    active_7d = Integer(default=0)
    active_30d = Integer(default=0)
    regulars_7d = Integer(default=0)
    """People active on at least 3 of the 7 days ending on this day."""
