"""The scheduled health probe's handler, invoked against the local server (and a dead port),
with Step Functions on moto_server for the jobs-in-flight count."""

from __future__ import annotations

import json
from typing import Any

import boto3

from graphql_api.ops import probe
from tests.aws_fixtures import fresh_name
from tests.e2e.conftest import free_port


def _invoke(
    monkeypatch, capsys, url: str, state_machine_arn: str | None = None
) -> tuple[dict, dict]:
    """The handler as Lambda calls it; its EMF line is what it prints to stdout."""
    monkeypatch.setenv(probe.URL_VARIABLE, url)
    if state_machine_arn:
        monkeypatch.setenv(probe.STATE_MACHINE_VARIABLE, state_machine_arn)
    capsys.readouterr()
    result = probe.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
    (line,) = capsys.readouterr().out.splitlines()
    return result, json.loads(line)


def test_probe_of_the_local_server_passes_and_publishes_zero_failures(
    server_url, monkeypatch, capsys
):
    result, document = _invoke(monkeypatch, capsys, f"{server_url}/v1/health")
    assert result["passed"] is True
    assert result["httpStatus"] == 200
    assert result["status"] in probe.PASSING
    assert document["HealthCheckFailed"] == 0
    assert document["HealthCheckLatency"] == result["latencyMs"] > 0
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "AuraStream"
    assert directive["Dimensions"] == [["service"]]
    assert document["service"] == "aurastream"


def test_probe_of_a_dead_port_fails_and_publishes_one_failure(monkeypatch, capsys):
    result, document = _invoke(monkeypatch, capsys, f"http://127.0.0.1:{free_port()}/v1/health")
    assert result["passed"] is False
    assert result["httpStatus"] is None
    assert result["error"]
    assert document["HealthCheckFailed"] == 1


def test_probe_of_a_wrong_path_fails(server_url, monkeypatch, capsys):
    result, document = _invoke(monkeypatch, capsys, f"{server_url}/v1/no-such-health")
    assert result["passed"] is False
    assert result["httpStatus"] == 404
    assert document["HealthCheckFailed"] == 1


def _state_machine(moto_url: str) -> tuple[Any, str]:
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1")
    role = iam.create_role(
        RoleName=fresh_name("states"),
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    client = boto3.client("stepfunctions", endpoint_url=moto_url, region_name="us-east-1")
    definition = {
        "StartAt": "Wait",
        "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}},
    }
    arn = client.create_state_machine(
        name=fresh_name("AuraStream-AnalyzeJob"), definition=json.dumps(definition), roleArn=role
    )["stateMachineArn"]
    return client, arn


def test_probe_counts_running_job_executions(server_url, aws_env, moto_url, monkeypatch, capsys):
    client, arn = _state_machine(moto_url)
    for _ in range(3):
        client.start_execution(stateMachineArn=arn)
    stopped = client.start_execution(stateMachineArn=arn)["executionArn"]
    client.stop_execution(executionArn=stopped)

    result, document = _invoke(monkeypatch, capsys, f"{server_url}/v1/health", arn)

    assert result["jobsInFlight"] == 3
    assert document["JobsInFlight"] == 3
    names = {m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"HealthCheckFailed", "HealthCheckLatency", "JobsInFlight"}
