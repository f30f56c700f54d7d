"""The S3 blob store and the Step Functions runner over HTTP against moto_server."""

import json
from pathlib import Path

import boto3
import httpx
import pytest

from graphql_api.adapters.aws.clients import AwsClients
from graphql_api.adapters.aws.s3_blobs import S3BlobStore
from graphql_api.adapters.aws.step_functions import StepFunctionsJobRunner
from graphql_api.domain.errors import SourceUnreadable
from graphql_api.settings import Settings

ASL = Path(__file__).resolve().parents[2] / "infra" / "statemachine" / "analyze_job.asl.json"


async def test_objects_round_trip_and_missing_ones_raise(bucket):
    blobs = S3BlobStore(bucket, lambda: boto3.client("s3"))

    await blobs.put("jobs/j1/input.jsonl", b'{"text": "hi"}\n')

    assert await blobs.get("jobs/j1/input.jsonl") == b'{"text": "hi"}\n'
    assert await blobs.exists("jobs/j1/input.jsonl")
    assert not await blobs.exists("jobs/j1/other")
    with pytest.raises(KeyError):
        await blobs.get("jobs/j1/other")


async def test_sources_are_read_from_the_tenants_inbox_only(bucket):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key="inbox/acme/reviews.csv", Body=b"text\ngood\n")
    s3.put_object(Bucket=bucket, Key="inbox/globex/secret.csv", Body=b"text\ntheirs\n")
    s3.put_object(Bucket=bucket, Key="jobs/j1/input.jsonl", Body=b'{"text": "theirs"}\n')
    blobs = S3BlobStore(bucket, lambda: boto3.client("s3"))

    for uri in ("reviews.csv", f"s3://{bucket}/inbox/acme/reviews.csv"):
        await blobs.check_source("acme", uri)
        assert await blobs.read_source("acme", uri) == b"text\ngood\n"
    refused = [
        "missing.csv",
        "../globex/secret.csv",
        f"s3://{bucket}/inbox/globex/secret.csv",
        f"s3://{bucket}/jobs/j1/input.jsonl",
        "s3://other-bucket/inbox/acme/reviews.csv",
        "/etc/passwd",
        "s3://only-bucket",
        "bad\ud800name.csv",
        "x" * 2_000,
    ]
    messages = set()
    for uri in refused:
        for call in (blobs.check_source, blobs.read_source):
            with pytest.raises(SourceUnreadable) as raised:
                await call("acme", uri)
            messages.add(str(raised.value))
    assert messages == {"No readable source with that name in your inbox."}


async def test_the_output_link_is_a_working_presigned_url(bucket):
    clients = AwsClients(Settings())
    blobs = S3BlobStore(bucket, lambda: clients.get("s3"), link_seconds=600)
    await blobs.put("jobs/j1/output.jsonl", b'{"index": 0}\n')

    url = await blobs.link("jobs/j1/output.jsonl")

    assert "X-Amz-Signature" in url
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).content == b'{"index": 0}\n'


async def test_a_job_starts_one_execution_named_by_its_id(aws_env):
    client = boto3.client("stepfunctions")
    definition = (
        ASL.read_text()
        if ASL.exists()
        else json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    )
    machine = client.create_state_machine(
        name="AuraStream-AnalyzeJob-test",
        definition=definition,
        roleArn="arn:aws:iam::123456789012:role/aurastream-jobs",
    )["stateMachineArn"]
    runner = StepFunctionsJobRunner(machine, lambda: client)

    await runner.start("job-123")
    await runner.start("job-123")  # a retried submit starts nothing new

    executions = client.list_executions(stateMachineArn=machine)["executions"]
    assert [e["name"] for e in executions] == ["job-123"]
    described = client.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(described["input"]) == {"jobId": "job-123"}
