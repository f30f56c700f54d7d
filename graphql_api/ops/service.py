"""The runbook's checks over a deployed stack: CloudWatch GetMetricData, Cost Explorer,
Lambda and DynamoDB, each through an injected boto3 client.

Every figure is either measured or `None` ("no data"): an empty answer from CloudWatch never
reads as "no errors". Thresholds are the runbook's (SLOs and alert tables).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from graphql_api.metric_names import NAMESPACE, Aws, Metric
from graphql_api.ops.projections import (
    PROJECTION_DAYS,
    baseline,
    fit_growth,
    peak,
    ratio,
    total,
    weighted_mean,
)

HOUR = 3_600
DAY = 86_400

# The runbook's thresholds.
ERROR_RATE_SLO_PERCENT = 1.0  # SLO: error rate < 1%
LATENCY_P99_SLO_MS = 1_000.0  # SLO: sync p99 < 1000 ms
CACHE_HIT_RATE_MIN_PERCENT = 50.0  # warning: cache hit rate < 50%
COLD_START_MAX_MS = 5_000.0  # warning: cold start > 5 s
COST_ANOMALY_PERCENT = 150.0  # critical: daily cost > 150% of baseline
THROUGHPUT_SLO_RPS = 1_000.0  # SLO: 1000 requests/s sustained
API_THROTTLE_RPS = 10_000.0  # the template's default throttle (the runbook's plan)
LAMBDA_CONCURRENCY_LIMIT = 1_000  # the account default the runbook plans with
#: Comprehend's default quota for the batch sentiment API, in requests per second.
COMPREHEND_QUOTA_RPS = 10.0
#: `live` is the alias SAM's AutoPublishAlias keeps pointed at traffic.
LIVE_ALIAS = "live"
ENABLED_VARIABLE = "AURASTREAM_ENABLED"


@dataclass(frozen=True, slots=True)
class Targets:
    """What to measure: the stack's outputs, defaulting to the runbook's names."""

    api_id: str | None = None
    function: str = "SyncHandler"
    cache_table: str = "AuraStream-SentimentCache"
    jobs_table: str = "AuraStream-Jobs"
    keys_table: str = "AuraStream-ApiKeys"
    service: str = "aurastream"

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.cache_table, self.jobs_table, self.keys_table)


@dataclass(frozen=True, slots=True)
class Query:
    id: str
    namespace: str
    name: str
    dimensions: Mapping[str, str]
    stat: str
    period: int


@dataclass(frozen=True, slots=True)
class Check:
    """One line of a report: a measured figure against the runbook's threshold."""

    name: str
    value: float | None
    unit: str
    threshold: str = ""
    #: "ok", "breach", "no data" or "info" (no threshold).
    status: str = "info"
    source: str = ""


def _judge(
    value: float | None, *, at_most: float | None = None, at_least: float | None = None
) -> str:
    if value is None:
        return "no data"
    if at_most is not None and value > at_most:
        return "breach"
    if at_least is not None and value < at_least:
        return "breach"
    return "ok"


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    period: str
    checks: list[Check]
    notes: list[str] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def breaches(self) -> list[Check]:
        return [check for check in self.checks if check.status == "breach"]

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "period": self.period,
            "checks": [asdict(check) for check in self.checks],
            "notes": self.notes,
            "tables": self.tables,
            "breaches": [check.name for check in self.breaches],
        }


class MetricReader:
    """GetMetricData in pages of 500 queries; each query's values oldest first, gaps left out."""

    def __init__(self, cloudwatch: Any) -> None:
        self.cloudwatch = cloudwatch

    def read(
        self, queries: Sequence[Query], start: datetime, end: datetime
    ) -> dict[str, list[float]]:
        found: dict[str, list[tuple[datetime, float]]] = {query.id: [] for query in queries}
        for offset in range(0, len(queries), 500):
            batch = [_metric_data_query(query) for query in queries[offset : offset + 500]]
            params: dict[str, Any] = {
                "MetricDataQueries": batch,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            while True:
                page = self.cloudwatch.get_metric_data(**params)
                for result in page["MetricDataResults"]:
                    pairs = zip(
                        result.get("Timestamps", []), result.get("Values", []), strict=False
                    )
                    found[result["Id"]] += [(ts, value) for ts, value in pairs if value is not None]
                token = page.get("NextToken")
                if not token:
                    break
                params["NextToken"] = token
        return {key: [value for _, value in sorted(pairs)] for key, pairs in found.items()}


def _metric_data_query(query: Query) -> dict[str, Any]:
    return {
        "Id": query.id,
        "MetricStat": {
            "Metric": {
                "Namespace": query.namespace,
                "MetricName": query.name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in query.dimensions.items()],
            },
            "Period": query.period,
            "Stat": query.stat,
        },
        "ReturnData": True,
    }


