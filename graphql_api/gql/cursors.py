"""Relay connection cursors: opaque, versioned and validated.

A cursor is Relay's base64 of `<kind>:<payload>` (strawberry.relay's own encoding); the kind
carries a version, so a cursor of another kind, another version or made up is refused with
BAD_USER_INPUT rather than silently restarting at the first page.
"""

from __future__ import annotations

import math

from strawberry.relay.utils import from_base64, to_base64

from graphql_api.domain.errors import AuraStreamError
from graphql_api.domain.jobs import MAX_DOCUMENTS_PER_JOB, JobPosition
from graphql_api.domain.text import is_clean

JOB_CURSOR = "job.v1"
RESULT_CURSOR = "result.v1"
#: A cursor is a few dozen characters; anything much longer is not one of ours.
MAX_CURSOR_LENGTH = 200


class InvalidCursor(AuraStreamError):
    def __init__(self) -> None:
        super().__init__("`after` is not a cursor this connection gave out.")


def job_cursor(position: JobPosition) -> str:
    return to_base64(JOB_CURSOR, f"{position.created_at!r}|{position.id}")


def job_position(cursor: str | None) -> JobPosition | None:
    if cursor is None:
        return None
    created, separator, job_id = _payload(cursor, JOB_CURSOR).partition("|")
    try:
        created_at = float(created)
    except ValueError:
        raise InvalidCursor() from None
    if not separator or not job_id or not math.isfinite(created_at):
        raise InvalidCursor()
    return JobPosition(created_at, job_id)


def result_cursor(index: int) -> str:
    return to_base64(RESULT_CURSOR, index)


def result_offset(cursor: str | None) -> int:
    """The offset just after the cursor's result; 0 without a cursor."""
    if cursor is None:
        return 0
    index = _payload(cursor, RESULT_CURSOR)
    # ASCII digits only: int() would also read "²" or "٣".
    if not (index.isascii() and index.isdigit()) or int(index) >= MAX_DOCUMENTS_PER_JOB:
        raise InvalidCursor()
    return int(index) + 1


def _payload(cursor: str, kind: str) -> str:
    if len(cursor) > MAX_CURSOR_LENGTH or not is_clean(cursor):
        raise InvalidCursor()
    try:
        found_kind, payload = from_base64(cursor)
    except ValueError:
        raise InvalidCursor() from None
    if found_kind != kind or not is_clean(payload):
        raise InvalidCursor()
    return payload
