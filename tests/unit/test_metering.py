"""One metering service for every way documents are analysed: the daily quota is checked once
a request is known to be valid, and usage is counted per tenant and per key, for analyze,
analyzeDocument and jobs (inline, or from a source in the tenant's inbox)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graphql_api.access import Limits, Principal, RateLimited, Scope
from graphql_api.access.limits import utc_day
from graphql_api.bootstrap import Container, bootstrap
from graphql_api.domain.errors import AuraStreamError, ErrorCode
from graphql_api.domain.jobs import JobSource, JobStatus, SourceFormat
from graphql_api.domain.results import DocumentRequest
from graphql_api.services.jobs import JobRequest, input_key
from graphql_api.settings import Settings
from tests.api.conftest import make_transport
from tests.fakes import RecordingCache, RecordingEngine, tenant
from tests.support import post_graphql, run


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    container = bootstrap(
        settings.model_copy(update={"auth": "required"}),
        engine=RecordingEngine(),
        cache=RecordingCache(),
    )
    yield container
    container.close()


async def principal(container: Container, quota: int = 1_000, name: str = "acme") -> Principal:
    limits = Limits(rate_per_second=1_000, burst=1_000, daily_document_quota=quota)
    created = await container.access.create_key(name, set(Scope), limits=limits)
    return Principal.of(created.record)


def docs(count: int) -> list[DocumentRequest]:
    return [DocumentRequest(f"review {i} is good", "en", f"d{i}") for i in range(count)]


async def run_to_end(container: Container, request: JobRequest):
    job = await container.jobs.submit(request)
    await container.jobs.runner.wait(job.id)  # type: ignore[attr-defined]
    return await container.jobs.get(job.id, request.principal.tenant_id)


async def documents_counted(container: Container, who: Principal) -> tuple[int, int]:
    """(the tenant's documents today, the key's documents today)."""
    today = utc_day(container.access.clock.now())
    assert who.key_id is not None
    by_tenant = await container.access.usage(who, today, today)
    by_key = await container.access.usage(who, today, today, who.key_id)
    return sum(d.documents for d in by_tenant), sum(d.documents for d in by_key)


async def quota_left(container: Container, who: Principal) -> int:
    """Documents the key may still send today (found by asking for them, then nothing)."""
    used = await container.metering.admit(who, 0)
    assert who.limits is not None
    return who.limits.daily_document_quota - used


async def test_analyze_and_analyze_document_are_metered_per_tenant_and_key(container):
    who = await principal(container)

    # The use case every entry point calls: analyze sends its list, analyzeDocument its
    # DataLoader's batch.
    await container.documents.analyze(who, docs(3))
    await container.documents.analyze(who, docs(2), pipeline=container.analysis.analyze)

    assert await documents_counted(container, who) == (5, 5)
    assert await quota_left(container, who) == 995


async def test_an_inline_job_is_metered_as_its_parts_finish(container):
    who = await principal(container)

    job = await run_to_end(container, JobRequest(who, documents=docs(60)))

    assert job.status is JobStatus.SUCCEEDED
    assert await documents_counted(container, who) == (60, 60)
    assert await quota_left(container, who) == 940


async def test_a_job_refused_for_its_size_consumes_no_quota(container):
    who = await principal(container, quota=20_000)

    with pytest.raises(AuraStreamError) as raised:
        await container.jobs.submit(JobRequest(who, documents=docs(10_001)))

    assert raised.value.code == ErrorCode.TOO_MANY_DOCUMENTS
    assert await quota_left(container, who) == 20_000


async def test_a_job_over_the_quota_is_refused_before_anything_is_stored(container):
    who = await principal(container, quota=2)

    with pytest.raises(RateLimited):
        await container.jobs.submit(JobRequest(who, documents=docs(3)))

    found, _ = await container.jobs.list_jobs("acme", None, 10, None)
    assert found == []
    assert not (container.settings.blobs_dir / "jobs").exists()
    assert await quota_left(container, who) == 2


async def test_a_replayed_idempotency_key_counts_and_writes_nothing(container):
    who = await principal(container)
    request = JobRequest(who, documents=docs(3), idempotency_key="nightly-1")
    first = await run_to_end(container, request)
    inputs = sorted((container.settings.blobs_dir / "jobs").glob("*/input.jsonl"))

    again = await container.jobs.submit(request)

    assert again.id == first.id
    assert sorted((container.settings.blobs_dir / "jobs").glob("*/input.jsonl")) == inputs
    assert await quota_left(container, who) == 997
    assert await documents_counted(container, who) == (3, 3)


def _inbox(container: Container, tenant_id: str) -> Path:
    inbox = container.settings.inbox_dir / tenant_id
    inbox.mkdir(parents=True, exist_ok=True)
    return inbox


async def test_a_source_job_counts_its_documents_when_it_reads_them(container):
    who = await principal(container, quota=10)
    (_inbox(container, "acme") / "reviews.txt").write_text("good one\ngood two\ngood three\n")
    source = JobSource("reviews.txt", SourceFormat.TEXT)

    job = await run_to_end(container, JobRequest(who, source=source))
    (_inbox(container, "acme") / "big.txt").write_text("good\n" * 8)
    over = await run_to_end(
        container, JobRequest(who, source=JobSource("big.txt", SourceFormat.TEXT))
    )

    assert job.status is JobStatus.SUCCEEDED
    assert await documents_counted(container, who) == (3, 3)
    assert over.status is JobStatus.FAILED
    assert over.error is not None
    assert over.error.startswith("RATE_LIMITED")
    assert await quota_left(container, who) == 7


async def test_another_tenants_job_files_can_never_be_a_source(container):
    acme, globex = (
        await principal(container, name="acme"),
        await principal(container, name="globex"),
    )
    theirs = await run_to_end(container, JobRequest(acme, documents=docs(3)))
    (_inbox(container, "acme") / "private.jsonl").write_text('{"text": "acme only"}\n')
    data_dir = container.settings.data_dir.resolve()
    attempts = [
        input_key(theirs.id),
        f"objects/{input_key(theirs.id)}",
        f"../../objects/{input_key(theirs.id)}",
        str(container.settings.blobs_dir.resolve() / input_key(theirs.id)),
        f"file://{container.settings.blobs_dir.resolve() / input_key(theirs.id)}",
        "../acme/private.jsonl",
        str(container.settings.inbox_dir.resolve() / "acme" / "private.jsonl"),
        "jobs.sqlite3",
        "../../jobs.sqlite3",
        "missing.jsonl",
    ]

    messages = set()
    for uri in attempts:
        with pytest.raises(AuraStreamError) as raised:
            await container.jobs.submit(JobRequest(globex, source=JobSource(uri)))
        assert raised.value.code == ErrorCode.SOURCE_UNREADABLE
        messages.add(str(raised.value))

    assert len(messages) == 1  # a file elsewhere reads exactly like a missing one
    assert str(data_dir) not in messages.pop()


def test_graphql_fields_are_metered_and_the_open_server_has_no_quota(settings):
    container = bootstrap(settings, engine=RecordingEngine(), cache=RecordingCache())
    try:
        client = make_transport("asgi", container)
        document = '{ a: analyzeDocument(document: {text: "good"}) { sentiment } '
        reply = post_graphql(
            client, document + 'b: analyzeDocument(document: {text: "bad"}) { sentiment } }'
        )
        post_graphql(
            client, 'mutation { analyze(input: {documents: [{text: "good"}]}) { results { id } } }'
        )
        today = utc_day(container.access.clock.now())
        usage = run(container.access.usage(tenant("local"), today, today))
    finally:
        container.close()

    assert reply.json()["data"]["a"]["sentiment"] == "POSITIVE"
    assert [(d.day, d.documents) for d in usage] == [(today, 3)]