class OpsService:
    """The runbook's routine operations; clients are boto3 clients (or anything shaped so)."""

    def __init__(
        self,
        targets: Targets,
        *,
        cloudwatch: Any,
        cost_explorer: Any | None = None,
        lambda_client: Any | None = None,
        dynamodb: Any | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.targets = targets
        self.metrics = MetricReader(cloudwatch)
        self.cost_explorer = cost_explorer
        self.lambda_client = lambda_client
        self.dynamodb = dynamodb
        self.now = now

    # ------------------------------------------------------------------ queries
    def _api(self, id_: str, name: str, stat: str, period: int) -> list[Query]:
        if self.targets.api_id is None:
            return []
        return [Query(id_, Aws.API_NAMESPACE, name, {"ApiId": self.targets.api_id}, stat, period)]

    def _function(self, id_: str, name: str, stat: str, period: int) -> Query:
        return Query(
            id_, Aws.LAMBDA_NAMESPACE, name, {"FunctionName": self.targets.function}, stat, period
        )

    def _own(self, id_: str, name: Metric, stat: str, period: int, **extra: str) -> Query:
        return Query(id_, NAMESPACE, name, {"service": self.targets.service, **extra}, stat, period)

    # ------------------------------------------------------------------ daily
    def daily_check(self, hours: int = 24) -> Report:
        """The morning check: errors, latency, cache hit rate, cold starts, PII rate, cost."""
        end = self.now()
        start = end - timedelta(hours=hours)
        queries = [
            *self._api("requests", Aws.API_REQUESTS, "Sum", HOUR),
            *self._api("errors5xx", Aws.API_5XX, "Sum", HOUR),
            *self._api("errors4xx", Aws.API_4XX, "Sum", HOUR),
            *self._api("latencyP99", Aws.API_LATENCY, "p99", HOUR),
            self._function("invocations", Aws.LAMBDA_INVOCATIONS, "Sum", HOUR),
            self._function("lambdaErrors", Aws.LAMBDA_ERRORS, "Sum", HOUR),
            # The runbook's own query: namespace AuraStream, no dimensions.
            Query("hitRate", NAMESPACE, Metric.CACHE_HIT_RATE, {}, "Average", HOUR),
            Query("hitRateSamples", NAMESPACE, Metric.CACHE_HIT_RATE, {}, "SampleCount", HOUR),
            self._own(
                "coldStart",
                Metric.COLD_START_DURATION,
                "Maximum",
                HOUR,
                FunctionName=self.targets.function,
            ),
            self._own("piiScanned", Metric.PII_SCANNED, "Sum", HOUR),
            self._own("piiDetected", Metric.PII_DETECTED, "Sum", HOUR),
            self._own("documents", Metric.DOCUMENTS_ANALYZED, "Sum", HOUR),
            self._own("costMicroUsd", Metric.ESTIMATED_COST_MICRO_USD, "Sum", HOUR),
            self._own("authFailures", Metric.AUTH_FAILURES, "Sum", HOUR),
        ]
        data = self.metrics.read(queries, start, end)
        requests = total(data.get("requests"))
        invocations = total(data["invocations"])
        # No requests at all but an API id: 0 errors of 0 requests is still "no data".
        checks = [
            Check("API requests", requests, "count", source="AWS/ApiGateway Count by ApiId"),
            self._rate_check("API 5xx error rate", data.get("errors5xx"), requests, "5xx"),
            self._rate_check(
                "API 4xx error rate", data.get("errors4xx"), requests, "4xx", slo=False
            ),
            Check(
                "API latency p99 (max hour)",
                peak(data.get("latencyP99")),
                "ms",
                f"< {LATENCY_P99_SLO_MS:,.0f}",
                _judge(peak(data.get("latencyP99")), at_most=LATENCY_P99_SLO_MS),
                "AWS/ApiGateway Latency p99 by ApiId",
            ),
            Check(
                "Lambda error rate",
                ratio(total(data["lambdaErrors"]) or 0.0, invocations),
                "%",
                f"< {ERROR_RATE_SLO_PERCENT:g}",
                _judge(
                    ratio(total(data["lambdaErrors"]) or 0.0, invocations),
                    at_most=ERROR_RATE_SLO_PERCENT,
                ),
                f"AWS/Lambda Errors / Invocations, {self.targets.function}",
            ),
            Check(
                "Cache hit rate",
                weighted_mean(data["hitRate"], data["hitRateSamples"])
                if len(data["hitRate"]) == len(data["hitRateSamples"])
                else None,
                "%",
                f">= {CACHE_HIT_RATE_MIN_PERCENT:g}",
                _judge(
                    weighted_mean(data["hitRate"], data["hitRateSamples"])
                    if len(data["hitRate"]) == len(data["hitRateSamples"])
                    else None,
                    at_least=CACHE_HIT_RATE_MIN_PERCENT,
                ),
                "AuraStream CacheHitRate (no dimensions)",
            ),
            Check(
                "Cold start duration (max)",
                peak(data["coldStart"]),
                "ms",
                f"<= {COLD_START_MAX_MS:,.0f}",
                _judge(peak(data["coldStart"]), at_most=COLD_START_MAX_MS),
                f"AuraStream ColdStartDuration, {self.targets.function}",
            ),
            Check(
                "PII detection rate",
                ratio(total(data["piiDetected"]) or 0.0, total(data["piiScanned"])),
                "%",
                source="AuraStream PiiDetected / PiiScanned",
            ),
            Check(
                "Estimated Comprehend cost per analysis",
                ratio(total(data["costMicroUsd"]) or 0.0, total(data["documents"]), scale=1.0),
                "micro-USD",
                source="AuraStream EstimatedCostMicroUsd / DocumentsAnalyzed",
            ),
            Check(
                "Failed API key attempts",
                total(data["authFailures"]) or 0.0,
                "count",
                source="AuraStream AuthFailures",
            ),
        ]
        notes = []
        if self.targets.api_id is None:
            notes.append(
                "No --api-id: API Gateway figures skipped (an HTTP API is measured by ApiId)."
            )
        cost_table: list[dict[str, Any]] = []
        if self.cost_explorer is not None:
            days = self._daily_costs(end.date() - timedelta(days=15), end.date())
            cost_table = [{"day": day, "cost": cost} for day, cost in days]
            costs = [cost for _, cost in days]
            yesterday = costs[-1] if costs else None
            base = baseline(costs)
            share = ratio(yesterday, base)
            checks.append(
                Check("Cost yesterday", yesterday, "USD", source="Cost Explorer BlendedCost")
            )
            checks.append(
                Check(
                    "Cost vs 14-day baseline",
                    share,
                    "%",
                    f"<= {COST_ANOMALY_PERCENT:g}",
                    _judge(share, at_most=COST_ANOMALY_PERCENT),
                    "Cost Explorer, daily",
                )
            )
        return Report(
            "AuraStream daily health check",
            f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC",
            checks,
            notes,
            {"daily cost": cost_table} if cost_table else {},
        )

    def _rate_check(
        self,
        name: str,
        errors: list[float] | None,
        requests: float | None,
        label: str,
        *,
        slo: bool = True,
    ) -> Check:
        if self.targets.api_id is None:
            return Check(name, None, "%", status="no data", source="needs --api-id")
        value = ratio(total(errors) or 0.0, requests)
        if not slo:
            return Check(name, value, "%", source=f"AWS/ApiGateway {label} / Count by ApiId")
        return Check(
            name,
            value,
            "%",
            f"< {ERROR_RATE_SLO_PERCENT:g}",
            _judge(value, at_most=ERROR_RATE_SLO_PERCENT),
            f"AWS/ApiGateway {label} / Count by ApiId",
        )

    # ------------------------------------------------------------------ cost
    def _daily_costs(self, start: date, end: date) -> list[tuple[str, float]]:
        assert self.cost_explorer is not None
        rows: list[tuple[str, float]] = []
        params: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Metrics": ["BlendedCost"],
        }
        while True:
            page = self.cost_explorer.get_cost_and_usage(**params)
            for result in page.get("ResultsByTime", []):
                amount = result.get("Total", {}).get("BlendedCost", {}).get("Amount")
                if amount is not None:
                    rows.append((result["TimePeriod"]["Start"], float(amount)))
            token = page.get("NextPageToken")
            if not token:
                return rows
            params["NextPageToken"] = token

    def cost(self, month: date | None = None) -> Report:
        """The monthly cost review: cost by service, cost per analysis, Lambda duration."""
        if self.cost_explorer is None:
            raise ValueError("the cost review needs a Cost Explorer client")
        today = self.now().date()
        first = (month or today).replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        end = min(following, today + timedelta(days=1))
        by_service: dict[str, float] = {}
        params: dict[str, Any] = {
            "TimePeriod": {"Start": first.isoformat(), "End": end.isoformat()},
            "Granularity": "MONTHLY",
            "Metrics": ["BlendedCost"],
            "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        }
        while True:
            page = self.cost_explorer.get_cost_and_usage(**params)
            for result in page.get("ResultsByTime", []):
                for group in result.get("Groups", []):
                    amount = float(group["Metrics"]["BlendedCost"]["Amount"])
                    service = group["Keys"][0]
                    by_service[service] = by_service.get(service, 0.0) + amount
            token = page.get("NextPageToken")
            if not token:
                break
            params["NextPageToken"] = token
        start_time = datetime(first.year, first.month, first.day, tzinfo=UTC)
        end_time = min(datetime(end.year, end.month, end.day, tzinfo=UTC), self.now())
        data = self.metrics.read(
            [
                self._own("documents", Metric.DOCUMENTS_ANALYZED, "Sum", DAY),
                self._own("costMicroUsd", Metric.ESTIMATED_COST_MICRO_USD, "Sum", DAY),
                self._function("duration", Aws.LAMBDA_DURATION, "Average", DAY),
                self._function("invocations", Aws.LAMBDA_INVOCATIONS, "Sum", DAY),
            ],
            start_time,
            end_time,
        )
        spent = sum(by_service.values()) if by_service else None
        documents = total(data["documents"])
        checks = [
            Check("Cost this month", spent, "USD", source="Cost Explorer BlendedCost by SERVICE"),
            Check("Documents analyzed", documents, "count", source="AuraStream DocumentsAnalyzed"),
            Check(
                "Cost per analysis (all services)",
                ratio(spent, documents, scale=1_000_000.0),
                "micro-USD",
                source="Cost Explorer / DocumentsAnalyzed",
            ),
            Check(
                "Estimated Comprehend cost per analysis",
                ratio(total(data["costMicroUsd"]) or 0.0, documents, scale=1.0),
                "micro-USD",
                source="AuraStream EstimatedCostMicroUsd / DocumentsAnalyzed",
            ),
            Check(
                "SyncHandler mean duration",
                weighted_mean(data["duration"], data["invocations"])
                if len(data["duration"]) == len(data["invocations"])
                else None,
                "ms",
                source=f"AWS/Lambda Duration, {self.targets.function}",
            ),
        ]
        services = [
            {"service": name, "cost": round(amount, 4)}
            for name, amount in sorted(by_service.items(), key=lambda item: -item[1])
        ]
        return Report(
            "AuraStream monthly cost review",
            f"{first:%Y-%m} ({first} to {end})",
            checks,
            [] if by_service else ["Cost Explorer returned no cost for the month."],
            {"cost by service": services},
        )

    # ------------------------------------------------------------------ capacity
    def capacity(
        self,
        days: int = 30,
        *,
        concurrency_limit: int | None = None,
        throttle_rps: float = API_THROTTLE_RPS,
        comprehend_quota_rps: float = COMPREHEND_QUOTA_RPS,
    ) -> Report:
        """The weekly capacity review: measured peaks and growth, projected three months on."""
        end = self.now()
        start = end - timedelta(days=days)
        recent = end - timedelta(days=min(days, 7))
        daily = [
            *self._api("requests", Aws.API_REQUESTS, "Sum", DAY),
            self._function("invocationsDaily", Aws.LAMBDA_INVOCATIONS, "Sum", DAY),
        ]
        for index, table in enumerate(self.targets.tables):
            daily += [
                Query(
                    f"reads{index}",
                    Aws.DYNAMODB_NAMESPACE,
                    Aws.DYNAMODB_READS,
                    {"TableName": table},
                    "Sum",
                    DAY,
                ),
                Query(
                    f"writes{index}",
                    Aws.DYNAMODB_NAMESPACE,
                    Aws.DYNAMODB_WRITES,
                    {"TableName": table},
                    "Sum",
                    DAY,
                ),
            ]
        by_day = self.metrics.read(daily, start, end)
        peaks = self.metrics.read(
            [
                *self._api("requestsPerMinute", Aws.API_REQUESTS, "Sum", 60),
                self._function("concurrency", Aws.LAMBDA_CONCURRENCY, "Maximum", HOUR),
                self._function("durationMax", Aws.LAMBDA_DURATION, "Maximum", HOUR),
                self._function("durationAvg", Aws.LAMBDA_DURATION, "Average", HOUR),
                self._function("throttles", Aws.LAMBDA_THROTTLES, "Sum", HOUR),
                self._own("comprehendCalls", Metric.COMPREHEND_CALLS, "Sum", 60),
            ],
            recent,
            end,
        )
        traffic = by_day.get("requests") or by_day["invocationsDaily"]
        traffic_source = "API requests" if by_day.get("requests") else "Lambda invocations"
        growth = fit_growth(traffic)
        limit = concurrency_limit or self._concurrency_limit()
        peak_rps = ratio(peak(peaks.get("requestsPerMinute")), 60.0, scale=1.0)
        peak_concurrency = peak(peaks["concurrency"])
        peak_comprehend = ratio(peak(peaks["comprehendCalls"]), 60.0, scale=1.0)
        factor = growth.factor() if growth else None

        def projected(value: float | None) -> float | None:
            return None if value is None or factor is None else value * factor

        def check(
            name: str, value: float | None, unit: str, ceiling: float | None, source: str
        ) -> list[Check]:
            rows = [
                Check(
                    f"{name} (peak, 7 days)",
                    value,
                    unit,
                    f"<= {ceiling:,.0f}" if ceiling else "",
                    _judge(value, at_most=ceiling)
                    if ceiling
                    else ("no data" if value is None else "info"),
                    source,
                )
            ]
            if ceiling:
                rows.append(
                    Check(
                        f"{name} in {PROJECTION_DAYS} days",
                        projected(value),
                        unit,
                        f"<= {ceiling:,.0f}",
                        _judge(projected(value), at_most=ceiling),
                        "projected from the measured growth",
                    )
                )
            return rows

        checks = [
            Check(
                f"{traffic_source} per day (last)",
                traffic[-1] if traffic else None,
                "count",
                source=f"daily Sum, {days} days",
            ),
            Check(
                "Growth per month",
                growth.monthly_percent if growth else None,
                "%",
                status="info" if growth else "no data",
                source=f"log-linear fit, {growth.days_measured if growth else 0} days with traffic",
            ),
            *check(
                "API requests/s",
                peak_rps,
                "req/s",
                throttle_rps,
                "AWS/ApiGateway Count per minute / 60",
            ),
            *check(
                "Lambda concurrency",
                peak_concurrency,
                "executions",
                float(limit),
                f"AWS/Lambda ConcurrentExecutions, limit {limit}",
            ),
            *check(
                "Comprehend calls/s",
                peak_comprehend,
                "calls/s",
                comprehend_quota_rps,
                "AuraStream ComprehendCalls per minute / 60",
            ),
            Check(
                "Lambda duration (max)",
                peak(peaks["durationMax"]),
                "ms",
                "< 30,000",
                _judge(peak(peaks["durationMax"]), at_most=30_000.0),
                "AWS/Lambda Duration, timeout 30 s",
            ),
            Check(
                "Lambda duration (mean of hours)",
                None
                if not peaks["durationAvg"]
                else sum(peaks["durationAvg"]) / len(peaks["durationAvg"]),
                "ms",
                source="AWS/Lambda Duration Average",
            ),
            Check(
                "Lambda throttles",
                total(peaks["throttles"]) or 0.0,
                "count",
                "0",
                _judge(total(peaks["throttles"]) or 0.0, at_most=0.0),
                "AWS/Lambda Throttles",
            ),
        ]
        tables = [
            {
                "table": table,
                "read units/day (peak)": peak(by_day[f"reads{index}"]),
                "write units/day (peak)": peak(by_day[f"writes{index}"]),
                f"read units/day in {PROJECTION_DAYS} days": projected(
                    peak(by_day[f"reads{index}"])
                ),
                f"write units/day in {PROJECTION_DAYS} days": projected(
                    peak(by_day[f"writes{index}"])
                ),
            }
            for index, table in enumerate(self.targets.tables)
        ]
        notes = [
            f"Throughput SLO: {THROUGHPUT_SLO_RPS:,.0f} req/s sustained; "
            f"API throttle {throttle_rps:,.0f} req/s."
        ]
        if growth is None:
            notes.append(
                f"Under a week of days with traffic in {days} days: no growth rate, no projection."
            )
        notes += [
            f"Recommend: {check.name} heads past {check.threshold}."
            for check in checks
            if check.status == "breach"
        ]
        return Report(
            "AuraStream capacity review",
            f"{start:%Y-%m-%d} to {end:%Y-%m-%d} UTC",
            checks,
            notes,
            {"DynamoDB consumed capacity": tables},
        )

    def _concurrency_limit(self) -> int:
        """The function's reserved concurrency if set, else the account's limit."""
        if self.lambda_client is None:
            return LAMBDA_CONCURRENCY_LIMIT
        reserved = self.lambda_client.get_function_concurrency(FunctionName=self.targets.function)
        if reserved.get("ReservedConcurrentExecutions"):
            return int(reserved["ReservedConcurrentExecutions"])
        limits = self.lambda_client.get_account_settings().get("AccountLimit", {})
        return int(limits.get("ConcurrentExecutions", LAMBDA_CONCURRENCY_LIMIT))

    # ------------------------------------------------------------------ switch and cache
    def set_enabled(self, enabled: bool, alias: str = LIVE_ALIAS) -> dict[str, Any]:
        """Flip the maintenance switch on the function, keeping every other variable, then
        publish a version and point `alias` at it (traffic goes through the alias)."""
        if self.lambda_client is None:
            raise ValueError("the maintenance switch needs a Lambda client")
        client = self.lambda_client
        function = self.targets.function
        current = client.get_function_configuration(FunctionName=function)
        variables = dict(current.get("Environment", {}).get("Variables", {}))
        variables[ENABLED_VARIABLE] = "true" if enabled else "false"
        client.update_function_configuration(
            FunctionName=function, Environment={"Variables": variables}
        )
        self._wait_until_updated(function)
        version = client.publish_version(
            FunctionName=function,
            Description=f"{ENABLED_VARIABLE}={variables[ENABLED_VARIABLE]} by aurastream ops",
        )["Version"]
        client.update_alias(FunctionName=function, Name=alias, FunctionVersion=version)
        return {
            "function": function,
            "alias": alias,
            "version": version,
            ENABLED_VARIABLE: variables[ENABLED_VARIABLE],
            "variables_kept": sorted(name for name in variables if name != ENABLED_VARIABLE),
        }

    def _wait_until_updated(self, function: str, attempts: int = 60, delay: float = 2.0) -> None:
        """An update must finish before a version can be published from it."""
        assert self.lambda_client is not None
        for _ in range(attempts):
            status = self.lambda_client.get_function_configuration(FunctionName=function).get(
                "LastUpdateStatus", "Successful"
            )
            if status != "InProgress":
                if status == "Failed":
                    raise RuntimeError(f"updating {function} failed")
                return
            time.sleep(delay)
        raise TimeoutError(f"{function} still updating after {attempts * delay:.0f} s")

    def clear_cache(self, batch_size: int = 25, limit: int | None = None) -> int:
        """Delete cached results in bounded batches (the cache rebuilds itself)."""
        if self.dynamodb is None:
            raise ValueError("clearing the cache needs a DynamoDB client")
        from graphql_api.adapters.aws.dynamodb_cache import DynamoDBResultCache
        from graphql_api.adapters.memory import SystemClock

        dynamodb = self.dynamodb
        cache = DynamoDBResultCache(self.targets.cache_table, lambda: dynamodb, SystemClock())
        return asyncio.run(cache.clear(batch_size=batch_size, limit=limit))
