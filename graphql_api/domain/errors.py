"""Stable error codes, shared by every layer and documented in the README."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # Per document (like Comprehend's BatchDetectSentiment ErrorList).
    EMPTY_TEXT = "EMPTY_TEXT"
    INVALID_TEXT = "INVALID_TEXT"
    TEXT_TOO_LONG = "TEXT_SIZE_LIMIT_EXCEEDED"
    UNSUPPORTED_LANGUAGE = "UNSUPPORTED_LANGUAGE"
    INVALID_LANGUAGE_CODE = "INVALID_LANGUAGE_CODE"
    ENGINE_UNAVAILABLE = "ENGINE_UNAVAILABLE"
    INTERNAL_DOCUMENT_ERROR = "INTERNAL_DOCUMENT_ERROR"
    MALFORMED_RECORD = "MALFORMED_RECORD"
    PART_FAILED = "PART_FAILED"
    # Per request.
    BAD_USER_INPUT = "BAD_USER_INPUT"
    TOO_MANY_DOCUMENTS = "TOO_MANY_DOCUMENTS"
    NO_DOCUMENTS = "NO_DOCUMENTS"
    SOURCE_UNREADABLE = "SOURCE_UNREADABLE"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    AUTH_UNAVAILABLE = "AUTH_UNAVAILABLE"
    SERVICE_DISABLED = "SERVICE_DISABLED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    # Per HTTP request, before any GraphQL runs.
    BAD_REQUEST = "BAD_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    CSRF_PREFLIGHT_REQUIRED = "CSRF_PREFLIGHT_REQUIRED"
    URI_TOO_LONG = "URI_TOO_LONG"
    #: The spec's "request error" for an operationName that names no operation, or its
    #: absence when the document holds several (Apollo Server's code for the same).
    OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
    MALFORMED_EVENT = "MALFORMED_EVENT"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class AuraStreamError(Exception):
    """An error the caller can act on; its message is safe to show (never raw text)."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class TooManyDocuments(AuraStreamError):
    code = ErrorCode.TOO_MANY_DOCUMENTS


class NotFound(AuraStreamError):
    code = ErrorCode.NOT_FOUND


class SourceUnreadable(AuraStreamError):
    """By default said of every source that cannot be opened, whatever the reason, on every
    backend: it names no path and does not reveal whether anything exists outside the
    caller's inbox. A source that opened but cannot be parsed says why."""

    code = ErrorCode.SOURCE_UNREADABLE

    def __init__(self, message: str = "No readable source with that name in your inbox.") -> None:
        super().__init__(message)


class IdempotencyConflict(AuraStreamError):
    code = ErrorCode.IDEMPOTENCY_CONFLICT

    def __init__(self) -> None:
        super().__init__("This idempotencyKey was used with a different input.")


class StorageUnavailable(AuraStreamError):
    """Local storage cannot be written or read (read-only directory, full disk, damaged
    file); nothing about the request is wrong, so it can be retried once storage is back."""

    code = ErrorCode.STORAGE_UNAVAILABLE
