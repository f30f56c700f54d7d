"""Every metric AuraStream publishes, by name: one vocabulary for code, alarms and `ops`.

A typo in a metric name fails at import here instead of leaving a dashboard silently empty.
CloudWatch namespace `AuraStream`; the template's alarms and dashboard use the same strings.
"""

from __future__ import annotations

from enum import StrEnum

NAMESPACE = "AuraStream"


class Metric(StrEnum):
    # requests
    REQUEST_LATENCY = "RequestLatency"
    REQUEST_ERRORS = "RequestErrors"
    DOCUMENTS_ANALYZED = "DocumentsAnalyzed"
    BILLABLE_UNITS = "BillableUnits"
    # cache
    CACHE_HIT = "CacheHit"
    CACHE_MISS = "CacheMiss"
    #: Percent of cache lookups that hit, published with no dimensions (the runbook's query).
    CACHE_HIT_RATE = "CacheHitRate"
    CACHE_ERRORS = "CacheErrors"
    # engine
    ENGINE_LATENCY = "EngineLatency"
    ENGINE_ERRORS = "EngineErrors"
    ENGINE_FALLBACK = "EngineFallback"
    CIRCUIT_OPEN = "CircuitOpen"
    #: Calls to Comprehend (each a batch), read against its request quota.
    COMPREHEND_CALLS = "ComprehendCalls"
    #: Estimated Comprehend spend in micro-USD; Sum over DocumentsAnalyzed is cost per analysis.
    ESTIMATED_COST_MICRO_USD = "EstimatedCostMicroUsd"
    # privacy
    PII_SCANNED = "PiiScanned"
    #: Documents in which at least one personal-data entity was found.
    PII_DETECTED = "PiiDetected"
    # access
    AUTH_FAILURES = "AuthFailures"
    RATE_LIMITED = "RateLimited"
    QUOTA_EXCEEDED = "QuotaExceeded"
    # jobs
    JOBS_SUBMITTED = "JobsSubmitted"
    JOBS_SUCCEEDED = "JobsSucceeded"
    JOBS_FAILED = "JobsFailed"
    JOB_DURATION = "JobDuration"
    # Lambda
    COLD_START = "ColdStart"
    #: Process start to the end of the first invocation: what the first caller waited.
    COLD_START_DURATION = "ColdStartDuration"
    # the scheduled health probe
    HEALTH_CHECK_FAILED = "HealthCheckFailed"
    HEALTH_CHECK_LATENCY = "HealthCheckLatency"
    #: Analyze-job executions still running, counted by the probe (the queue depth).
    JOBS_IN_FLIGHT = "JobsInFlight"


class Aws(StrEnum):
    """The AWS metrics `ops` reads, spelled as AWS publishes them. An HTTP API publishes
    `4xx`/`5xx`/`Count`/`Latency` by `ApiId` (not the REST API's `4XXError` by `ApiName`)."""

    API_NAMESPACE = "AWS/ApiGateway"
    API_REQUESTS = "Count"
    API_4XX = "4xx"
    API_5XX = "5xx"
    API_LATENCY = "Latency"
    LAMBDA_NAMESPACE = "AWS/Lambda"
    LAMBDA_INVOCATIONS = "Invocations"
    LAMBDA_ERRORS = "Errors"
    LAMBDA_DURATION = "Duration"
    LAMBDA_CONCURRENCY = "ConcurrentExecutions"
    LAMBDA_THROTTLES = "Throttles"
    DYNAMODB_NAMESPACE = "AWS/DynamoDB"
    DYNAMODB_READS = "ConsumedReadCapacityUnits"
    DYNAMODB_WRITES = "ConsumedWriteCapacityUnits"
    DYNAMODB_THROTTLED = "ThrottledRequests"
    STATES_NAMESPACE = "AWS/States"
    STATES_STARTED = "ExecutionsStarted"
    STATES_SUCCEEDED = "ExecutionsSucceeded"
    STATES_FAILED = "ExecutionsFailed"
    STATES_TIMED_OUT = "ExecutionsTimedOut"
    STATES_ABORTED = "ExecutionsAborted"
    STATES_TIME = "ExecutionTime"
