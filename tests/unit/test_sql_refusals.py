"""The SQL runner's friendly pre-checks (the database enforces the same limits regardless:
tests/integration/admin/test_sql_runner.py)."""

import pytest

from backend.admin.quality_rollups import coverage
from backend.admin.sql_runner import refusal


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("", "EMPTY"),
        ("  -- only a comment\n", "READ_ONLY"),
        ("select 1; select 2", "MULTIPLE_STATEMENTS"),
        ("select ';' as semi; ", None),
        ("/* ; */ select 1 -- ;", None),
        ("copy app_user to stdout", "COPY"),
        ("insert into x values (1)", "READ_ONLY"),
        ("with x as (select 1) select * from x", None),
        ("select pg_sleep(1)", None),
        ("select SET_CONFIG('role', 'x', false)", "SIDE_EFFECT"),
        ("select lo_export(1, '/tmp/x')", "SIDE_EFFECT"),
        ("select pg_advisory_lock(1)", "SIDE_EFFECT"),
        ("select 'set_config(' as text", None),
    ],
)
def test_prechecks(sql: str, code: str | None) -> None:
    found = refusal(sql)
    assert (found.code if found else None) == code


def test_coverage_is_the_share_of_four_signals() -> None:
    assert coverage(served=2, reacted=1, incomplete=1, completions=1) == 0.75
    assert coverage(served=1, reacted=0, incomplete=0, completions=0) == 0.5
    assert coverage(served=0, reacted=0, incomplete=0, completions=3) == 0.25
    assert coverage(served=0, reacted=0, incomplete=0, completions=0) == 0.0
