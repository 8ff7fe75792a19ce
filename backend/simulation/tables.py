"""Simulation tables: one row per run (config, status, summary) and its per-decision events.

No column refers to a person: simulated people are personas, and who started a run is in the
admin audit log (which outlives its actor by design), not here.
"""

from piccolo.columns import JSON, UUID, ForeignKey, Integer, Real, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class SimRun(Table, tablename="sim_runs"):
    """A simulation run: what was asked, how far it is, and what it found."""

    id = UUID(primary_key=True)
    status = Varchar(length=12, default="queued")
    """queued · running · finished · failed"""
    source = Varchar(length=12, default="cli")
    """Where it was started: cli or graphql."""
    config = JSON(default="{}")
    summary = JSON(default="{}")
    done = Integer(default=0)
    total = Integer(default=0)
    error = Text(default="")
    events_stored = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class SimEvent(Table, tablename="sim_events"):
    """One simulated decision (all of them, or an even sample: see SimConfig.events)."""

    run = ForeignKey(SimRun, on_delete=OnDelete.cascade, index=True)
    policy_id = Varchar(length=50)
    persona = Varchar(length=50)
    person = Integer()
    """Index of the simulated person within the run."""
    step = Integer()
    at = Timestamptz()
    item_ref = Varchar(length=100)
    project = Varchar(length=50, default="")
    action = Varchar(length=10)
    dwell_ms = Integer()
    reward = Real()
    expected_reward = Real()
    best_expected = Real()
    propensity = Real()
    candidate_count = Integer()
