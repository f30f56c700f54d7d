"""The job pipeline end to end on the embedded adapters (SQLite, files, in-process runner)."""

import asyncio

import pytest

from graphql_api.bootstrap import Container, bootstrap
from graphql_api.domain.errors import AuraStreamError, ErrorCode, IdempotencyConflict
from graphql_api.domain.jobs import JobPosition, JobSource, JobStatus, SourceFormat
from graphql_api.domain.results import DocumentRequest
from graphql_api.jobs import handlers
from graphql_api.services.jobs import JobRequest
from tests.fakes import RecordingCache, RecordingEngine, tenant
from tests.support import LambdaContext


@pytest.fixture
def container(settings):
    container = bootstrap(settings, engine=RecordingEngine(), cache=RecordingCache())
    yield container
    container.close()


def docs(count: int, prefix: str = "doc") -> list[DocumentRequest]:
    return [DocumentRequest(f"{prefix} {i} is good", "en", f"{prefix}-{i}") for i in range(count)]


async def run_to_end(container: Container, request: JobRequest):
    job = await container.jobs.submit(request)
    await container.jobs.runner.wait(job.id)  # type: ignore[attr-defined]
    return await container.jobs.get(job.id, request.principal.tenant_id)


async def all_results(container: Container, job):
    results, offset = [], 0
    while True:
        page, more = await container.jobs.results(job, offset, 100)
        results += page
        offset += len(page)
        if not more:
            return results


async def test_a_thousand_documents_succeed_with_every_result_once(container):
    job = await run_to_end(container, JobRequest(tenant("tenant-a"), documents=docs(1_000)))

    assert job.status is JobStatus.SUCCEEDED
    assert (job.total, job.processed, job.failed, job.parts) == (1_000, 1_000, 0, 40)
    assert job.summary is not None
    assert job.summary.counts["POSITIVE"] == 1_000
    results = await all_results(container, job)
    assert [r.index for r in results] == list(range(1_000))
    assert results[999].id == "doc-999"
    assert job.output_key is not None
    output = await container.jobs.blobs.get(job.output_key)
    assert len(output.splitlines()) == 1_000
    assert b"is good" not in output  # results only, never the text


async def test_the_same_idempotency_key_and_input_return_the_same_job(container):
    first = await run_to_end(
        container, JobRequest(tenant("t"), documents=docs(3), idempotency_key="k1")
    )
    again = await container.jobs.submit(
        JobRequest(tenant("t"), documents=docs(3), idempotency_key="k1")
    )

    assert again.id == first.id
    assert container.metrics.counters["JobsSubmitted"] == 1


async def test_the_same_idempotency_key_with_other_input_is_refused(container):
    await container.jobs.submit(JobRequest(tenant("t"), documents=docs(3), idempotency_key="k2"))

    with pytest.raises(IdempotencyConflict):
        await container.jobs.submit(
            JobRequest(tenant("t"), documents=docs(4), idempotency_key="k2")
        )


async def test_idempotency_keys_belong_to_their_tenant(container):
    mine = await container.jobs.submit(
        JobRequest(tenant("a"), documents=docs(1), idempotency_key="k")
    )
    theirs = await container.jobs.submit(
        JobRequest(tenant("b"), documents=docs(2), idempotency_key="k")
    )

    assert mine.id != theirs.id


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (JobRequest(tenant("t"), documents=[]), ErrorCode.NO_DOCUMENTS),
        (JobRequest(tenant("t"), documents=docs(10_001)), ErrorCode.TOO_MANY_DOCUMENTS),
        (JobRequest(tenant("t")), ErrorCode.BAD_USER_INPUT),
        (JobRequest(tenant("t"), source=JobSource("missing.jsonl")), ErrorCode.SOURCE_UNREADABLE),
        (
            JobRequest(tenant("t"), source=JobSource("../../etc/passwd")),
            ErrorCode.SOURCE_UNREADABLE,
        ),
    ],
    ids=["empty", "too-many", "neither", "missing-object", "outside-the-inbox"],
)
async def test_bad_submissions_are_refused_with_a_code(container, request_, code):
    with pytest.raises(AuraStreamError) as raised:
        await container.jobs.submit(request_)
    assert raised.value.code == code


async def test_a_csv_source_with_a_malformed_line_ends_partial(container, settings):
    (settings.inbox_dir / "t").mkdir(parents=True)
    (settings.inbox_dir / "t" / "reviews.csv").write_text(
        'id,review\n1,"good film"\n2,"unterminated\n3,bad film\n'
    )
    source = JobSource("reviews.csv", SourceFormat.CSV, text_column="review")

    job = await run_to_end(container, JobRequest(tenant("t"), source=source))

    assert job.status is JobStatus.PARTIAL
    results = await all_results(container, job)
    assert results[0].analysis is not None
    assert any(r.failure and r.failure.code == ErrorCode.MALFORMED_RECORD for r in results)


async def test_long_documents_are_split_and_recombined(container):
    long_text = "This part is good. " * 600  # ~11,400 bytes: three pieces
    job = await run_to_end(
        container, JobRequest(tenant("t"), documents=[DocumentRequest(long_text, "en")])
    )

    (result,) = await all_results(container, job)
    assert result.parts == 3
    assert result.analysis is not None
    engine: RecordingEngine = container.engine  # type: ignore[assignment]
    assert all(len(text.encode()) <= 5_000 for text in engine.analyzed_texts)


