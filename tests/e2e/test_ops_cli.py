"""`aurastream ops ...` against moto_server: metrics are put into CloudWatch (our own through
the EMF documents the Lambda writes), then read back through the commands."""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from graphql_api.adapters.metrics import EmfMetrics
from graphql_api.cli import app
from graphql_api.metric_names import Metric
from tests.aws_fixtures import create_table, fresh_name

runner = CliRunner()


def ingest_emf(cloudwatch: Any, line: str) -> None:
    """What CloudWatch Logs does with an EMF line: one datum per metric and dimension set."""
    document = json.loads(line)
    directive = document["_aws"]
    timestamp = datetime.fromtimestamp(directive["Timestamp"] / 1_000, UTC)
    for metric_set in directive["CloudWatchMetrics"]:
        for dimension_set in metric_set["Dimensions"]:
            dimensions = [{"Name": name, "Value": document[name]} for name in dimension_set]
            for metric in metric_set["Metrics"]:
                value = document[metric["Name"]]
                datum: dict[str, Any] = {
                    "MetricName": metric["Name"],
                    "Dimensions": dimensions,
                    "Timestamp": timestamp,
                    "Unit": metric.get("Unit", "None"),
                }
                if isinstance(value, list):
                    datum["Values"] = value
                else:
                    datum["Value"] = value
                cloudwatch.put_metric_data(Namespace=metric_set["Namespace"], MetricData=[datum])


def _put(
    cloudwatch: Any,
    namespace: str,
    name: str,
    dims: dict[str, str],
    points: list[tuple[datetime, float]],
) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                "Timestamp": when,
                "Value": value,
            }
            for when, value in points
        ],
    )


