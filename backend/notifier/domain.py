"""The notifier domain: Web Push delivery of a person's tip (the decider comes later)."""

from backend.contracts.privacy import Category
from backend.domain import Domain
from backend.notifier.graphql import NotifierMutation, NotifierQuery
from backend.notifier.jobs import JOBS
from backend.notifier.web import ROUTES
from backend.settings import PushSettings

DOMAIN = Domain(
    name="notifier",
    piccolo_app="backend.notifier.piccolo_app",
    routes=tuple(ROUTES),
    queries=(NotifierQuery,),
    mutations=(NotifierMutation,),
    jobs=tuple(JOBS),
    settings=PushSettings,
    privacy_categories=(
        Category(
            key="notifications",
            label="Notifications",
            description=(
                "The browsers you turned notifications on in (their keys encrypted) and when "
                "oO sent to them: status and timing, never what a notification said."
            ),
            deletable=True,
            tables=("notifier.push_subscription", "notifier.push_attempt"),
            apps=("notifier",),
            order=60,
        ),
    ),
)
