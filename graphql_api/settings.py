"""All configuration, validated once: `AURASTREAM_*` variables over embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AURASTREAM_", extra="ignore", frozen=True)

    backend: Literal["local", "aws"] = "local"
    engine: Literal["lexicon"] = "lexicon"
    data_dir: Path = Path(".aurastream")
    service_name: str = "aurastream"

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
    graphiql: bool = True
    introspection: bool = True

    # Cache: TTL by text length, as the runbook sets it.
    cache_enabled: bool = True
    cache_ttl_short_seconds: int = Field(3_600, ge=0)  # under 100 characters
    cache_ttl_medium_seconds: int = Field(86_400, ge=0)  # under 1,000 characters
    cache_ttl_long_seconds: int = Field(604_800, ge=0)  # 1,000 characters and over
    lru_max_entries: int = Field(50_000, ge=0)

    # Health probes never take longer than this per component.
    health_timeout_seconds: float = Field(1.0, gt=0)

    @property
    def cache_path(self) -> Path:
        return self.data_dir / "cache.sqlite3"

    def cache_ttl_for(self, text_length: int) -> int:
        if text_length < 100:
            return self.cache_ttl_short_seconds
        if text_length < 1_000:
            return self.cache_ttl_medium_seconds
        return self.cache_ttl_long_seconds