def _queue_cost(moto_url: str, results: list[dict[str, Any]]) -> None:
    body = json.dumps({"results": results}).encode()
    request = urllib.request.Request(
        f"{moto_url}/moto-api/static/ce/cost-and-usage-results",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def _ops(region: str, *args: str) -> tuple[int, Any]:
    result = runner.invoke(app, ["ops", *args, "--region", region, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def _checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"]}


@pytest.fixture
def cloudwatch(aws_env, moto_url: str, monkeypatch) -> Any:
    # A region of its own: moto matches a query without dimensions to every datum of the name.
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    return boto3.client("cloudwatch", endpoint_url=moto_url, region_name="eu-west-3")


def test_daily_check_prints_cache_hit_rate_error_rate_and_cost(cloudwatch, moto_url):
    # given: an hour of Lambda work, flushed as EMF and ingested like CloudWatch Logs does
    lines: list[str] = []
    # (flushed ten minutes ago: a query's end time is exclusive, to the second)
    flushed_at = (datetime.now(UTC) - timedelta(minutes=10)).timestamp()
    emf = EmfMetrics("AuraStream", "aurastream", write=lines.append, clock=lambda: flushed_at)
    emf.increment(Metric.CACHE_HIT, 3)
    emf.increment(Metric.CACHE_MISS, 1)
    emf.flush()
    emf.increment(Metric.CACHE_HIT, 1)
    emf.increment(Metric.CACHE_MISS, 3)
    emf.flush()
    for line in lines:
        ingest_emf(cloudwatch, line)
    api_id, function = uuid.uuid4().hex[:10], fresh_name("SyncHandler")
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    _put(cloudwatch, "AWS/ApiGateway", "Count", {"ApiId": api_id}, [(hour_ago, 400)])
    _put(cloudwatch, "AWS/ApiGateway", "5xx", {"ApiId": api_id}, [(hour_ago, 2)])
    _put(cloudwatch, "AWS/ApiGateway", "4xx", {"ApiId": api_id}, [(hour_ago, 40)])
    _put(cloudwatch, "AWS/Lambda", "Invocations", {"FunctionName": function}, [(hour_ago, 400)])
    _put(cloudwatch, "AWS/Lambda", "Errors", {"FunctionName": function}, [(hour_ago, 0)])
    service = {"service": "aurastream"}
    _put(
        cloudwatch,
        "AuraStream",
        "ColdStartDuration",
        {**service, "FunctionName": function},
        [(hour_ago, 6_200.0)],
    )
    _put(cloudwatch, "AuraStream", "PiiScanned", service, [(hour_ago, 50)])
    _put(cloudwatch, "AuraStream", "PiiDetected", service, [(hour_ago, 5)])
    _put(cloudwatch, "AuraStream", "DocumentsAnalyzed", service, [(hour_ago, 8)])
    _put(cloudwatch, "AuraStream", "EstimatedCostMicroUsd", service, [(hour_ago, 1_200)])
    # and 15 days of cost: 14 at $10, then $16 (160% of the baseline)
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=15 - i) for i in range(15)]
    _queue_cost(
        moto_url,
        [
            {
                "ResultsByTime": [
                    {
                        "TimePeriod": {"Start": str(day), "End": str(day + timedelta(days=1))},
                        "Total": {
                            "BlendedCost": {"Amount": "16.0" if i == 14 else "10.0", "Unit": "USD"}
                        },
                        "Groups": [],
                        "Estimated": False,
                    }
                    for i, day in enumerate(days)
                ]
            }
        ],
    )

    # when
    code, report = _ops("eu-west-3", "daily-check", "--api-id", api_id, "--function", function)

    # then: every figure is measured, and the breaches are the cold start and the cost
    checks = _checks(report)
    assert checks["Cache hit rate"]["value"] == 50.0  # (3 + 1) hits of 8 lookups
    assert checks["Cache hit rate"]["status"] == "ok"
    assert checks["API 5xx error rate"]["value"] == 0.5
    assert checks["API 4xx error rate"]["value"] == 10.0
    assert checks["API requests"]["value"] == 400
    assert checks["Lambda error rate"]["value"] == 0.0
    assert checks["PII detection rate"]["value"] == 10.0
    assert checks["Estimated Comprehend cost per analysis"]["value"] == 150.0
    assert checks["Cost yesterday"]["value"] == 16.0
    assert checks["Cost vs 14-day baseline"]["value"] == 160.0
    assert set(report["breaches"]) == {"Cold start duration (max)", "Cost vs 14-day baseline"}
    assert code == 1


def test_daily_check_reports_no_data_rather_than_zero_errors(aws_env, moto_url, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    code, report = _ops("eu-north-1", "daily-check", "--api-id", "noapi", "--no-cost")
    checks = _checks(report)
    assert checks["API 5xx error rate"]["value"] is None
    assert checks["API 5xx error rate"]["status"] == "no data"
    assert checks["Cache hit rate"]["status"] == "no data"
    assert code == 0


def test_capacity_projects_three_months_from_measured_growth(aws_env, moto_url, monkeypatch):
    region = "ap-south-1"
    monkeypatch.setenv("AWS_REGION", region)
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_url, region_name=region)
    api_id, function = uuid.uuid4().hex[:10], fresh_name("SyncHandler")
    now = datetime.now(UTC)
    # 14 days of requests growing 2% a day (within the two weeks CloudWatch accepts), one
    # datum a day, the last day's split so that 90,000 of them came in one minute 2 hours ago
    totals = [100_000 * 1.02**i for i in range(14)]
    when = [now - timedelta(days=14 - i, hours=-1) for i in range(14)]
    data = [*list(zip(when[:13], totals[:13], strict=True)), (when[13], totals[13] - 90000)]
    _put(cloudwatch, "AWS/ApiGateway", "Count", {"ApiId": api_id}, data)
    _put(
        cloudwatch,
        "AWS/ApiGateway",
        "Count",
        {"ApiId": api_id},
        [(now - timedelta(hours=2), 90_000)],
    )
    busiest_minute = max(value for at, value in data if at > now - timedelta(days=7))
    _put(
        cloudwatch,
        "AWS/Lambda",
        "ConcurrentExecutions",
        {"FunctionName": function},
        [(now - timedelta(hours=3), 400)],
    )
    _put(
        cloudwatch,
        "AuraStream",
        "ComprehendCalls",
        {"service": "aurastream"},
        [(now - timedelta(hours=3), 300)],
    )

    code, report = _ops(
        region,
        "capacity",
        "--days",
        "14",
        "--api-id",
        api_id,
        "--function",
        function,
        "--concurrency-limit",
        "1000",
    )

    checks = _checks(report)
    growth = checks["Growth per month"]["value"]
    assert growth == pytest.approx((1.02**30 - 1) * 100, rel=0.05)
    factor = (1 + growth / 100) ** 3
    assert checks["Lambda concurrency (peak, 7 days)"]["value"] == 400
    assert checks["Lambda concurrency in 90 days"]["value"] == pytest.approx(400 * factor, rel=0.01)
    assert checks["Lambda concurrency in 90 days"]["status"] == "breach"  # 400 * 1.02^90 > 1000
    assert checks["API requests/s (peak, 7 days)"]["value"] == pytest.approx(busiest_minute / 60)
    assert checks["Comprehend calls/s (peak, 7 days)"]["value"] == 5.0
    assert code == 1
    assert any("Lambda concurrency in 90 days" in note for note in report["notes"])


def test_monthly_cost_review_by_service_and_per_analysis(aws_env, moto_url, monkeypatch):
    region = "ca-central-1"
    monkeypatch.setenv("AWS_REGION", region)
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_url, region_name=region)
    now = datetime.now(UTC)
    _put(
        cloudwatch,
        "AuraStream",
        "DocumentsAnalyzed",
        {"service": "aurastream"},
        [(now - timedelta(minutes=30), 200_000)],
    )
    month = f"{now:%Y-%m}"
    _queue_cost(
        moto_url,
        [
            {
                "ResultsByTime": [
                    {
                        "TimePeriod": {"Start": f"{month}-01", "End": f"{month}-02"},
                        "Total": {},
                        "Groups": [
                            {
                                "Keys": ["Amazon Comprehend"],
                                "Metrics": {"BlendedCost": {"Amount": "30.0", "Unit": "USD"}},
                            },
                            {
                                "Keys": ["AWS Lambda"],
                                "Metrics": {"BlendedCost": {"Amount": "10.0", "Unit": "USD"}},
                            },
                        ],
                        "Estimated": True,
                    }
                ]
            }
        ],
    )
    code, report = _ops(region, "cost", "--month", month)
    checks = _checks(report)
    assert checks["Cost this month"]["value"] == 40.0
    assert checks["Cost per analysis (all services)"]["value"] == pytest.approx(200.0)  # $40 / 200k
    assert [row["service"] for row in report["tables"]["cost by service"]] == [
        "Amazon Comprehend",
        "AWS Lambda",
    ]
    assert code == 0


