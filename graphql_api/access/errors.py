"""Access decisions a caller can act on, each with its stable code and HTTP status."""

from __future__ import annotations

import math
from typing import Literal

from graphql_api.access.model import API_KEY_HEADER
from graphql_api.domain.errors import AuraStreamError, ErrorCode


class AccessError(AuraStreamError):
    """An access decision the caller can act on, with the HTTP status it maps to."""

    http_status: int = 403

    @property
    def http_headers(self) -> dict[str, str]:
        return {}


class _RetryLater(AccessError):
    """Refused for now; `Retry-After` says when to try again."""

    def __init__(self, message: str, *, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    @property
    def retry_after_header(self) -> int:
        """Whole seconds, as HTTP's Retry-After wants, never 0."""
        return max(1, math.ceil(self.retry_after_seconds))

    @property
    def http_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_header)}


class Unauthenticated(AccessError):
    """Missing, malformed, unknown or revoked key."""

    code = ErrorCode.UNAUTHENTICATED
    http_status = 401

    @property
    def http_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'}


class Forbidden(AccessError):
    """The key is valid but lacks the scope the operation needs."""

    code = ErrorCode.FORBIDDEN
    http_status = 403


class RateLimited(_RetryLater):
    """The key's request rate or daily document quota is spent; retry after the given time."""

    code = ErrorCode.RATE_LIMITED
    http_status = 429

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: float,
        limit: Literal["rate", "daily_quota"] = "rate",
    ) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.limit = limit


class AuthUnavailable(_RetryLater):
    """The key store cannot be reached: nothing is served unauthenticated, so retry later."""

    code = ErrorCode.AUTH_UNAVAILABLE
    http_status = 503

    def __init__(self, retry_after_seconds: float = 5) -> None:
        super().__init__(
            "API keys cannot be checked right now; try again shortly.",
            retry_after_seconds=retry_after_seconds,
        )


class ServiceDisabled(_RetryLater):
    """The operators' maintenance switch (`AURASTREAM_ENABLED=false`) is on."""

    code = ErrorCode.SERVICE_DISABLED
    http_status = 503

    def __init__(self) -> None:
        super().__init__(
            "AuraStream is disabled for maintenance; only health answers.",
            retry_after_seconds=60,
        )


class KeyIdTaken(Exception):
    """A store already holds a key with this id (a 48-bit collision; the service retries)."""
