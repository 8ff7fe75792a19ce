"""The profile features' freshness over time: sampled hourly, kept per feature and UTC day.

The profile keeps only each feature's latest value and when it was computed, so freshness in
the past can only be known by looking at it then: a worker samples it every hour. Aggregates
over everyone (no person column): a deleted person leaves no trace here.
"""

from piccolo.columns import UUID, Date, Integer, Varchar
from piccolo.table import Table


class AdminFreshnessDay(Table, tablename="admin_freshness_day"):
    """One feature on one UTC day: hourly samples of how many people had it, and how many of
    them had it fresh (younger than its TTL)."""

    id = UUID(primary_key=True)
    day = Date(index=True)
    feature = Varchar(length=80)
    samples = Integer(default=0)
    people_sum = Integer(default=0)
    fresh_sum = Integer(default=0)
    last_hour = Integer(default=-1)
    """The UTC hour of the day's latest sample: one sample per hour, however often the job runs."""
