"""The access service: every access decision AuraStream makes is taken here.

Entry points (GraphQL, REST, the Lambda handler) hand it the raw `X-API-Key` and get back
the Principal the request acts for; fields declare the scope they need and ask `authorize`.
Nothing else decides who may do what.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar, cast

from cachetools import TTLCache

from graphql_api.access.errors import (
    AuthUnavailable,
    Forbidden,
    KeyIdTaken,
    RateLimited,
    ServiceDisabled,
    Unauthenticated,
)
from graphql_api.access.model import (
    API_KEY_HEADER,
    KEY_PREFIX,
    ApiKey,
    Limits,
    NewKey,
    Principal,
    Scope,
    check_tenant_id,
    generate_key,
    hash_key,
    key_id_of,
    public_key_id,
)
from graphql_api.access.usage import DEFAULT_PRICE_PER_UNIT, UsageDay
from graphql_api.domain.errors import NotFound
from graphql_api.metric_names import Metric
from graphql_api.observability import note_request
from graphql_api.ports import Clock, Metrics

if TYPE_CHECKING:
    from graphql_api.access.ports import AccessStore

logger = logging.getLogger(__name__)

T = TypeVar("T")
_NOT_CACHED = object()


class AccessService:
    """Keys, authentication, authorisation and the request rate over one AccessStore.

    Key lookups are cached in process for `key_cache_ttl_seconds` (unknown ids too, so a
    flood of bad keys does not reach the store): a revoked key stops working everywhere,
    warm Lambda containers included, within that many seconds. A store that cannot answer
    never lets a request through: it is AuthUnavailable (503), never unauthenticated.
    """

    def __init__(
        self,
        store: AccessStore,
        metrics: Metrics,
        clock: Clock,
        *,
        enforced: bool = True,
        enabled: bool = True,
        key_cache_ttl_seconds: float = 5.0,
        key_cache_size: int = 10_000,
        default_limits: Limits | None = None,
        price_per_unit: Decimal = DEFAULT_PRICE_PER_UNIT,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.clock = clock
        #: Keys are required (always on AWS; locally beyond loopback or when asked).
        self.enforced = enforced
        #: False while the operators' maintenance switch is on.
        self.enabled = enabled
        self.default_limits = default_limits or Limits()
        self.price_per_unit = price_per_unit
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
        tenant_id = check_tenant_id(tenant_id)
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

    async def get_key(self, key_id: str) -> ApiKey | None:
        return await self.store.get_key(key_id)

    async def revoke_key(self, key_id: str) -> ApiKey | None:
        """Revoke a key (idempotent); None if no such key. Other processes notice within
        the key cache TTL."""
        revoked = await self.store.revoke_key(key_id, self.clock.now())
        self._keys.pop(key_id, None)
        return revoked

    # Per request.

    async def admit(self, raw_key: str | None) -> Principal:
        """The principal a request acts for, once the service is enabled, the key is valid
        and its rate allows one more request. Raises an AccessError otherwise."""
        if not self.enabled:
            raise ServiceDisabled()
        if not self.enforced:
            return Principal.local()
        principal = await self.authenticate(raw_key)
        await self.check_rate(principal)
        return principal

    def authorize(self, principal: Principal, scope: Scope) -> None:
        """Raise Forbidden unless the principal may use a field that needs `scope`."""
        if scope not in principal.scopes:
            raise Forbidden(f"This API key lacks the '{scope.value}' scope.")

    async def authenticate(self, raw_key: str | None) -> Principal:
        """The principal behind an `X-API-Key` value; Unauthenticated if there is none."""
        if not raw_key:
            self._failed("missing", None)
            raise Unauthenticated(f"Missing API key: send it in the {API_KEY_HEADER} header.")
        raw_key = raw_key.strip()
        key_id = key_id_of(raw_key)
        if key_id is None:
            self._failed("malformed", None)
            raise Unauthenticated("Invalid or revoked API key.")
        record = await self._lookup(key_id)
        if record is None:
            reason = "unknown"
        elif not hmac.compare_digest(record.secret_hash, hash_key(raw_key)):
            reason = "wrong secret"
        elif record.revoked:
            reason = "revoked"
        else:
            note_request(key_id=record.prefix)
            return Principal.of(record)
        self._failed(reason, key_id)
        raise Unauthenticated("Invalid or revoked API key.")

    async def check_rate(self, principal: Principal) -> None:
        """Take one request from the key's token bucket, or raise RateLimited."""
        limits = principal.limits
        if principal.key_id is None or limits is None:
            return
        wait = await guarded(
            self.store.take_request(
                principal.key_id, limits.rate_per_second, limits.burst, self.clock.now()
            )
        )
        if wait > 0:
            self.metrics.increment(Metric.RATE_LIMITED)
            raise RateLimited(
                f"Rate limit of {limits.rate_per_second:g} requests per second "
                f"(burst {limits.burst}) exceeded.",
                retry_after_seconds=wait,
            )

    # Usage reports.

    async def usage(
        self, principal: Principal, from_day: date, to_day: date, key_id: str | None = None
    ) -> list[UsageDay]:
        """Usage per day between the two days (inclusive), oldest first: the principal's
        tenant's, or one key's (`aura_<key id>` or the bare id). A key of another tenant is
        NOT_FOUND unless the principal has the ops scope, exactly like a key that does not
        exist."""
        if from_day > to_day:
            raise ValueError("from_day must not be after to_day")
        if key_id is None:
            counters = await self.store.usage(principal.tenant_id, from_day, to_day)
        else:
            wanted = public_key_id(key_id)
            key = await self.store.get_key(wanted) if wanted is not None else None
            visible = key is not None and (
                key.tenant_id == principal.tenant_id or Scope.OPS in principal.scopes
            )
            if key is None or not visible:
                raise NotFound("No such key.")
            return await self.key_usage(key.key_id, from_day, to_day)
        return [UsageDay.from_counters(c, self.price_per_unit) for c in counters]

    async def key_usage(self, key_id: str, from_day: date, to_day: date) -> list[UsageDay]:
        """One key's usage per day (operators, e.g. tracing a compromised key)."""
        counters = await self.store.key_usage(key_id, from_day, to_day)
        return [UsageDay.from_counters(c, self.price_per_unit) for c in counters]

    async def ping(self) -> None:
        await self.store.ping()

    def close(self) -> None:
        self.store.close()

    async def _lookup(self, key_id: str) -> ApiKey | None:
        cached = self._keys.get(key_id, _NOT_CACHED)
        if cached is not _NOT_CACHED:
            return cast("ApiKey | None", cached)
        record = await guarded(self.store.get_key(key_id))
        self._keys[key_id] = record
        return record

    def _failed(self, reason: str, key_id: str | None) -> None:
        # Never the key itself: at most its public id.
        note_request(key_id=f"{KEY_PREFIX}{key_id}" if key_id else None)
        self.metrics.increment(Metric.AUTH_FAILURES)
        logger.warning(
            "authentication failed: %s (key id %s)",
            reason,
            f"{KEY_PREFIX}{key_id}" if key_id else "-",
            extra={"auth_failure": reason, "key_id": key_id},
        )


async def guarded(call: Awaitable[T]) -> T:
    """Await a key-store call; any failure of the store itself is AuthUnavailable, so an
    outage fails closed with a 503 and never serves a request it could not check."""
    try:
        return await call
    except Exception as error:
        logger.error(
            "key store unavailable", extra={"error_type": type(error).__name__}, exc_info=error
        )
        raise AuthUnavailable() from None
