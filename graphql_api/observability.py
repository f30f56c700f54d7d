"""Logger, tracer and metrics, created once per process (Powertools for AWS Lambda).

Logs are JSON and carry no raw text: only hashes, counts, codes and ids. The X-Ray tracer
costs ~0.5 s of imports, so it is built only where traces go somewhere: on Lambda with
tracing enabled. Elsewhere `subsegment()` is a no-op.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from graphql_api.metric_names import Metric

if TYPE_CHECKING:
    from graphql_api.adapters.metrics import EmfMetrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "aurastream")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AuraStream")

logger = Logger(service=SERVICE)

#: When this module was imported: the fallback start of a process without /proc.
_IMPORTED = time.monotonic()


def process_age_ms(proc: str = "/proc") -> float:
    """Milliseconds since this process started: /proc's start time (Lambda runs Linux), so
    the runtime's own start-up counts; elsewhere, since this module was imported."""
    try:
        with open(f"{proc}/self/stat", encoding="ascii") as stat:
            # Field 22 is the start time in clock ticks after boot; the name (field 2) may
            # hold spaces, so count from its closing parenthesis (field 3 is index 0 after it).
            started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        with open(f"{proc}/uptime", encoding="ascii") as uptime:
            uptime_seconds = float(uptime.read().split()[0])
    except (OSError, ValueError, IndexError):
        return (time.monotonic() - _IMPORTED) * 1_000
    return max(0.0, (uptime_seconds - started_ticks / os.sysconf("SC_CLK_TCK")) * 1_000)


#: What is known of the request being served, for its log lines and its access log line.
#: A dict set per request, so what the access service learns deep inside (the key id) is
#: seen by the access log written around it.
request_facts: ContextVar[dict[str, Any] | None] = ContextVar("request_facts", default=None)


def note_request(**facts: Any) -> None:
    """Add facts (e.g. `key_id`) to the current request's log lines; no-op outside one."""
    current = request_facts.get()
    if current is not None:
        current.update(facts)


class _RequestFacts(logging.Filter):
    """Puts the request's key id on every log line written while serving it."""

    def filter(self, record: logging.LogRecord) -> bool:
        facts = request_facts.get()
        if facts and "key_id" in facts and not hasattr(record, "key_id"):
            record.key_id = facts["key_id"]
        return True


for _handler in logger.handlers:
    _handler.addFilter(_RequestFacts())


@cache
def tracer() -> Any | None:
    on_lambda = "AWS_LAMBDA_FUNCTION_NAME" in os.environ
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in {"1", "true"}
    if not on_lambda or disabled:
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


@contextmanager
def subsegment(name: str) -> Iterator[None]:
    """An X-Ray subsegment around a call to a dependency (cache, engine, store, Step Functions)."""
    active = tracer()
    if active is None:
        yield
        return
    with active.provider.in_subsegment(name):
        yield


def route_std_logging() -> None:
    """Send the package's standard-library loggers through the JSON logger's handler."""
    from aws_lambda_powertools.logging import utils

    logging.getLogger("graphql_api")  # registered, so its children propagate to the copy
    utils.copy_config_to_registered_loggers(source_logger=logger, include={"graphql_api"})


def _api_gateway_request_id(event: Any) -> str | None:
    """`requestContext.requestId` of an API Gateway event (REST or HTTP API), as Powertools'
    `correlation_paths.API_GATEWAY_HTTP` reads it; None for any other event."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return request_id if isinstance(request_id, str) else None


def lambda_entry(function: Callable[[Any, Any], Any], emf: EmfMetrics | None) -> Any:
    """A Lambda handler with the Powertools decorators: JSON logs with the API Gateway request
    id as correlation id and the cold start flagged; metrics flushed once per invocation
    (dimensioned ones by `emf.flush()`); X-Ray where enabled."""

    cold = [True]

    def invoke(event: Any, context: Any) -> Any:
        logger.set_correlation_id(_api_gateway_request_id(event))
        try:
            return function(event, context)
        finally:
            if emf is not None:
                if cold[0]:
                    cold[0] = False
                    # Lambda reports InitDuration only in the REPORT log line, not as a metric.
                    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", SERVICE)
                    emf.observe_ms(
                        Metric.COLD_START_DURATION,
                        process_age_ms(),
                        {"FunctionName": function_name},
                    )
                try:
                    emf.flush()
                except Exception:
                    # Lost metrics are logged; an answered request still gets its answer.
                    logger.exception("metrics flush failed")

    # The correlation id is set by `invoke`: Powertools' correlation_id_path would run a
    # JMESPath search over the event on every invocation for the same one field.
    handler = logger.inject_lambda_context(clear_state=True)(invoke)
    if emf is not None:
        handler = emf.powertools.log_metrics(capture_cold_start_metric=True)(handler)
    active = tracer()
    if active is not None:
        handler = active.capture_lambda_handler(capture_response=False)(handler)
    return handler
