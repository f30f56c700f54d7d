"""The Step Functions task handlers, driven as the state machine drives them, against moto_server
(DynamoDB, S3, Step Functions) and the Comprehend fake, all over HTTP."""

import asyncio
import json

import boto3
import httpx
import pytest

from graphql_api.access import ApiKey, Principal, Scope
from graphql_api.access.limits import utc_day
from graphql_api.bootstrap import bootstrap
from graphql_api.domain.errors import AuraStreamError, ErrorCode
from graphql_api.domain.jobs import JobSource, JobStatus
from graphql_api.domain.results import DocumentRequest
from graphql_api.jobs import handlers
from graphql_api.services.jobs import JobRequest
from tests.fakes import tenant
from tests.support import EVENTS, LambdaContext

CONTEXT = LambdaContext(**json.loads((EVENTS / "lambda_context.json").read_text()))


@pytest.fixture
def aws_jobs(monkeypatch, aws_env, cache_table, jobs_table, keys_table, bucket):
    machine = boto3.client("stepfunctions").create_state_machine(
        name=f"AuraStream-AnalyzeJob-{bucket[-8:]}",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/aurastream-jobs",
    )["stateMachineArn"]
    for name, value in {
        "AURASTREAM_BACKEND": "aws",
        "AURASTREAM_CACHE_TABLE": cache_table,
        "AURASTREAM_JOBS_TABLE": jobs_table,
        "AURASTREAM_KEYS_TABLE": keys_table,  # usage is metered as parts finish
        "AURASTREAM_BUCKET": bucket,
        "AURASTREAM_STATE_MACHINE_ARN": machine,
        "AURASTREAM_COMPREHEND_BUDGET_SECONDS": "5",
    }.items():
        monkeypatch.setenv(name, value)
    fresh_container()
    yield machine
    fresh_container()


def fresh_container() -> None:
    """As a new Lambda container would start: nothing built yet."""
    handlers._container.cache_clear()
    handlers._entry.cache_clear()


def submit(documents: list[str]) -> str:
    container = bootstrap()
    request = JobRequest(
        tenant("tenant-a"),
        documents=[DocumentRequest(t, "en", f"d{i}") for i, t in enumerate(documents)],
    )
    job = asyncio.run(container.jobs.submit(request))
    return job.id


def test_a_job_runs_through_prepare_the_parts_and_finalize(aws_jobs, bucket):
    texts = [f"review {i} was {'good' if i % 2 else 'awful'}" for i in range(60)]
    job_id = submit(texts)

    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=aws_jobs)
    assert [e["name"] for e in executions["executions"]] == [job_id]

    prepared = handlers.prepare({"jobId": job_id}, CONTEXT)
    assert [p["partIndex"] for p in prepared["parts"]] == [0, 1, 2]
    part_results = [handlers.process_part(p, CONTEXT) for p in prepared["parts"]]
    assert sum(r["processed"] for r in part_results) == 60
    outcome = handlers.finalize({"jobId": job_id, "partResults": part_results}, CONTEXT)

    assert outcome == {"jobId": job_id, "status": "SUCCEEDED", "processed": 60, "failed": 0}
    job = asyncio.run(handlers._container().jobs.get(job_id, "tenant-a"))
    link = asyncio.run(handlers._container().jobs.output_link(job))
    lines = httpx.get(link).text.splitlines()
    assert len(lines) == 60
    assert json.loads(lines[1])["sentiment"] == "POSITIVE"


def test_a_retried_part_is_counted_once(aws_jobs):
    job_id = submit(["good"] * 30)
    prepared = handlers.prepare({"jobId": job_id}, CONTEXT)
    handlers.prepare({"jobId": job_id}, CONTEXT)  # a retried Prepare changes nothing

    first = handlers.process_part(prepared["parts"][0], CONTEXT)
    again = handlers.process_part(prepared["parts"][0], CONTEXT)
    handlers.process_part(prepared["parts"][1], CONTEXT)
    handlers.finalize({"jobId": job_id, "partResults": []}, CONTEXT)

    assert first == again
    job = asyncio.run(handlers._container().jobs.get(job_id, "tenant-a"))
    assert (job.status, job.processed, job.failed) == (JobStatus.SUCCEEDED, 30, 0)


def test_a_part_caught_by_the_state_machine_ends_the_job_partial(aws_jobs):
    job_id = submit(["good"] * 30)
    prepared = handlers.prepare({"jobId": job_id}, CONTEXT)
    handlers.process_part(prepared["parts"][0], CONTEXT)
    caught = {"partIndex": 1, "failed": True, "error": {"Error": "Lambda.Unknown"}}

    outcome = handlers.finalize({"jobId": job_id, "partResults": [caught]}, CONTEXT)

    assert outcome["status"] == "PARTIAL"
    assert (outcome["processed"], outcome["failed"]) == (30, 5)


def test_a_job_whose_prepare_failed_is_marked_failed_with_the_cause(aws_jobs):
    job_id = submit(["good"])
    error = {"Error": "States.TaskFailed", "Cause": json.dumps({"errorMessage": "source vanished"})}

    outcome = handlers.finalize({"jobId": job_id, "failed": True, "error": error}, CONTEXT)

    assert outcome["status"] == "FAILED"
    job = asyncio.run(handlers._container().jobs.get(job_id, "tenant-a"))
    assert job.error == "States.TaskFailed: source vanished"


def _usage_of(key: ApiKey) -> int:
    async def read() -> int:
        access = bootstrap().access
        today = utc_day(access.clock.now())
        days = await access.key_usage(key.key_id, today, today)
        return sum(d.documents for d in days)

    return asyncio.run(read())


def test_a_job_is_metered_per_part_as_it_finishes(aws_jobs):
    container = bootstrap()
    key = asyncio.run(container.access.create_key("tenant-a", {Scope.JOBS})).record
    request = JobRequest(Principal.of(key), documents=[DocumentRequest("good", "en")] * 30)
    job_id = asyncio.run(container.jobs.submit(request)).id
    prepared = handlers.prepare({"jobId": job_id}, CONTEXT)

    handlers.process_part(prepared["parts"][0], CONTEXT)
    after_first = _usage_of(key)
    handlers.process_part(prepared["parts"][0], CONTEXT)  # a retried part
    after_retry = _usage_of(key)
    handlers.process_part(prepared["parts"][1], CONTEXT)

    assert (after_first, after_retry, _usage_of(key)) == (25, 25, 30)


def test_another_tenants_job_and_its_input_stay_theirs(aws_jobs, bucket):
    theirs = submit(["acme's private review"])
    container = bootstrap()
    globex = Principal("globex", None, frozenset(Scope), None)
    boto3.client("s3").put_object(
        Bucket=bucket, Key="inbox/globex/mine.jsonl", Body=b'{"text": "good"}\n'
    )

    for uri in (
        f"s3://{bucket}/jobs/{theirs}/input.jsonl",
        f"s3://{bucket}/inbox/tenant-a/anything.jsonl",
        f"jobs/{theirs}/input.jsonl",
        f"../../jobs/{theirs}/input.jsonl",
    ):
        with pytest.raises(AuraStreamError) as raised:
            asyncio.run(container.jobs.submit(JobRequest(globex, source=JobSource(uri))))
        assert raised.value.code == ErrorCode.SOURCE_UNREADABLE
    with pytest.raises(AuraStreamError) as hidden:
        asyncio.run(container.jobs.get(theirs, "globex"))
    assert hidden.value.code == ErrorCode.NOT_FOUND
    mine = asyncio.run(container.jobs.submit(JobRequest(globex, source=JobSource("mine.jsonl"))))
    assert mine.owner == "globex"
