"""The reward rollup: the decision log summarised per UTC hour and every slice dimension, so
reward analytics over weeks read hundreds of rows instead of hundreds of thousands.

Kept current by `backend/admin/reward_rollup.py` (a cron job; tests refresh by hand). No person
column: a deleted person's share leaves it when their hours are summarised again from the log
(the job redoes the log's retention window after an account deletion).
"""

from piccolo.columns import UUID, DoublePrecision, Integer, Timestamptz, Varchar
from piccolo.table import Table


class AdminRewardHour(Table, tablename="admin_reward_hour"):
    """One UTC hour × policy version × kind × source × priority × model × prompt version ×
    sign-up week: counts, and the reward's sum and sum of squares (for 95 % intervals)."""

    id = UUID(primary_key=True)
    hour = Timestamptz(index=True)
    policy_id = Varchar(length=50)
    policy_version = Varchar(length=20)
    kind = Varchar(length=20)
    source = Varchar(length=50)
    priority = Varchar(length=10, default="")
    model = Varchar(length=100, default="")
    prompt_version = Varchar(length=50, default="")
    cohort = Varchar(length=10, default="")
    """Monday of the person's sign-up week (YYYY-MM-DD)."""
    decisions = Integer(default=0)
    reactions = Integer(default=0)
    done = Integer(default=0)
    snoozed = Integer(default=0)
    dismissed = Integer(default=0)
    rewarded = Integer(default=0)
    reward_sum = DoublePrecision(default=0.0)
    reward_sq = DoublePrecision(default=0.0)
