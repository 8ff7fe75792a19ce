"""LLM tables: the generated tip candidates waiting to be served, and one row per model call."""

from piccolo.columns import (
    JSON,
    UUID,
    ForeignKey,
    Integer,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.identity.tables import User


class TipCandidate(Table, tablename="tip_candidate"):
    """A tip written ahead of time for one person (by a model or the template writer).

    A generation replaces the person's previous candidates. `agents` lists the agents whose
    notes went into the prompt: serving drops a candidate as soon as one of them is no longer
    eligible (consent revoked, agent turned off or silenced by a context).
    """

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    content = Text()
    kind = Varchar(length=20)
    source = Varchar(length=50)
    model = Varchar(length=120)
    prompt_version = Varchar(length=40)
    confidence = Real(default=0.5)
    source_ref = Varchar(length=200, default="")
    agents = JSON(default="[]")
    detail = JSON(default="{}")
    """What serving needs of a referenced task: task_ref, project, priority, due_date."""
    context_hash = Varchar(length=64, default="")
    """Hash of the inputs (notes, tasks, prompt): an unchanged context is not regenerated."""
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
    blocked = Varchar(length=200, null=True, default=None)
    """Why it may not be served now (None: it may). Decided when it is written and again
    whenever the person's consents, contexts or agent settings change (backend/llm/eligibility.py),
    so serving is one indexed read."""


class LlmCall(Table, tablename="llm_call"):
    """One attempt of one generation: which model, which prompt, how long, what came of it.

    outcome: ok (valid answer) · retried (invalid, a clarification followed) · fell_back
    (invalid on the last attempt: template candidates were stored) · error (the call failed;
    template candidates were stored). The template writer logs one `ok` row per generation.
    """

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    generation = UUID()
    alias = Varchar(length=40)
    model = Varchar(length=120)
    prompt_version = Varchar(length=40)
    attempt = Integer(default=1)
    outcome = Varchar(length=12)
    latency_ms = Real(default=0.0)
    error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
