"""One contract suite for the JobStore implementations: SQLite and DynamoDB (moto_server)."""

from collections.abc import Iterator

import boto3
import pytest

from graphql_api.adapters.aws.dynamodb_jobs import DynamoDBJobStore
from graphql_api.adapters.local.sqlite_jobs import SqliteJobStore
from graphql_api.domain.errors import IdempotencyConflict
from graphql_api.domain.jobs import Job, JobPosition, JobStatus, JobSummary
from graphql_api.domain.results import Scores
from graphql_api.ports import JobStore


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path) -> Iterator[JobStore]:
    if request.param == "dynamodb":
        table = request.getfixturevalue("jobs_table")
        yield DynamoDBJobStore(table, lambda: boto3.client("dynamodb"))
    else:
        sqlite = SqliteJobStore(tmp_path / "jobs.sqlite3")
        yield sqlite
        sqlite.close()


def new_job(job_id: str, owner: str = "t", created: float = 1_000.0, **fields) -> Job:
    return Job(job_id, owner, JobStatus.QUEUED, created, fingerprint="f1", **fields)


async def test_a_created_job_reads_back_equal(store):
    job = new_job("j1", total=3)

    assert await store.create(job) == job
    assert await store.get("j1") == job
    assert await store.get("missing") is None


async def test_updates_change_only_the_named_fields(store):
    await store.create(new_job("j1"))
    summary = JobSummary({"POSITIVE": 2}, Scores(0.7, 0.1, 0.1, 0.1))

    updated = await store.update("j1", status=JobStatus.SUCCEEDED, summary=summary, parts=2)

    assert updated.status is JobStatus.SUCCEEDED
    assert await store.get("j1") == updated


async def test_parts_are_counted_once(store):
    await store.create(new_job("j1", total=50, parts=2))

    assert await store.complete_part("j1", 0, 25, 1) is True
    assert await store.complete_part("j1", 0, 25, 1) is False
    assert await store.complete_part("j1", 1, 25, 0) is True

    job = await store.get("j1")
    assert job is not None
    assert (job.processed, job.failed) == (50, 1)
    assert await store.completed_parts("j1") == {0, 1}


async def test_status_updates_keep_the_counters(store):
    await store.create(new_job("j1"))
    await store.complete_part("j1", 0, 25, 0)

    job = await store.update("j1", status=JobStatus.RUNNING)

    assert job.processed == 25
    assert (await store.get("j1")).processed == 25


async def test_an_idempotency_key_maps_to_its_first_job(store):
    first = await store.create(new_job("j1", idempotency_key="k"))
    again = await store.create(new_job("j2", idempotency_key="k"))

    assert again == first
    assert await store.get("j2") is None


async def test_an_idempotency_key_with_another_input_conflicts(store):
    await store.create(new_job("j1", idempotency_key="k"))
    other = Job("j2", "t", JobStatus.QUEUED, 1.0, fingerprint="other", idempotency_key="k")

    with pytest.raises(IdempotencyConflict):
        await store.create(other)


async def test_jobs_list_newest_first_per_owner_with_status_filter_and_cursor(store):
    for i in range(5):
        await store.create(new_job(f"a{i}", "alice", created=1_000.0 + i))
    await store.create(new_job("b0", "bob", created=2_000.0))
    await store.update("a3", status=JobStatus.SUCCEEDED)

    page, more = await store.list_jobs("alice", None, 2, None)
    rest, more_after_rest = await store.list_jobs("alice", None, 10, JobPosition.of(page[-1]))
    succeeded, _ = await store.list_jobs("alice", JobStatus.SUCCEEDED, 10, None)

    assert [j.id for j in page] == ["a4", "a3"]
    assert more is True
    assert [j.id for j in rest] == ["a2", "a1", "a0"]
    assert more_after_rest is False
    assert [j.id for j in succeeded] == ["a3"]


@pytest.mark.parametrize("job_id", ["\ud800", "a\x00b", "\udfff\ud800"])
async def test_an_id_no_job_could_have_reads_as_missing(store, job_id):
    assert await store.get(job_id) is None


async def test_jobs_page_from_any_position_with_equal_creation_times(store):
    for i in range(5):
        await store.create(new_job(f"a{i}", "alice", created=1_000.0))

    first, more = await store.list_jobs("alice", None, 2, None)
    second, more_again = await store.list_jobs("alice", None, 2, JobPosition.of(first[-1]))
    last, no_more = await store.list_jobs("alice", None, 2, JobPosition.of(second[-1]))

    assert [j.id for j in first + second + last] == ["a4", "a3", "a2", "a1", "a0"]
    assert (more, more_again, no_more) == (True, True, False)
