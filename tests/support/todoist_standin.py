"""The Todoist stand-in's import path: the code lives in the ``tests.support.todoist`` package.

Tests, fixtures and ``calendar_standin`` import from here; ``tests/support/todoist/__init__.py``
says which module holds what, and ``tests.support.todoist.standin`` documents the behaviour.
"""

from __future__ import annotations

from tests.support.todoist.api_base import SECRET_PARAMS, ApiError, ApiStandIn, SeenRequest
from tests.support.todoist.model import (
    CODE_LIFETIME,
    ITEM_EVENTS,
    READ_SCOPES,
    SCOPES,
    WRITE_SCOPES,
    TodoistAccount,
    TodoistCode,
    TodoistToken,
    WebhookDelivery,
    make_due,
    todoist_id,
    todoist_time,
    webhook_signature,
)
from tests.support.todoist.standin import TodoistStandIn

__all__ = [
    "CODE_LIFETIME",
    "ITEM_EVENTS",
    "READ_SCOPES",
    "SCOPES",
    "SECRET_PARAMS",
    "WRITE_SCOPES",
    "ApiError",
    "ApiStandIn",
    "SeenRequest",
    "TodoistAccount",
    "TodoistCode",
    "TodoistStandIn",
    "TodoistToken",
    "WebhookDelivery",
    "make_due",
    "todoist_id",
    "todoist_time",
    "webhook_signature",
]
