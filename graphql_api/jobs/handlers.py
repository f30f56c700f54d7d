"""Step Functions tasks: one thin function per state of `infra/statemachine/analyze_job.asl.json`.

Each builds the container once per Lambda container, lazily, and runs one JobService step
on a loop kept for the container's life.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from functools import cache
from typing import Any

from graphql_api.bootstrap import Container, bootstrap


@cache
def _container() -> Container:
    return bootstrap()


@cache
def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.new_event_loop()


def prepare(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"jobId"} → {"jobId", "parts": [{"jobId", "partIndex"}, ...]} for the Map state."""
    job_id = event["jobId"]
    parts = _loop().run_until_complete(_container().jobs.prepare(job_id))
    return {"jobId": job_id, "parts": [{"jobId": job_id, "partIndex": p} for p in parts]}


def process_part(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"jobId", "partIndex"} → {"partIndex", "processed", "failed"}."""
    service = _container().jobs
    processed, failed = _loop().run_until_complete(
        service.process_part(event["jobId"], int(event["partIndex"]))
    )
    return {"partIndex": event["partIndex"], "processed": processed, "failed": failed}


def finalize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"jobId", "partResults"} or {"jobId", "failed": true, "error"} → the job's outcome.

    Parts whose results are missing (their Catch fired) are recorded as failed documents.
    """
    error = _describe(event["error"]) if event.get("failed") else None
    job = _loop().run_until_complete(_container().jobs.finalize(event["jobId"], error=error))
    return {
        "jobId": job.id,
        "status": job.status.value,
        "processed": job.processed,
        "failed": job.failed,
    }


def _describe(error: Any) -> str:
    """Step Functions' {"Error", "Cause"}, shortened; the cause may be a JSON document."""
    if not isinstance(error, dict):
        return str(error)[:500]
    cause = error.get("Cause") or ""
    with contextlib.suppress(ValueError, AttributeError):
        cause = json.loads(cause).get("errorMessage", cause)
    return f"{error.get('Error', 'Error')}: {cause}"[:500]
