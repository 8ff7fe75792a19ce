"""Profile tables: preferences, consents, contexts, agent outputs, profile feature values.

Each (user, scope, key) / (user, key) / (user, name) / (user, agent) pair is unique; the
composite unique indexes are created by the migration (Piccolo declares single-column ones
only), and the service upserts against them.
"""

import json
from typing import Any

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.identity.tables import User


class Preference(Table, tablename="preference"):
    """One preference value: set by the person (source 'user') or inferred by an agent.

    scope is 'global' or 'agent:<agent id>'. `evidence` is how many events an inferred value
    rests on (shown as "inferred from N events"); 0 for values the person set.
    """

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    scope = Varchar(length=80)
    key = Varchar(length=80)
    value = JSON(default="null")
    source = Varchar(length=10, default="user")
    evidence = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class ProfileConsent(Table, tablename="profile_consent"):
    """A per-key consent; the row keeps when it was last granted and last revoked."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    key = Varchar(length=80)
    granted = Boolean(default=True)
    granted_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class ProfileContext(Table, tablename="profile_context"):
    """A named context ("work", "holiday"); while active it silences agents and tip kinds."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=60)
    silenced_agents = JSON(default="[]")
    silenced_kinds = JSON(default="[]")
    active = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AgentOutput(Table, tablename="agent_output"):
    """The latest snippet of one agent for one person, with what produced it."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    agent_id = Varchar(length=80)
    agent_version = Varchar(length=20)
    snippet = Text()
    snippet_hash = Varchar(length=64)
    params = JSON(default="{}")
    evidence = Integer(default=0)
    computed_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)


class FeatureValue(Table, tablename="profile_feature"):
    """A computed profile feature. Reading never recomputes: age and staleness are shown."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=80)
    value = JSON(default="null")
    computed_at = Timestamptz(default=TimestamptzNow())


def pack(value: object) -> str:
    """A JSON cell for any value, wrapped in an object.

    SQLite gives a column declared JSON numeric affinity: a bare scalar such as `21` would come
    back as an integer, not JSON text. An object never does, on either database.
    """
    return json.dumps({"v": value})


def unpack(raw: object) -> Any:
    """The value `pack` stored."""
    return raw.get("v") if isinstance(raw, dict) else raw


class TipHistory(Table, tablename="tip_history"):
    """The profile's own read model of served tips and reactions (agents' histories, features).

    Kept current from the `signals.tip.served` / `signals.tip.feedback` events
    (backend/profile/tip_history.py), so profile never reads the recommender's tables. One row
    per served tip; purged with the decision log (retention) and deleted with the "tips" data.
    """

    tip_id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    item_ref = Varchar(length=200)
    content = Text(default="")
    project = Varchar(length=200, default="")
    due_date = Date(null=True, default=None)
    served_at = Timestamptz(index=True)
    action = Varchar(length=10, null=True, default=None)
    reacted_at = Timestamptz(null=True, default=None, index=True)
