"""The runbook's scripts, run as operators run them: bash, the `aws` CLI and `aurastream ops`,
against moto_server (a stack with the template's outputs, CloudWatch, Lambda, DynamoDB, Cost
Explorer) and the local server for health."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws_fixtures import create_table, fresh_name
from tests.support import ROOT

SCRIPTS = ROOT / "scripts"
BIN = Path(sys.executable).parent


def _stack(moto_url: str, outputs: dict[str, str]) -> str:
    """A stack in moto whose outputs are the given names, as `sam deploy` would leave them."""
    name = fresh_name("aurastream")
    template = {
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1").create_stack(
        StackName=name, TemplateBody=json.dumps(template)
    )
    return name


def _run(script: str, stack: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "AURASTREAM_STACK": stack,
        "AWS_REGION": "us-east-1",
        "AURASTREAM": str(BIN / "aurastream"),
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "COLUMNS": "200",
        **env,
    }
    return subprocess.run(
        ["bash", str(SCRIPTS / script), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _function(moto_url: str, variables: dict[str, str]) -> str:
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1")
    role = iam.create_role(
        RoleName=fresh_name("sync-handler"),
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    client = boto3.client("lambda", endpoint_url=moto_url, region_name="us-east-1")
    name = fresh_name("SyncHandler")
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": archive.getvalue()},
        Environment={"Variables": variables},
    )
    version = client.publish_version(FunctionName=name)["Version"]
    client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    return name


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.sh")))
def test_every_script_parses(script):
    subprocess.run(["bash", "-n", str(SCRIPTS / script)], check=True)


def test_daily_health_check_prints_health_hit_rate_error_rate_and_cost(
    aws_env, moto_url, server_url
):
    api_id, function = fresh_name("api"), fresh_name("SyncHandler")
    stack = _stack(
        moto_url,
        {
            "HealthUrl": f"{server_url}/v1/health",
            "HttpApiId": api_id,
            "SyncHandlerFunctionName": function,
        },
    )
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_url, region_name="us-east-1")
    hour_ago = datetime.now(UTC) - timedelta(hours=1)

    def put(namespace: str, name: str, dims: dict[str, str], value: float, **extra: Any) -> None:
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    "Timestamp": hour_ago,
                    **({"Values": extra["values"]} if "values" in extra else {"Value": value}),
                }
            ],
        )

    put("AWS/ApiGateway", "Count", {"ApiId": api_id}, 1_000)
    put("AWS/ApiGateway", "5xx", {"ApiId": api_id}, 3)
    put("AWS/Lambda", "Invocations", {"FunctionName": function}, 1_000)
    put("AuraStream", "CacheHitRate", {}, 0, values=[100.0, 100.0, 100.0, 0.0])

    result = _run("daily_health_check.sh", stack, "--no-cost")

    assert "HTTP 200, status healthy" in result.stdout, result.stdout + result.stderr
    assert "Cache hit rate" in result.stdout
    assert "75.00 %" in result.stdout  # 3 of 4 lookups hit
    assert "0.30 %" in result.stdout  # 3 5xx of 1,000 requests
    assert result.returncode == 0, result.stdout + result.stderr


def test_daily_health_check_fails_when_the_api_is_down(aws_env, moto_url):
    stack = _stack(moto_url, {"HealthUrl": "http://127.0.0.1:9/v1/health", "HttpApiId": "x"})
    result = _run("daily_health_check.sh", stack, "--no-cost")
    assert "status unknown" in result.stdout
    assert result.returncode == 1


def test_emergency_restart_keeps_variables_clears_the_cache_and_validates_health(
    aws_env, moto_url, server_url
):
    variables = {"AURASTREAM_BACKEND": "aws", "AURASTREAM_KEYS_TABLE": "keys"}
    function = _function(moto_url, variables)
    table = create_table(moto_url, fresh_name("AuraStream-SentimentCache"), ("text_hash",))
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1")
    for i in range(40):
        dynamodb.put_item(TableName=table, Item={"text_hash": {"S": f"h{i}"}})
    stack = _stack(
        moto_url,
        {
            "HealthUrl": f"{server_url}/v1/health",
            "SyncHandlerFunctionName": function,
            "CacheTableName": table,
        },
    )

    result = _run("emergency_restart.sh", stack, CLEAR_BATCH="15", HEALTH_ATTEMPTS="2")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Deleted 40 entries" in result.stdout
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 0
    client = boto3.client("lambda", endpoint_url=moto_url, region_name="us-east-1")
    live = client.get_function_configuration(FunctionName=function, Qualifier="live")
    assert live["Environment"]["Variables"] == {**variables, "AURASTREAM_ENABLED": "true"}
    versions = client.list_versions_by_function(FunctionName=function)["Versions"]
    assert len([v for v in versions if v["Version"] != "$LATEST"]) == 3  # deploy, off, on


def _keys(**env: str) -> list[dict[str, Any]]:
    listed = subprocess.run(
        [str(BIN / "aurastream"), "keys", "list", "--json"],
        env={**os.environ, "AURASTREAM_BACKEND": "aws", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    keys: list[dict[str, Any]] = json.loads(listed.stdout)
    return keys


def test_security_response_revokes_the_key_and_shows_its_usage(aws_env, moto_url, aws_api_key):
    stack = _stack(moto_url, {"KeysTableName": os.environ["AURASTREAM_KEYS_TABLE"]})
    (key,) = _keys()
    assert key["revoked_at"] is None

    # the script finds the keys table from the stack's outputs
    result = _run("security_incident_response.sh", stack, key["prefix"], AURASTREAM_KEYS_TABLE="")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Revoked {key['prefix']} (tenant tenant-a)" in result.stdout
    assert f"of {key['prefix']} in" in result.stdout  # its usage (none yet), after revoking
    assert "Failed API key attempts" in result.stdout
    (after,) = _keys()
    assert after["revoked_at"] is not None


def test_performance_test_fails_on_404s_and_prints_the_body(server_url):
    result = _run(
        "performance_test.sh",
        "",
        API_KEY="aura_test",
        AURASTREAM_BASE_URL=f"{server_url}/no-such-prefix",
        SYNC_REQUESTS="4",
        ASYNC_REQUESTS="2",
        CONCURRENCY="2",
    )
    assert result.returncode == 1
    assert "404 x4" in result.stdout
    assert "404 x2" in result.stdout
    assert "4 of 4 requests did not answer 200" in result.stdout


def test_dr_drill_script_runs_against_its_own_moto():
    result = _run(
        "dr_drill.sh", "", "--json", VENV_BIN=str(BIN), DRILL_ITEMS="30", DRILL_LATE_WRITES="2"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert [t["verified"] for t in report["tables"]] == [30, 30]


def test_performance_test_against_the_local_server_checks_statuses_and_prints_timings(tmp_path):
    from tests.e2e.conftest import Server

    server = Server(tmp_path / "data").start()
    try:
        created = subprocess.run(
            [
                str(BIN / "aurastream"),
                "keys",
                "create",
                "--tenant",
                "perf",
                "--scopes",
                "analyze,jobs",
                "--json",
            ],
            env={**os.environ, "AURASTREAM_DATA_DIR": str(tmp_path / "data")},
            capture_output=True,
            text=True,
            check=True,
        )
        key = json.loads(created.stdout)["key"]
        result = _run(
            "performance_test.sh",
            "",
            API_KEY=key,
            AURASTREAM_BASE_URL=server.url,
            SYNC_REQUESTS="10",
            ASYNC_REQUESTS="3",
            CONCURRENCY="4",
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "200 x10" in result.stdout
    assert "202 x3" in result.stdout
    assert "10 x 200, ms: p50" in result.stdout
    assert "3 x 202, ms: p50" in result.stdout
