"""The scheduled health probe: an EventBridge rule runs it every minute in each region.

It calls the API's public `/v1/health` the way a customer would (through API Gateway, so a
broken route, stage or throttle shows too) and writes, as one EMF log line:
  - `HealthCheckFailed` 1 or 0 and `HealthCheckLatency`: the service-down alarm fires after
    3 failed probes in a row;
  - `JobsInFlight`, the analyze-job executions still running (the runbook's queue depth).
It imports nothing of the app, so its cold start stays small.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from graphql_api.metric_names import NAMESPACE, Metric

URL_VARIABLE = "HEALTH_PROBE_URL"
STATE_MACHINE_VARIABLE = "HEALTH_PROBE_STATE_MACHINE_ARN"
TIMEOUT_SECONDS = 10.0
#: Counting running executions stops here: past the alarm's 100 the exact figure matters less.
MAX_COUNTED = 1_000
#: A degraded service still answers (the fallback engine); only unhealthy or no answer fails.
PASSING = frozenset({"healthy", "degraded"})


def probe(url: str, timeout: float = TIMEOUT_SECONDS) -> dict[str, Any]:
    """GET the health URL: passed, the HTTP status, the reported status and the latency."""
    started = time.perf_counter()
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    status: int | None = None
    reported: str | None = None
    error: str | None = None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
            reported = str(json.loads(response.read()).get("status"))
    except urllib.error.HTTPError as failure:  # 503 from an unhealthy service, 5xx, 4xx
        status = failure.code
        try:
            reported = str(json.loads(failure.read()).get("status"))
        except ValueError:
            reported = None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as failure:
        error = type(failure).__name__
    latency_ms = (time.perf_counter() - started) * 1_000
    passed = status == 200 and reported in PASSING
    return {
        "passed": passed,
        "httpStatus": status,
        "status": reported,
        "latencyMs": round(latency_ms, 1),
        "error": error,
    }


def jobs_in_flight(stepfunctions: Any, state_machine_arn: str) -> int:
    """Running executions of the state machine, counted up to MAX_COUNTED."""
    count, token = 0, None
    while count < MAX_COUNTED:
        params: dict[str, Any] = {
            "stateMachineArn": state_machine_arn,
            "statusFilter": "RUNNING",
            "maxResults": min(1_000, MAX_COUNTED - count),
        }
        if token:
            params["nextToken"] = token
        page = stepfunctions.list_executions(**params)
        count += len(page["executions"])
        token = page.get("nextToken")
        if not token:
            break
    return count


def emf_document(
    result: dict[str, Any], in_flight: int | None, service: str, now: float
) -> dict[str, Any]:
    metrics = [
        {"Name": Metric.HEALTH_CHECK_FAILED.value, "Unit": "Count"},
        {"Name": Metric.HEALTH_CHECK_LATENCY.value, "Unit": "Milliseconds"},
    ]
    values: dict[str, Any] = {
        Metric.HEALTH_CHECK_FAILED.value: 0 if result["passed"] else 1,
        Metric.HEALTH_CHECK_LATENCY.value: result["latencyMs"],
    }
    if in_flight is not None:
        metrics.append({"Name": Metric.JOBS_IN_FLIGHT.value, "Unit": "Count"})
        values[Metric.JOBS_IN_FLIGHT.value] = in_flight
    return {
        "_aws": {
            "Timestamp": int(now * 1_000),
            "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": [["service"]], "Metrics": metrics}
            ],
        },
        "service": service,
        **values,
        "probe": result,
    }


def run(
    url: str,
    state_machine_arn: str | None,
    stepfunctions: Callable[[], Any],
    write: Callable[[str], None] = print,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    result = probe(url)
    in_flight = None
    if state_machine_arn:
        try:
            in_flight = jobs_in_flight(stepfunctions(), state_machine_arn)
        except Exception as failure:  # the probe's own verdict must still be published
            result["jobsError"] = type(failure).__name__
    service = os.environ.get("POWERTOOLS_SERVICE_NAME", "aurastream")
    write(json.dumps(emf_document(result, in_flight, service, clock()), separators=(",", ":")))
    return {**result, "jobsInFlight": in_flight}


def handler(event: Any, context: Any) -> dict[str, Any]:
    """The Lambda entry point (EventBridge schedule)."""

    def client() -> Any:
        import boto3

        return boto3.client("stepfunctions")

    return run(os.environ[URL_VARIABLE], os.environ.get(STATE_MACHINE_VARIABLE), client)
