"""GraphQL of the privacy domain: what is stored about me, export, delete by category, delete
my account. Every field is scoped to the caller; none of them ever returns a token."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from backend.graphql.context import Info
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.types import UserError
from backend.identity.cookies import SESSION_COOKIE
from backend.identity.vault import list_providers
from backend.privacy import service


@strawberry.enum
class DataCategory(Enum):
    """A group of my data that can be deleted on its own."""

    TIPS = "tips"
    FEEDBACK = "feedback"
    PROFILE = "profile"
    INTEGRATIONS = "integrations"


@strawberry.type
class DataTableCount:
    """How many rows of one table are mine."""

    name: str
    rows: int
    last_updated: datetime | None


@strawberry.type
class DataCategorySummary:
    """One category of my data: rows, when it last changed, and its tables."""

    key: str
    label: str
    description: str
    deletable: bool
    rows: int
    last_updated: datetime | None
    tables: list[DataTableCount]


@strawberry.type
class ConnectedProvider:
    """A connected provider account (its tokens stay encrypted on the server)."""

    provider: str
    subject: str
    scopes: list[str]
    expires_at: datetime | None
    connected_at: datetime
    updated_at: datetime


@strawberry.type
class ConsentRecord:
    """A legal document I accepted, its version and when."""

    document: str
    version: str
    accepted_at: datetime


@strawberry.type
class MyData:
    """What oO stores about me."""

    categories: list[DataCategorySummary]
    providers: list[ConnectedProvider]
    consents: list[ConsentRecord]


@strawberry.type
class DeleteAccountPayload:
    """Whether the account is gone (then every session of it is signed out)."""

    deleted: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteMyDataPayload:
    """How many rows a delete-by-category removed."""

    category: DataCategory | None = None
    removed: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


def _summary(view: service.CategoryView) -> DataCategorySummary:
    return DataCategorySummary(
        key=view.category.key,
        label=view.category.label,
        description=view.category.description,
        deletable=view.category.deletable,
        rows=view.rows,
        last_updated=view.last_updated,
        tables=[
            DataTableCount(name=t.name, rows=t.rows, last_updated=t.last_updated)
            for t in view.tables
        ],
    )


@strawberry.type
class PrivacyQuery:
    """Privacy queries."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Everything stored about me as one JSON document (docs/export-format.md).",
    )
    async def export_my_data(self, info: Info) -> JSON:
        user = await info.context.user()
        return JSON(await service.export_user_data(user.user_id))

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="What is stored about me, per category; connected providers; consents.",
    )
    async def my_data(self, info: Info) -> MyData:
        user = await info.context.user()
        return MyData(
            categories=[_summary(v) for v in await service.data_summary(user.user_id)],
            providers=[
                ConnectedProvider(
                    provider=p.provider,
                    subject=p.subject,
                    scopes=list(p.scopes),
                    expires_at=p.expires_at,
                    connected_at=p.created_at,
                    updated_at=p.updated_at,
                )
                for p in await list_providers(user.user_id)
            ],
            consents=[
                ConsentRecord(document=c.document, version=c.version, accepted_at=c.accepted_at)
                for c in await service.consents(user.user_id)
            ],
        )


@strawberry.type
class PrivacyMutation:
    """Privacy mutations."""

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description=(
            "Delete my account and everything about me; `confirm` must be my e-mail address "
            "or the word DELETE. Provider tokens are revoked; every session ends."
        ),
    )
    async def delete_account(self, info: Info, confirm: str) -> DeleteAccountPayload:
        user = await info.context.user()
        if not service.confirmation_matches(user.email, confirm):
            return DeleteAccountPayload(
                errors=[
                    UserError(
                        code="CONFIRMATION_MISMATCH",
                        message="Type your e-mail address or DELETE to confirm.",
                        field="confirm",
                    )
                ]
            )
        await service.delete_account(user.user_id)
        if info.context.response is not None:
            info.context.response.delete_cookie(SESSION_COOKIE, path="/")
        return DeleteAccountPayload(deleted=True)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Delete one category of my data (integrations are revoked at the provider).",
    )
    async def delete_my_data(self, info: Info, category: DataCategory) -> DeleteMyDataPayload:
        user = await info.context.user()
        counts = await service.delete_category(user.user_id, category.value)
        return DeleteMyDataPayload(category=category, removed=sum(counts.values()))
