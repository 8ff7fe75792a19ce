"""The privacy domain's entry point for the rest of oO: consent, legal documents, the data
dashboard, export, deletion and retention (the work itself lives in the sibling modules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from backend.db import write_transaction
from backend.events.contracts import SignedIn
from backend.identity.revocation import Revoker, register_revoker
from backend.privacy.categories import Category, all_categories, deletable, get_category
from backend.privacy.dashboard import CategoryView, ComputedEntry, computed, data_summary
from backend.privacy.deletion import (
    ConfirmationError,
    DeletionReport,
    confirmation_matches,
    delete_account,
    delete_category,
    sweep_deleted_accounts,
)
from backend.privacy.export import EXPORT_FORMAT, EXPORT_VERSION, export_user_data
from backend.privacy.retention import purge_tip_log
from backend.privacy.tables import Consent

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "LEGAL_DOCUMENTS",
    "Category",
    "CategoryView",
    "ComputedEntry",
    "ConfirmationError",
    "ConsentRecord",
    "DeletionReport",
    "Revoker",
    "all_categories",
    "computed",
    "confirmation_matches",
    "consents",
    "data_summary",
    "deletable",
    "delete_account",
    "delete_category",
    "export_user_data",
    "get_category",
    "purge_tip_log",
    "record_consent",
    "record_sign_in_consent",
    "register_revoker",
    "sweep_deleted_accounts",
]

# Current version of each legal document. Bump it when the text changes in substance: the next
# sign-in then records consent to the new version (the old record stays, with its time).
LEGAL_DOCUMENTS: dict[str, str] = {"terms": "2026-11", "privacy": "2026-11"}


@dataclass(frozen=True)
class ConsentRecord:
    """A person accepted `document` at `version` at `accepted_at`."""

    document: str
    version: str
    accepted_at: datetime


async def record_consent(user_id: str, document: str, version: str | None = None) -> bool:
    """Record that the person accepted a document (default: its current version).

    Idempotent per (person, document, version): the first acceptance time is the one kept.
    Returns True when a new record was written.
    """
    if document not in LEGAL_DOCUMENTS:
        raise ValueError(f"unknown legal document {document!r}")
    version = version or LEGAL_DOCUMENTS[document]
    async with write_transaction():
        exists = await Consent.exists().where(
            (Consent.user == user_id)
            & (Consent.document == document)
            & (Consent.version == version)
        )
        if exists:
            return False
        await Consent(
            user=user_id, document=document, version=version, accepted_at=datetime.now(UTC)
        ).save()
    return True


async def record_sign_in_consent(user_id: str) -> None:
    """Signing in means accepting the current Terms and Privacy notice (the page says so)."""
    for document in LEGAL_DOCUMENTS:
        await record_consent(user_id, document)


async def consents(user_id: str) -> list[ConsentRecord]:
    """What the person accepted, newest first."""
    rows = (
        await Consent.select(Consent.document, Consent.version, Consent.accepted_at)
        .where(Consent.user == user_id)
        .order_by(Consent.accepted_at, ascending=False)
    )
    return [ConsentRecord(r["document"], r["version"], r["accepted_at"]) for r in rows]


async def on_signed_in(user_id: str, event: SignedIn) -> None:
    """Signing in accepts the current Terms and Privacy notice (the sign-in page says so)."""
    await record_sign_in_consent(user_id)
