"""Every GraphQL error leaves with a stable `extensions.code`; unexpected ones are masked."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from graphql_api.domain.errors import AuraStreamError, ErrorCode

MASKED_MESSAGE = "Unexpected error."


def should_mask(error: GraphQLError) -> bool:
    """Mask anything that is not a deliberate, caller-facing error."""
    original = error.original_error
    return original is not None and not isinstance(original, AuraStreamError | GraphQLError)


def error_code(error: GraphQLError, *, executed: bool) -> str:
    original = error.original_error
    if isinstance(original, AuraStreamError):
        return original.code.value
    if error.extensions and "code" in error.extensions:
        return str(error.extensions["code"])
    if error.message.startswith("Syntax Error"):
        return ErrorCode.GRAPHQL_PARSE_FAILED.value
    if error.message.startswith("Variable '$"):
        return ErrorCode.BAD_USER_INPUT.value
    if not executed:
        return ErrorCode.GRAPHQL_VALIDATION_FAILED.value
    return ErrorCode.INTERNAL_SERVER_ERROR.value


def with_code(formatted: dict[str, Any], error: GraphQLError, *, executed: bool) -> dict[str, Any]:
    extensions = dict(formatted.get("extensions") or {})
    extensions["code"] = error_code(error, executed=executed)
    return {**formatted, "extensions": extensions}
