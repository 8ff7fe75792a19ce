"""The integrations domain: signal sources (Todoist, Google Calendar, webhooks, the demo)."""

from datetime import datetime

from backend.contracts.candidate import Candidate
from backend.contracts.privacy import Category
from backend.contracts.sources import (
    Gate,
    register_candidates,
    register_completions,
    register_gate,
    register_read_ahead,
)
from backend.domain import Domain
from backend.events.contracts import SignedIn
from backend.events.handlers import subscribe
from backend.integrations import demo, service
from backend.integrations.catalog import integrations_of
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
    register_read_ahead("integrations", service.read_ahead_keys)
    register_completions(completions_since)
    subscribe(SignedIn, demo.on_signed_in)


async def apps_connected(user_id: str) -> int:
    """Apps the person connected (what the Connect page shows as connected)."""
    return sum(1 for view in await integrations_of(user_id) if view.connected)


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
            label="Connected apps",
            description=(
                "The apps you connected, their access (encrypted, revoked when you delete it) and "
                "the tasks oO read from them."
            ),
            deletable=True,
            tables=("identity.provider_credential",),
            apps=("integrations",),
            order=40,
            unit=("app connected", "apps connected"),
            count=apps_connected,
        ),
    ),
    install=install,
)
