"""All configuration, validated once: `AURASTREAM_*` variables over embedded defaults."""

from __future__ import annotations

import ipaddress
import os
from decimal import Decimal
from pathlib import Path
from typing import Literal, Self

import platformdirs
from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EngineName = Literal["model", "lexicon", "comprehend"]
#: What a Lambda function must be told explicitly: it never guesses its way to local mode.
LAMBDA_REQUIRED = ("backend", "cache_table", "jobs_table", "keys_table", "bucket")


def default_data_dir() -> Path:
    """The per-user data directory (e.g. ~/.local/share/aurastream): the server and the CLI
    find the same stores wherever they are started, never the current directory."""
    return Path(platformdirs.user_data_dir("aurastream", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AURASTREAM_", extra="ignore", frozen=True, populate_by_name=True
    )

    backend: Literal["local", "aws"] = "local"
    #: The primary engine: by default the embedded model locally and Comprehend on AWS
    #: (whose fallback is the embedded model).
    engine: EngineName | None = None
    #: SQLite stores, job files and tenants' inboxes; `AURASTREAM_DATA_DIR` or per user.
    data_dir: Path = Field(default_factory=default_data_dir)
    #: The operators' maintenance switch: when false every operation but health answers 503
    #: SERVICE_DISABLED. The runbook's emergency restart sets a bare `ENABLED=false`.
    enabled: bool = Field(True, validation_alias=AliasChoices("AURASTREAM_ENABLED", "ENABLED"))

    # Request limits (Comprehend's per-document limit is 5,000 UTF-8 bytes).
    max_documents_per_request: int = Field(100, ge=1, le=10_000)
    max_text_bytes: int = Field(5_000, ge=1)
    default_language: str = "en"
    #: Below this language-detection confidence a text is taken to be in `default_language`.
    language_confidence_threshold: float = Field(0.5, ge=0, le=1)

    # GraphQL hardening.
    max_query_depth: int = Field(10, ge=1)
    max_aliases: int = Field(30, ge=1)
    max_query_tokens: int = Field(2_000, ge=10)
    #: GraphiQL and introspection: on by default locally, off on AWS unless enabled.
    graphiql: bool | None = None
    introspection: bool | None = None
    #: Apollo automatic persisted queries remembered per process.
    persisted_queries: int = Field(1_000, ge=0)

    # Cache: TTL by text length, as the runbook sets it.
    cache_enabled: bool = True
    cache_ttl_short_seconds: int = Field(3_600, ge=0)  # under 100 characters
    cache_ttl_medium_seconds: int = Field(86_400, ge=0)  # under 1,000 characters
    cache_ttl_long_seconds: int = Field(604_800, ge=0)  # 1,000 characters and over
    #: Fallback answers given while the primary engine is down; 0 keeps them out of the cache.
    degraded_cache_ttl_seconds: int = Field(0, ge=0)
    lru_max_entries: int = Field(50_000, ge=0)
    #: Consecutive failures after which the persistent cache is skipped for a while.
    cache_failure_threshold: int = Field(5, ge=1)
    cache_recovery_seconds: float = Field(30, gt=0)

    # AWS (backend=aws). Endpoints come from the standard AWS_ENDPOINT_URL(_<SERVICE>) variables.
    region: str | None = Field(
        None, validation_alias=AliasChoices("AURASTREAM_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")
    )
    cache_table: str = "AuraStream-SentimentCache"
    jobs_table: str = "AuraStream-Jobs"
    bucket: str = "aura-stream-documents"
    state_machine_arn: str | None = None
    #: How long a job's pre-signed output link stays valid.
    output_link_seconds: int = Field(3_600, ge=60, le=604_800)
    aws_connect_timeout_seconds: float = Field(0.5, gt=0)
    aws_read_timeout_seconds: float = Field(1.0, gt=0)
    aws_max_attempts: int = Field(3, ge=1)
    aws_retry_mode: Literal["standard", "adaptive"] = "standard"
    aws_max_pool_connections: int = Field(25, ge=1)

    # Comprehend: a time budget per call keeps the sync path inside its 1 s P99 objective.
    comprehend_budget_seconds: float = Field(0.8, gt=0)
    breaker_failure_threshold: int = Field(5, ge=1)
    #: The longest the circuit stays open between probes (the first wait is 1 s, doubling).
    breaker_recovery_seconds: float = Field(10, gt=0)

    # Access. Keys are required on AWS, beyond loopback, or when `auth` is "required";
    # "auto" leaves a local server on 127.0.0.1 open so GraphiQL works at once.
    auth: Literal["auto", "required"] = "auto"
    #: The address the local server listens on (set by `aurastream serve`).
    listen_host: str = "127.0.0.1"
    keys_table: str = "AuraStream-ApiKeys"
    key_cache_ttl_seconds: float = Field(5.0, gt=0, le=60)
    default_rate_per_second: float = Field(10.0, gt=0)
    default_burst: int = Field(20, ge=1)
    default_daily_document_quota: int = Field(10_000, ge=0)
    comprehend_price_per_unit: Decimal = Decimal("0.0001")
    usage_retention_days: int = Field(400, ge=1)
    pii_detector: Literal["local", "comprehend"] = "local"
    #: Origins allowed to call the API from browsers (CORS); empty allows none.
    cors_origins: list[str] = Field(default_factory=list)

    # Health probes never take longer than this per component, and their results are kept
    # this long (failures for less), so health costs one probe per interval at any rate.
    health_timeout_seconds: float = Field(1.0, gt=0)
    health_cache_seconds: float = Field(5.0, ge=0)
    health_failure_cache_seconds: float = Field(1.0, ge=0)

    # Jobs run in-process locally, this many at a time.
    local_job_concurrency: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _lambda_is_fully_configured(self) -> Self:
        """On Lambda, refuse to start without the AWS backend spelled out: a wiped
        environment must fail closed, never serve from local stores without keys."""
        if not on_lambda():
            return self
        missing = [name for name in LAMBDA_REQUIRED if name not in self.model_fields_set]
        if self.backend != "aws" and "backend" not in missing:
            missing.insert(0, "backend (must be aws)")
        if missing:
            names = ", ".join(f"AURASTREAM_{name.upper()}" for name in missing)
            raise ValueError(f"AuraStream on AWS Lambda needs {names} set; refusing to start.")
        return self

    def require_state_machine(self) -> None:
        """The API function submits jobs, so it needs the state machine (workers do not)."""
        if self.backend == "aws" and not self.state_machine_arn:
            raise ValueError("AURASTREAM_STATE_MACHINE_ARN must be set; refusing to start.")

    @property
    def cache_path(self) -> Path:
        return self.data_dir / "cache.sqlite3"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.backend == "local"

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else self.backend == "local"

    @property
    def keys_path(self) -> Path:
        return self.data_dir / "access.sqlite3"

    @property
    def auth_enforced(self) -> bool:
        return self.auth == "required" or self.backend == "aws" or not _loopback(self.listen_host)

    @property
    def jobs_path(self) -> Path:
        return self.data_dir / "jobs.sqlite3"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def inbox_dir(self) -> Path:
        """Job sources: each tenant reads only its own `inbox/<tenant>/` below this."""
        return self.data_dir / "inbox"

    @property
    def primary_engine(self) -> EngineName:
        if self.engine is not None:
            return self.engine
        return "comprehend" if self.backend == "aws" else "model"


def on_lambda() -> bool:
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
