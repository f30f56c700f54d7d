"""Step Functions tasks: one thin function per state of `infra/statemachine/analyze_job.asl.json`.

Each builds the container once per Lambda container, lazily, runs one JobService step on a
loop kept for the container's life, and is wrapped like the API's handler (JSON logs,
metrics flushed per invocation, traces).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from functools import cache
from typing import Any

from graphql_api.bootstrap import Container, bootstrap
from graphql_api.observability import lambda_entry

Step = Callable[[dict[str, Any], Any], dict[str, Any]]


def prepare(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"jobId"} → {"jobId", "parts": [{"jobId", "partIndex"}, ...]} for the Map state."""
    result: dict[str, Any] = _entry(_prepare)(event, context)
    return result


def process_part(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"jobId", "partIndex"} → {"partIndex", "processed", "failed"}."""
    result: dict[str, Any] = _entry(_process_part)(event, context)
    return result


def finalize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"jobId", "partResults"} or {"jobId", "failed": true, "error"} → the job's outcome.

    Parts whose results are missing (their Catch fired) are recorded as failed documents.
    """
    result: dict[str, Any] = _entry(_finalize)(event, context)
    return result


def _prepare(event: dict[str, Any], context: Any) -> dict[str, Any]:
    job_id = event["jobId"]
    # A job whose input cannot be prepared ends FAILED here, with its code; the Map then has
    # no parts and FinalizeJob finds the job finished.
    parts = _run(_container().jobs.prepare_or_fail(job_id))
    return {"jobId": job_id, "parts": [{"jobId": job_id, "partIndex": p} for p in parts]}


def _process_part(event: dict[str, Any], context: Any) -> dict[str, Any]:
    processed, failed = _run(
        _container().jobs.process_part(event["jobId"], int(event["partIndex"]))
    )
    return {"partIndex": event["partIndex"], "processed": processed, "failed": failed}


def _finalize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    error = _describe(event["error"]) if event.get("failed") else None
    job = _run(_container().jobs.finalize(event["jobId"], error=error))
    return {
        "jobId": job.id,
        "status": job.status.value,
        "processed": job.processed,
        "failed": job.failed,
    }


@cache
def _container() -> Container:
    return bootstrap()


@cache
def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.new_event_loop()


@cache
def _entry(step: Step) -> Step:
    wrapped: Step = lambda_entry(step, _container().emf)
    return wrapped


def _run(work: Any) -> Any:
    return _loop().run_until_complete(work)


def _describe(error: Any) -> str:
    """Step Functions' {"Error", "Cause"}, shortened; the cause may be a JSON document."""
    if not isinstance(error, dict):
        return str(error)[:500]
    cause = error.get("Cause") or ""
    with contextlib.suppress(ValueError, AttributeError):
        cause = json.loads(cause).get("errorMessage", cause)
    return f"{error.get('Error', 'Error')}: {cause}"[:500]
