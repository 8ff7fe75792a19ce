"""The profile domain: preferences, consents, contexts, features, and running the agents."""

from backend.contracts.consent import register_granted_reader
from backend.contracts.privacy import Category
from backend.domain import Domain
from backend.events.contracts import TipFeedback, TipServed
from backend.events.handlers import subscribe
from backend.profile.admin_graphql import ProfileAdminMutation, ProfileAdminQuery
from backend.profile.graphql import ProfileMutation, ProfileQuery
from backend.profile.jobs import CRON_JOBS, JOBS
from backend.profile.service import people_granting
from backend.profile.tip_history import on_tip_feedback, on_tip_served
from backend.profile.web import ROUTES


def install() -> None:
    """Profile keeps its own history of served tips and reactions from the bus, and answers
    who granted an opt-in consent (the recommender's pooled model asks)."""
    subscribe(TipServed, on_tip_served)
    subscribe(TipFeedback, on_tip_feedback)
    register_granted_reader(people_granting)


DOMAIN = Domain(
    name="profile",
    piccolo_app="backend.profile.piccolo_app",
    routes=tuple(ROUTES),
    queries=(ProfileQuery, ProfileAdminQuery),
    mutations=(ProfileMutation, ProfileAdminMutation),
    jobs=tuple(JOBS),
    cron_jobs=tuple(CRON_JOBS),
    privacy_categories=(
        Category(
            key="profile",
            label="Computed profile",
            description=(
                "What oO worked out: inferred preferences, agent notes, features, policy state. "
                "Preferences you set yourself stay when you delete it."
            ),
            deletable=True,
            tables=(
                "recommender.policy_state",
                "profile.preference",
                "profile.agent_output",
                "profile.profile_feature",
            ),
            apps=("profile", "agents", "llm"),  # tip drafts are written from the notes
            keep=(("profile.preference", "source", "user"),),
            order=30,
        ),
    ),
    install=install,
)
