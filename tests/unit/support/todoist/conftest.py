"""Fixtures of the Todoist stand-in self-tests (``http`` comes from the parent conftest)."""

from __future__ import annotations

import pytest

from tests.support.todoist_standin import TodoistStandIn
from tests.unit.support.todoist.client import CB


@pytest.fixture
def td(todoist: TodoistStandIn) -> TodoistStandIn:
    todoist.allow_redirect(CB)
    return todoist
