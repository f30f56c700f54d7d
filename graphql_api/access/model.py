"""The access model: scopes, limits, keys and the principal a request acts for.

A key reads `aura_<key id>_<secret>`: the 12-hex-digit key id is public (it names the key in
listings and logs), the 43-character secret carries 256 random bits. Only the SHA-256 of the
whole key is stored. A slow KDF (bcrypt, scrypt, Argon2) exists to make guessing a
low-entropy password expensive; guessing 256 random bits is already out of reach at any
hash speed, and a slow KDF would add tens of milliseconds of CPU to every request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

KEY_PREFIX = "aura_"
API_KEY_HEADER = "X-API-Key"
#: The tenant of every request on an open local server (no keys).
LOCAL_TENANT = "local"
_KEY_SHAPE = re.compile(r"aura_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_KEY_ID_SHAPE = re.compile(r"[0-9a-f]{12}")
#: Tenant ids name per-tenant inboxes (a directory locally, an S3 prefix on AWS).
_TENANT_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SECRET_BYTES = 32  # token_urlsafe(32) is 43 characters


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


def check_tenant_id(tenant_id: str) -> str:
    """The tenant id, stripped; ValueError unless it is 1-64 letters, digits, '.', '_', '-'
    starting with a letter or digit (it names the tenant's inbox)."""
    tenant_id = tenant_id.strip()
    if not _TENANT_SHAPE.fullmatch(tenant_id):
        raise ValueError(
            "tenant id must be 1-64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit"
        )
    return tenant_id


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
    """Who a request acts for. On an open local server that is the local tenant with every
    scope and no key, hence no rate or quota (`key_id` and `limits` are None)."""

    tenant_id: str
    key_id: str | None
    scopes: frozenset[Scope]
    limits: Limits | None

    @classmethod
    def local(cls) -> Principal:
        return cls(LOCAL_TENANT, None, frozenset(Scope), None)

    @classmethod
    def of(cls, key: ApiKey) -> Principal:
        return cls(key.tenant_id, key.key_id, key.scopes, key.limits)


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key() -> tuple[str, str]:
    """A fresh (key id, full key)."""
    key_id = secrets.token_hex(6)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"


def split_key(raw_key: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None. Split by the key's fixed shape:
    the secret itself may contain '_'."""
    match = _KEY_SHAPE.fullmatch(raw_key)
    return (match.group(1), match.group(2)) if match else None


def key_id_of(raw_key: str) -> str | None:
    """The key id of a well-formed key, else None (no store lookup for malformed input)."""
    parts = split_key(raw_key)
    return parts[0] if parts else None


def public_key_id(raw: str) -> str | None:
    """The key id a person gives, `aura_<key id>` or the bare id, else None: anything else
    names no key, and is never looked up or echoed."""
    key_id = raw.strip().removeprefix(KEY_PREFIX)
    return key_id if _KEY_ID_SHAPE.fullmatch(key_id) else None
