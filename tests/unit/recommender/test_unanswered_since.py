"""Under the serve lock a pick tells from the recent log it reads anyway whether a tip was
served meanwhile (ADR 0041) — and says so when the log cannot tell, so that the query does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from backend.recommender.decisions import _unanswered_since
from backend.recommender.history import HISTORY_DAYS, HISTORY_LIMIT

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
VALID_AFTER = NOW - timedelta(hours=4)


def _row(minutes_ago: float, answered: bool) -> dict[str, Any]:
    served = NOW - timedelta(minutes=minutes_ago)
    return {"served_at": served, "reacted_at": served + timedelta(seconds=5) if answered else None}


def test_an_unanswered_tip_still_valid_is_seen() -> None:
    rows = [_row(1, True), _row(2, False), _row(3, True)]
    assert _unanswered_since(rows, NOW, VALID_AFTER)


def test_answered_or_expired_tips_are_not_a_served_tip() -> None:
    rows = [_row(1, True), _row(2, True), _row(5 * 60, False)]  # the unanswered one expired
    assert not _unanswered_since(rows, NOW, VALID_AFTER)
    assert not _unanswered_since([], NOW, VALID_AFTER)


def test_a_full_log_of_valid_answered_tips_cannot_tell() -> None:
    # 400 answered tips within the validity: an older unanswered one may lie beyond the log.
    rows = [_row(i * 0.5, True) for i in range(HISTORY_LIMIT)]
    assert _unanswered_since(rows, NOW, VALID_AFTER)
    # A full log that reaches past the validity tells (the oldest row is before it).
    rows[-1] = _row(5 * 60, True)
    assert not _unanswered_since(rows, NOW, VALID_AFTER)


def test_a_validity_longer_than_the_log_window_cannot_tell() -> None:
    long_ago = NOW - timedelta(days=HISTORY_DAYS + 1)
    assert _unanswered_since([_row(1, True)], NOW, long_ago)