async def test_a_failing_part_is_recorded_as_failed_documents(container, monkeypatch):
    original = container.jobs.process_part

    async def fail_part_one(job_id: str, part: int):
        if part == 1:
            raise RuntimeError("worker crashed")
        return await original(job_id, part)

    monkeypatch.setattr(container.jobs, "process_part", fail_part_one)
    job = await run_to_end(container, JobRequest(tenant("t"), documents=docs(60)))

    assert job.status is JobStatus.PARTIAL
    assert (job.processed, job.failed) == (60, 25)
    results = await all_results(container, job)
    assert {r.failure.code for r in results if r.failure} == {ErrorCode.PART_FAILED}


async def test_a_job_stopped_midway_resumes_without_losing_or_repeating(settings):
    first = bootstrap(settings, engine=RecordingEngine(), cache=RecordingCache())
    job = await first.jobs.submit(JobRequest(tenant("t"), documents=docs(100)))
    await first.jobs.runner.stop()  # type: ignore[attr-defined]
    await first.jobs.prepare(job.id)
    await first.jobs.process_part(job.id, 0)
    await first.jobs.process_part(job.id, 2)
    first.close()

    second = bootstrap(settings, engine=RecordingEngine(), cache=RecordingCache())
    assert await second.jobs.resume_unfinished() == [job.id]
    await second.jobs.runner.wait(job.id)  # type: ignore[attr-defined]
    done = await second.jobs.get(job.id, "t")

    assert done.status is JobStatus.SUCCEEDED
    assert (done.processed, done.failed) == (100, 0)
    results = await all_results(second, done)
    assert [r.id for r in results] == [f"doc-{i}" for i in range(100)]
    engine: RecordingEngine = second.engine  # type: ignore[assignment]
    assert len(engine.analyzed_texts) == 50  # only parts 1 and 3 ran again
    second.close()


async def test_jobs_are_listed_newest_first_per_tenant(container):
    for i in range(3):
        await container.jobs.submit(JobRequest(tenant("a"), documents=docs(1, f"a{i}")))
    await container.jobs.submit(JobRequest(tenant("b"), documents=docs(1)))

    page, _ = await container.jobs.list_jobs("a", None, 2, None)
    rest, more = await container.jobs.list_jobs("a", None, 2, JobPosition.of(page[-1]))

    assert len(page) == 2
    assert len(rest) == 1
    assert more is False
    created = [j.created_at for j in page + rest]
    assert created == sorted(created, reverse=True)


async def test_a_job_whose_preparation_raises_anything_ends_failed_with_a_code(
    container, monkeypatch
):
    async def broken(key: str) -> bytes:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(container.jobs.blobs, "get", broken)

    job = await run_to_end(container, JobRequest(tenant("t"), documents=docs(2)))

    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.startswith("INTERNAL_SERVER_ERROR")
    assert "fire" not in job.error


async def test_invalid_text_fails_its_document_alone_and_the_job_ends(container):
    documents = [
        DocumentRequest("\ud800 lone", "en", "a"),
        DocumentRequest("nul\x00", "en", "b"),
        DocumentRequest("fine and good", "en", "c"),
        DocumentRequest("fine", "en", "\udfff"),
    ]

    job = await run_to_end(container, JobRequest(tenant("t"), documents=documents))
    results = await all_results(container, job)

    assert job.status is JobStatus.PARTIAL
    assert [r.failure.code if r.failure else None for r in results] == [
        "INVALID_TEXT",
        "INVALID_TEXT",
        None,
        "INVALID_TEXT",
    ]


async def test_a_jsonl_line_nested_100000_deep_is_a_malformed_record(container, settings):
    (settings.inbox_dir / "t").mkdir(parents=True)
    deep = b"[" * 100_000 + b"]" * 100_000
    (settings.inbox_dir / "t" / "deep.jsonl").write_bytes(
        b'{"text": "fine and good"}\n{"text": ' + deep + b"}\n" + deep + b"\n"
    )

    job = await run_to_end(container, JobRequest(tenant("t"), source=JobSource("deep.jsonl")))
    results = await all_results(container, job)

    assert job.status is JobStatus.PARTIAL
    assert [r.failure.code if r.failure else None for r in results] == [
        None,
        "MALFORMED_RECORD",
        "MALFORMED_RECORD",
    ]


async def test_the_step_functions_prepare_task_ends_a_job_it_cannot_prepare(container, monkeypatch):
    monkeypatch.setattr(handlers, "_container", lambda: container)
    monkeypatch.setattr(handlers, "_run", asyncio.run)  # the task's own loop, in its thread
    job = await container.jobs.submit(JobRequest(tenant("t"), documents=docs(1)))
    await container.jobs.runner.stop()  # type: ignore[attr-defined]

    async def broken(key: str) -> bytes:
        raise ValueError("no")

    monkeypatch.setattr(container.jobs.blobs, "get", broken)
    context = LambdaContext("f", "1", "arn", 128, "r", "g", "s")

    answer = await asyncio.to_thread(handlers.prepare, {"jobId": job.id}, context)

    assert answer == {"jobId": job.id, "parts": []}
    ended = await container.jobs.get(job.id, "t")
    assert ended.status is JobStatus.FAILED
    assert ended.error is not None
    assert ended.error.startswith("INTERNAL_SERVER_ERROR")
