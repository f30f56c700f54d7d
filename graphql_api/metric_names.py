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
