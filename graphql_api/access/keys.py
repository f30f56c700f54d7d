"""API keys, tenants and the access service: authenticate, authorise, limit, meter.

A key reads `aura_<key id>_<secret>`: the 12-hex-digit key id is public (it names the key in
listings and logs), the 43-character secret carries 256 random bits. Only the SHA-256 of the
whole key is stored. A slow KDF (bcrypt, scrypt, Argon2) exists to make guessing a
low-entropy password expensive; guessing 256 random bits is already out of reach at any
hash speed, and a slow KDF would add tens of milliseconds of CPU to every request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, cast

from cachetools import TTLCache

from graphql_api.access.limits import seconds_until_next_day, utc_day
from graphql_api.access.usage import DEFAULT_PRICE_PER_UNIT, UsageDay
from graphql_api.domain.errors import AuraStreamError, ErrorCode
from graphql_api.ports import Clock, Metrics

if TYPE_CHECKING:
    from graphql_api.access.ports import AccessStore

logger = logging.getLogger(__name__)

KEY_PREFIX = "aura_"
API_KEY_HEADER = "X-API-Key"
_KEY_SHAPE = re.compile(r"^aura_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_SECRET_BYTES = 32  # token_urlsafe(32) is 43 characters
_DAY_SECONDS = 86_400


class Scope(StrEnum):
    ANALYZE = "analyze"
    JOBS = "jobs"
    OPS = "ops"


def parse_scopes(raw: str | Iterable[str]) -> frozenset[Scope]:
    """`"analyze,jobs"` or an iterable of names; unknown names raise ValueError."""
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    scopes: set[Scope] = set()
    for name in (n.strip().lower() for n in names):
        if not name:
            continue
        try:
            scopes.add(Scope(name))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ValueError(f"unknown scope '{name}' (known: {known})") from None
    return frozenset(scopes)


def format_scopes(scopes: Iterable[Scope]) -> str:
    return ",".join(sorted(s.value for s in scopes))


@dataclass(frozen=True, slots=True)
class Limits:
    """Per key: a token bucket of `burst` requests refilled at `rate_per_second`, and a daily
    document quota (UTC days)."""

    rate_per_second: float = 10.0
    burst: int = 20
    daily_document_quota: int = 10_000

    def __post_init__(self) -> None:
        if not self.rate_per_second > 0:
            raise ValueError("rate_per_second must be positive")
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        if self.daily_document_quota < 0:
            raise ValueError("daily_document_quota must not be negative")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: everything but the secret, which exists only in the caller's hands."""

    key_id: str
    tenant_id: str
    name: str
    secret_hash: str = field(repr=False)
    scopes: frozenset[Scope]
    limits: Limits
    created_at: float
    revoked_at: float | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def prefix(self) -> str:
        """What a person sees of the key in listings and logs: `aura_<key id>`."""
        return f"{KEY_PREFIX}{self.key_id}"


@dataclass(frozen=True, slots=True)
class NewKey:
    """A new key; `key` is shown once and never stored."""

    key: str = field(repr=False)
    record: ApiKey


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: str
    key_id: str
    scopes: frozenset[Scope]
    limits: Limits


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key() -> tuple[str, str]:
    """A fresh (key id, full key)."""
    key_id = secrets.token_hex(6)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"


def key_id_of(raw_key: str) -> str | None:
    """The key id of a well-formed key, else None (no store lookup for malformed input)."""
    match = _KEY_SHAPE.match(raw_key)
    return match.group(1) if match else None


# --- Errors -----------------------------------------------------------------------------------


class AccessError(AuraStreamError):
    """An access decision the caller can act on, with the HTTP status it maps to."""

    http_status: int = 403

    @property
    def http_headers(self) -> dict[str, str]:
        return {}


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


class RateLimited(AccessError):
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
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        self.limit = limit

    @property
    def retry_after_header(self) -> int:
        """Whole seconds, as HTTP's Retry-After wants, never 0."""
        return max(1, math.ceil(self.retry_after_seconds))

    @property
    def http_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_header)}


class KeyIdTaken(Exception):
    """A store already holds a key with this id (a 48-bit collision; the service retries)."""


def require_scope(principal: Principal, scope: Scope) -> None:
    """Raise Forbidden unless the principal's key carries `scope`."""
    if scope not in principal.scopes:
        raise Forbidden(f"This API key lacks the '{scope.value}' scope.")


# --- Service ----------------------------------------------------------------------------------

_MISSING = "missing"
_NOT_CACHED = object()


