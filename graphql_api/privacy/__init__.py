"""Privacy: finding and redacting personal data in texts before they are stored or shown."""

from graphql_api.privacy.pii import (
    ComprehendPiiDetector,
    LocalPiiDetector,
    PiiDetector,
    PiiEntity,
    PiiType,
    UnsupportedPiiLanguage,
    find_pii,
    redact,
)

__all__ = [
    "ComprehendPiiDetector",
    "LocalPiiDetector",
    "PiiDetector",
    "PiiEntity",
    "PiiType",
    "UnsupportedPiiLanguage",
    "find_pii",
    "redact",
]
