"""Data-quality rollups: the decision log's feature gaps and signal coverage per person and
day, and rewards per writer and day — kept by backend/admin/quality_rollups.py so the quality
and LLM pages never scan the log. Rows of people hang off the person (deleted with them)."""

from piccolo.columns import UUID, Date, ForeignKey, Integer, Real, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.identity.tables import User


class AdminFeatureDay(Table, tablename="admin_feature_day"):
    """Decisions of one UTC day and how many lacked one feature (unique per day and feature)."""

    id = UUID(primary_key=True)
    day = Date(index=True)
    feature = Varchar(length=80)
    decisions = Integer(default=0)
    missing = Integer(default=0)


class AdminSignalDay(Table, tablename="admin_signal_day"):
    """One person's signals on one UTC day (unique per person and day): a tip served, a
    reaction, decisions with every feature, completions from connected apps; `coverage` is
    the share of those four present."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    day = Date(index=True)
    served = Integer(default=0)
    reacted = Integer(default=0)
    incomplete = Integer(default=0)
    completions = Integer(default=0)
    coverage = Real(default=0.0)


class AdminWriterDay(Table, tablename="admin_writer_day"):
    """Tips of one kind and writer (model, prompt version) served on one UTC day."""

    id = UUID(primary_key=True)
    day = Date(index=True)
    kind = Varchar(length=20)
    model = Varchar(length=120)
    prompt_version = Varchar(length=40)
    served = Integer(default=0)
    reacted = Integer(default=0)
    reward_sum = Real(default=0.0)