class AccessService:
    """Keys, authentication, rate and quota checks, and usage metering over one AccessStore.

    Key lookups are cached in process for `key_cache_ttl_seconds` (unknown ids too, so a
    flood of bad keys does not reach the store): a revoked key stops working everywhere,
    warm Lambda containers included, within that many seconds.
    """

    def __init__(
        self,
        store: AccessStore,
        metrics: Metrics,
        clock: Clock,
        *,
        key_cache_ttl_seconds: float = 5.0,
        key_cache_size: int = 10_000,
        default_limits: Limits | None = None,
        price_per_unit: Decimal = DEFAULT_PRICE_PER_UNIT,
        usage_retention_days: int = 400,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.default_limits = default_limits or Limits()
        self.price_per_unit = price_per_unit
        self.usage_retention_days = usage_retention_days
        self._keys: TTLCache[str, ApiKey | None] = TTLCache(
            maxsize=key_cache_size, ttl=key_cache_ttl_seconds, timer=clock.now
        )

    # Administration.

    async def create_key(
        self,
        tenant_id: str,
        scopes: Iterable[Scope],
        *,
        name: str = "",
        limits: Limits | None = None,
    ) -> NewKey:
        """Create a key; the returned `key` is the only copy of the secret."""
        tenant_id = tenant_id.strip()
        if not tenant_id:
            raise ValueError("tenant id must not be empty")
        for _ in range(3):
            key_id, raw_key = generate_key()
            record = ApiKey(
                key_id=key_id,
                tenant_id=tenant_id,
                name=name,
                secret_hash=hash_key(raw_key),
                scopes=frozenset(scopes),
                limits=limits or self.default_limits,
                created_at=self.clock.now(),
            )
            try:
                await self.store.put_key(record)
            except KeyIdTaken:
                continue
            return NewKey(raw_key, record)
        raise RuntimeError("could not find a free key id")

    async def list_keys(self, tenant_id: str | None = None) -> list[ApiKey]:
        return await self.store.list_keys(tenant_id)

    async def revoke_key(self, key_id: str) -> ApiKey | None:
        """Revoke a key (idempotent); None if no such key. Other processes notice within
        the key cache TTL."""
        revoked = await self.store.revoke_key(key_id, self.clock.now())
        self._keys.pop(key_id, None)
        return revoked

    # Per request.

    async def authenticate(self, raw_key: str | None) -> Principal:
        """The principal behind an `X-API-Key` value; Unauthenticated if there is none."""
        if not raw_key:
            self._failed(_MISSING, None)
            raise Unauthenticated(f"Missing API key: send it in the {API_KEY_HEADER} header.")
        key_id = key_id_of(raw_key.strip())
        if key_id is None:
            self._failed("malformed", None)
            raise Unauthenticated("Invalid or revoked API key.")
        record = await self._lookup(key_id)
        if record is None:
            reason = "unknown"
        elif not hmac.compare_digest(record.secret_hash, hash_key(raw_key.strip())):
            reason = "wrong secret"
        elif record.revoked:
            reason = "revoked"
        else:
            return Principal(record.tenant_id, record.key_id, record.scopes, record.limits)
        self._failed(reason, key_id)
        raise Unauthenticated("Invalid or revoked API key.")

    async def check_rate(self, principal: Principal) -> None:
        """Take one request from the key's token bucket, or raise RateLimited."""
        limits = principal.limits
        wait = await self.store.take_request(
            principal.key_id, limits.rate_per_second, limits.burst, self.clock.now()
        )
        if wait > 0:
            self.metrics.increment("RateLimited")
            raise RateLimited(
                f"Rate limit of {limits.rate_per_second:g} requests per second "
                f"(burst {limits.burst}) exceeded.",
                retry_after_seconds=wait,
            )

    async def consume_documents(self, principal: Principal, count: int) -> int:
        """Count `count` documents against today's quota (UTC); the day's total so far.

        Nothing is counted when the quota would be exceeded: RateLimited says when it resets.
        """
        if count < 0:
            raise ValueError("count must not be negative")
        now = self.clock.now()
        quota = principal.limits.daily_document_quota
        outcome = await self.store.add_documents(
            principal.key_id, utc_day(now), count, quota, now + seconds_until_next_day(now) + 3_600
        )
        if not outcome.admitted:
            self.metrics.increment("QuotaExceeded")
            raise RateLimited(
                f"Daily quota of {quota} documents exceeded ({outcome.used} used today, "
                f"{count} requested).",
                retry_after_seconds=seconds_until_next_day(now),
                limit="daily_quota",
            )
        return outcome.used

    async def record_usage(
        self, tenant_id: str, day: date, documents: int, cache_hits: int, billable_units: int
    ) -> None:
        """Add to a tenant's counters for one day; see `usage.billable_units` for units."""
        if min(documents, cache_hits, billable_units) < 0:
            raise ValueError("usage counts must not be negative")
        if documents == cache_hits == billable_units == 0:
            return
        expires_at = _day_start(day) + (self.usage_retention_days + 1) * _DAY_SECONDS
        await self.store.add_usage(
            tenant_id, day, documents, cache_hits, billable_units, float(expires_at)
        )

    async def usage(self, tenant_id: str, from_day: date, to_day: date) -> list[UsageDay]:
        """The tenant's days with usage between the two days (inclusive), oldest first."""
        if from_day > to_day:
            raise ValueError("from_day must not be after to_day")
        counters = await self.store.usage(tenant_id, from_day, to_day)
        return [UsageDay.from_counters(c, self.price_per_unit) for c in counters]

    async def ping(self) -> None:
        await self.store.ping()

    def close(self) -> None:
        self.store.close()

    async def _lookup(self, key_id: str) -> ApiKey | None:
        cached = self._keys.get(key_id, _NOT_CACHED)
        if cached is not _NOT_CACHED:
            return cast("ApiKey | None", cached)
        record = await self.store.get_key(key_id)
        self._keys[key_id] = record
        return record

    def _failed(self, reason: str, key_id: str | None) -> None:
        # Never the key itself: at most its public id.
        self.metrics.increment("AuthFailures")
        logger.warning(
            "authentication failed: %s (key id %s)",
            reason,
            f"{KEY_PREFIX}{key_id}" if key_id else "-",
            extra={"auth_failure": reason, "key_id": key_id},
        )


def _day_start(day: date) -> int:
    return (day - date(1970, 1, 1)).days * _DAY_SECONDS
