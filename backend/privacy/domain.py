"""The privacy domain: consent to the legal documents, the data page, export, deletion."""

from backend.domain import Domain
from backend.events.contracts import SignedIn
from backend.events.handlers import subscribe
from backend.privacy.graphql import PrivacyMutation, PrivacyQuery
from backend.privacy.jobs import CRON_JOBS, JOBS
from backend.privacy.service import on_signed_in
from backend.privacy.web import ROUTES


def install() -> None:
    """Signing in records acceptance of the current Terms and Privacy notice."""
    subscribe(SignedIn, on_signed_in)


DOMAIN = Domain(
    name="privacy",
    piccolo_app="backend.privacy.piccolo_app",
    routes=tuple(ROUTES),
    queries=(PrivacyQuery,),
    mutations=(PrivacyMutation,),
    jobs=tuple(JOBS),
    cron_jobs=tuple(CRON_JOBS),
    install=install,
)