def _function(moto_url: str, region: str) -> str:
    iam = boto3.client("iam", endpoint_url=moto_url, region_name=region)
    role = iam.create_role(
        RoleName=fresh_name("sync-handler"),
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    client = boto3.client("lambda", endpoint_url=moto_url, region_name=region)
    name = fresh_name("SyncHandler")
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": archive.getvalue()},
        Environment={"Variables": {"AURASTREAM_BACKEND": "aws", "AURASTREAM_CACHE_TABLE": "t"}},
    )
    version = client.publish_version(FunctionName=name)["Version"]
    client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    return name


def test_disable_and_enable_flip_the_switch_on_live_and_keep_other_variables(aws_env, moto_url):
    client = boto3.client("lambda", endpoint_url=moto_url, region_name="us-east-1")
    name = _function(moto_url, "us-east-1")
    first = client.get_alias(FunctionName=name, Name="live")["FunctionVersion"]

    code, disabled = _ops("us-east-1", "disable", "--function", name)
    assert code == 0
    live = client.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
    assert live == disabled["version"] != first
    variables = client.get_function_configuration(FunctionName=name, Qualifier=live)["Environment"][
        "Variables"
    ]
    assert variables == {
        "AURASTREAM_BACKEND": "aws",
        "AURASTREAM_CACHE_TABLE": "t",
        "AURASTREAM_ENABLED": "false",
    }

    code, enabled = _ops("us-east-1", "enable", "--function", name)
    live = client.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
    assert live == enabled["version"] != disabled["version"]
    variables = client.get_function_configuration(FunctionName=name, Qualifier=live)["Environment"][
        "Variables"
    ]
    assert variables["AURASTREAM_ENABLED"] == "true"
    assert variables["AURASTREAM_BACKEND"] == "aws"


def test_clear_cache_deletes_in_bounded_batches(aws_env, moto_url):
    table = create_table(moto_url, fresh_name("AuraStream-SentimentCache"), ("text_hash",))
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1")
    for i in range(60):
        dynamodb.put_item(TableName=table, Item={"text_hash": {"S": f"h{i:03d}"}})

    code, partial = _ops("us-east-1", "clear-cache", "--cache-table", table, "--limit", "10")
    assert (code, partial) == (0, {"table": table, "deleted": 10})
    code, rest = _ops("us-east-1", "clear-cache", "--cache-table", table, "--batch-size", "20")
    assert (code, rest["deleted"]) == (0, 50)
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 0
