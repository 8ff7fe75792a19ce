"""What can go wrong with a source, each with words a person understands."""

from __future__ import annotations


class SourceError(Exception):
    """A source failed; `reason` is shown on the Connect page."""

    code = "SOURCE_ERROR"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotConfigured(SourceError):
    """The server lacks the provider's client id / secret."""

    code = "NOT_CONFIGURED"


class NeedsReconnect(SourceError):
    """The provider no longer accepts our tokens: only the person can fix it."""

    code = "NEEDS_RECONNECT"


class RateLimited(SourceError):
    """The provider asked us to slow down."""

    code = "RATE_LIMITED"

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"The provider asked oO to wait {int(retry_after)} s before syncing again."
        )
        self.retry_after = retry_after
