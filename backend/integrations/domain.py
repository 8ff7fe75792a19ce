"""The integrations domain: signal sources (Todoist, Google Calendar, webhooks, the demo)."""

from datetime import datetime

from backend.contracts.candidate import Candidate
from backend.contracts.privacy import Category
from backend.contracts.sources import (
    Gate,
    register_candidates,
    register_completions,
    register_gate,
)
from backend.domain import Domain
from backend.events.contracts import SignedIn
from backend.events.handlers import subscribe
from backend.integrations import demo, service
from backend.integrations.graphql import IntegrationsMutation, IntegrationsQuery
from backend.integrations.history import completions_since
from backend.integrations.jobs import CRON_JOBS, JOBS
from backend.integrations.web import ROUTES


async def open_tasks(user_id: str, now: datetime) -> list[Candidate]:
    """The person's open items from every connected source (through the task cache)."""
    return await service.open_items(user_id)


async def calendar_gate(user_id: str, now: datetime) -> Gate | None:
    """No task longer than the free block before the next meeting (None: no calendar)."""
    context = await service.calendar_context(user_id)
    if context is None:
        return None
    return lambda candidate: service.fits_calendar(candidate, context, now)


def install() -> None:
    """Open tasks and the calendar gate for the recommender; completions for habits and
    histories; demo tasks for a demo person signing in."""
    register_candidates("tasks", open_tasks)
    register_gate("calendar", calendar_gate)
    register_completions(completions_since)
    subscribe(SignedIn, demo.on_signed_in)


DOMAIN = Domain(
    name="integrations",
    piccolo_app="backend.integrations.piccolo_app",
    routes=tuple(ROUTES),
    queries=(IntegrationsQuery,),
    mutations=(IntegrationsMutation,),
    jobs=tuple(JOBS),
    cron_jobs=tuple(CRON_JOBS),
    privacy_categories=(
        Category(
            key="integrations",
            label="Integrations",
            description=(
                "Connected apps, their tokens (encrypted, revoked on delete) and their tasks."
            ),
            deletable=True,
            tables=("identity.provider_credential",),
            apps=("integrations",),
            order=40,
        ),
    ),
    install=install,
)
