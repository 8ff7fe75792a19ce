"""The notifier domain: deciding when a person's tip is worth an interruption, and delivering
it by Web Push."""

import time

from backend.contracts.privacy import Category
from backend.contracts.push_decisions import PushDecisionRow, register_push_decisions
from backend.domain import Domain
from backend.events.contracts import (
    ProfileChanged,
    TipCandidatesGenerated,
    TipFeedback,
    TipServed,
)
from backend.events.handlers import subscribe
from backend.notifier import decider, outcomes
from backend.notifier.graphql import NotifierMutation, NotifierQuery
from backend.notifier.jobs import CRON_JOBS, JOBS, request_decision
from backend.notifier.report_graphql import PushReportQuery
from backend.notifier.report_web import ROUTES as REPORT_ROUTES
from backend.notifier.web import ROUTES
from backend.settings import PushSettings


async def on_candidates(user_id: str, event: TipCandidatesGenerated) -> None:
    """New candidates: is one worth a push now?"""
    await request_decision(user_id, "candidate", event.generation_id)


async def on_profile_changed(user_id: str, event: ProfileChanged) -> None:
    """A context change can make a push welcome (or mute it)."""
    if event.what == "context":
        await request_decision(user_id, "context", str(int(time.time()) // 60))


async def on_tip_served(user_id: str, event: TipServed) -> None:
    """A tip shown on a page: the person is active, no push for a while."""
    await outcomes.on_page_activity(user_id)


async def on_tip_feedback(user_id: str, event: TipFeedback) -> None:
    """An answer: the person is active, and a pushed tip's outcome is known."""
    await outcomes.on_page_activity(user_id)
    await outcomes.record_reaction(user_id, event.tip_id, event.action)


async def decision_rows(user_id: str, first: int) -> list[PushDecisionRow]:
    """The decision log as the admin console reads it (through its contract)."""
    return [
        PushDecisionRow(
            decided_at=d.decided_at,
            trigger=d.trigger,
            tip_id=d.tip_id,
            push=d.push,
            reason=d.reason,
            value_now=d.value_now,
            value_wait=d.value_wait,
            threshold=d.threshold,
            propensity=d.propensity,
            policy_id=d.policy_id,
            outcome=d.outcome,
        )
        for d in await decider.decisions_of(user_id, first)
    ]


def install() -> None:
    """The decider's triggers, the learner's outcomes and the console's read of decisions."""
    register_push_decisions(decision_rows)
    subscribe(TipCandidatesGenerated, on_candidates)
    subscribe(ProfileChanged, on_profile_changed)
    subscribe(TipServed, on_tip_served)
    subscribe(TipFeedback, on_tip_feedback)


DOMAIN = Domain(
    name="notifier",
    piccolo_app="backend.notifier.piccolo_app",
    routes=(*ROUTES, *REPORT_ROUTES),
    queries=(NotifierQuery, PushReportQuery),
    mutations=(NotifierMutation,),
    jobs=tuple(JOBS),
    cron_jobs=tuple(CRON_JOBS),
    install=install,
    settings=PushSettings,
    privacy_categories=(
        Category(
            key="notifications",
            label="Notifications",
            description=(
                "The browsers you turned notifications on in (their keys encrypted) and when "
                "oO sent to them: status and timing, never what a notification said; "
                "why oO did or did not notify you, what it learned from it, and your "
                "notification settings."
            ),
            deletable=True,
            tables=(
                "notifier.push_subscription",
                "notifier.push_attempt",
                "notifier.push_decision",
                "notifier.push_learner_state",
                "notifier.push_preference",
            ),
            apps=("notifier",),
            order=60,
        ),
    ),
)
