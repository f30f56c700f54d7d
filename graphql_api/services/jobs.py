"""Batch jobs: submit, then prepare → process each part → finalize.

The same three steps run as Step Functions tasks on AWS and in-process locally. Each is
idempotent, so a retried task or a resumed job never loses or duplicates a document.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from graphql_api.access import Metering, Principal, Usage
from graphql_api.access.usage import metered
from graphql_api.domain.codec import decode_job_result, encode_job_result
from graphql_api.domain.errors import AuraStreamError, ErrorCode, IdempotencyConflict, NotFound
from graphql_api.domain.job_input import parse_documents
from graphql_api.domain.jobs import (
    MAX_DOCUMENTS_PER_JOB,
    PART_SIZE,
    Job,
    JobDocument,
    JobPosition,
    JobResult,
    JobSource,
    JobStatus,
    combine,
    part_count,
    split_text,
    summarise,
)
from graphql_api.domain.results import DocumentFailure, DocumentRequest, DocumentResult
from graphql_api.domain.text import is_clean
from graphql_api.metric_names import Metric
from graphql_api.observability import subsegment
from graphql_api.ports import BlobStore, Clock, JobRunner, JobStore, Metrics
from graphql_api.services.analysis import AnalysisService

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobRequest:
    principal: Principal
    documents: Sequence[DocumentRequest] | None = None
    source: JobSource | None = None
    idempotency_key: str | None = None
    language: str | None = None


def input_key(job_id: str) -> str:
    return f"jobs/{job_id}/input.jsonl"


def part_key(job_id: str, part: int) -> str:
    return f"jobs/{job_id}/parts/{part:05d}.jsonl"


def results_key(job_id: str, part: int) -> str:
    return f"jobs/{job_id}/results/{part:05d}.jsonl"


def output_key(job_id: str) -> str:
    return f"jobs/{job_id}/output.jsonl"


class JobService:
    def __init__(
        self,
        store: JobStore,
        blobs: BlobStore,
        runner: JobRunner,
        analysis: AnalysisService,
        metering: Metering,
        clock: Clock,
        metrics: Metrics,
        max_text_bytes: int = 5_000,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.runner = runner
        self.analysis = analysis
        self.metering = metering
        self.clock = clock
        self.metrics = metrics
        self.max_text_bytes = max_text_bytes

    # --- the API side ----------------------------------------------------------------

    async def submit(self, request: JobRequest) -> Job:
        """Validate the input, count it against the quota, claim the idempotency key, store
        the input and start the job, in that order: a refused request consumes nothing, and
        a replayed key counts and writes nothing."""
        principal = request.principal
        inline, body = await self._input(request)
        job = Job(
            id=str(uuid.uuid4()),
            owner=principal.tenant_id,
            status=JobStatus.QUEUED,
            created_at=self.clock.now(),
            fingerprint=hashlib.sha256(body).hexdigest(),
            source=request.source or JobSource(),
            language=request.language,
            idempotency_key=request.idempotency_key,
            total=len(request.documents or ()),
            key_id=principal.key_id,
            daily_quota=principal.limits.daily_document_quota if principal.limits else None,
        )
        replayed = await self._replay(job)
        if replayed is None:
            # Source jobs are counted when their documents are read (`prepare`).
            await self.metering.admit(principal, job.total)
            with subsegment("jobs.store.create"):
                stored = await self.store.create(job)
            if stored.id == job.id:
                self.metrics.increment(Metric.JOBS_SUBMITTED)
                if inline:
                    await self.blobs.put(input_key(job.id), body)
        else:
            stored = replayed
        # Started even for a replayed key: the runner ignores a job it already started,
        # and this way a submit that crashed right after storing still gets its job run.
        with subsegment("jobs.runner.start"):
            await self.runner.start(stored.id)
        return stored

    async def _replay(self, job: Job) -> Job | None:
        """The job an earlier submit with the same idempotency key created, if any."""
        if job.idempotency_key is None:
            return None
        earlier = await self.store.find_idempotent(job.owner, job.idempotency_key)
        if earlier is not None and earlier.fingerprint != job.fingerprint:
            raise IdempotencyConflict()
        return earlier

    async def _input(self, request: JobRequest) -> tuple[bool, bytes]:
        _checked_name("idempotencyKey", request.idempotency_key)
        if request.source is not None:
            _checked_name("textColumn", request.source.text_column)
            _checked_name("idColumn", request.source.id_column)
        if (request.documents is None) == (request.source is None or request.source.uri is None):
            raise AuraStreamError("Give either documents or a source, not both or neither.")
        if request.documents is not None:
            documents = request.documents
            if not documents:
                raise AuraStreamError("The job has no documents.", code=ErrorCode.NO_DOCUMENTS)
            if len(documents) > MAX_DOCUMENTS_PER_JOB:
                raise AuraStreamError(
                    f"{len(documents)} documents; a job takes at most {MAX_DOCUMENTS_PER_JOB}.",
                    code=ErrorCode.TOO_MANY_DOCUMENTS,
                )
            lines = [
                json.dumps({"text": d.text, "id": d.id, "languageCode": d.language})
                for d in documents
            ]
            return True, ("\n".join(lines) + "\n").encode()
        source = request.source
        assert source is not None
        assert source.uri is not None
        await self.blobs.check_source(request.principal.tenant_id, source.uri)
        reference = [source.uri, source.format, source.text_column, source.id_column]
        return False, json.dumps([*reference, request.language]).encode()

    async def get(self, job_id: str, owner: str) -> Job:
        with subsegment("jobs.store.get"):
            job = await self.store.get(job_id)
        if job is None or job.owner != owner:
            # Another tenant's job is reported exactly like a missing one.
            raise NotFound(f"No job {job_id}.")
        return job

    async def list_jobs(
        self, owner: str, status: JobStatus | None, limit: int, after: JobPosition | None
    ) -> tuple[list[Job], bool]:
        return await self.store.list_jobs(owner, status, limit, after)

    async def results(self, job: Job, offset: int, limit: int) -> tuple[list[JobResult], bool]:
        """Results of documents [offset, offset+limit) read from the finished parts."""
        found: list[JobResult] = []
        part = offset // PART_SIZE
        while len(found) < limit and part < job.parts:
            key = results_key(job.id, part)
            if not await self.blobs.exists(key):
                break  # not processed yet: the page ends at the first unfinished part
            for line in (await self.blobs.get(key)).decode().splitlines():
                result = decode_job_result(line)
                if result.index >= offset and len(found) < limit:
                    found.append(result)
            part += 1
        last = offset + len(found)
        return found, last < job.total

    async def output_link(self, job: Job) -> str | None:
        return await self.blobs.link(job.output_key) if job.output_key else None

    # --- the worker side: one method per state of the state machine --------------------

    async def prepare(self, job_id: str) -> list[int]:
        """Read the input, write it as parts of 25 documents, and return the part numbers."""
        job = await self._job(job_id)
        if job.parts and job.status is not JobStatus.QUEUED:
            return list(range(job.parts))  # prepared before (a retry or a resume)
        data = await self._read_input(job)
        documents = parse_documents(data, job.source)
        if not documents:
            raise AuraStreamError("The source has no documents.", code=ErrorCode.NO_DOCUMENTS)
        if len(documents) > MAX_DOCUMENTS_PER_JOB:
            raise AuraStreamError(
                f"The source has {len(documents)} documents; at most {MAX_DOCUMENTS_PER_JOB}.",
                code=ErrorCode.TOO_MANY_DOCUMENTS,
            )
        if job.source.uri is not None:
            # A source's size is known only now: it counts against the submitter's quota here.
            await self.metering.admit_key(job.key_id, job.daily_quota, len(documents))
        parts = part_count(len(documents))
        for part in range(parts):
            chunk = documents[part * PART_SIZE : (part + 1) * PART_SIZE]
            await self.blobs.put(part_key(job_id, part), _encode_documents(chunk))
        await self.store.update(
            job_id,
            status=JobStatus.RUNNING,
            total=len(documents),
            parts=parts,
            started_at=job.started_at or self.clock.now(),
        )
        return list(range(parts))

    async def _read_input(self, job: Job) -> bytes:
        if job.source.uri is None:
            return await self.blobs.get(input_key(job.id))
        return await self.blobs.read_source(job.owner, job.source.uri)

    async def process_part(self, job_id: str, part: int) -> tuple[int, int]:
        """Analyse one part through the batched pipeline; returns (processed, failed)."""
        job = await self._job(job_id)
        key = results_key(job_id, part)
        usage: Usage | None = None
        if await self.blobs.exists(key):
            results = _decode_results(await self.blobs.get(key))
        else:
            documents = _decode_documents(await self.blobs.get(part_key(job_id, part)))
            results, usage = await self._analyse(documents, job.language)
            await self.blobs.put(key, _encode_results(results))
        failed = sum(1 for r in results if not r.ok)
        # Counted once per part, however often the part runs; metered as each part finishes.
        if await self.store.complete_part(job_id, part, len(results), failed):
            # A part resumed after its results were written, but before it was counted, is
            # counted without Comprehend units: only its analysis knew the texts' lengths.
            ok = [r for r in results if r.ok]
            usage = usage or Usage(len(ok), sum(1 for r in ok if r.cached))
            await self.metering.record(job.owner, job.key_id, usage)
        return len(results), failed

    async def _analyse(
        self, documents: list[JobDocument], language: str | None
    ) -> tuple[list[JobResult], Usage]:
        """Long documents are split into engine-sized pieces and their results recombined."""
        requests: list[DocumentRequest] = []
        spans: list[tuple[JobDocument, int, int]] = []
        for document in documents:
            if document.failure is not None:
                spans.append((document, 0, 0))
                continue
            pieces = split_text(document.text, self.max_text_bytes)
            start = len(requests)
            language_code = document.language or language
            requests.extend(DocumentRequest(piece, language_code) for piece in pieces)
            spans.append((document, start, len(pieces)))
        outcomes = await self.analysis.analyze(requests)
        results = []
        for document, start, count in spans:
            if document.failure is not None:
                results.append(JobResult(document.index, document.id, failure=document.failure))
                continue
            answers = outcomes[start : start + count]
            failure = next((a.failure for a in answers if a.failure is not None), None)
            if count == 1:
                text_hash = answers[0].text_hash
            else:
                text_hash = hashlib.sha256(document.text.encode()).hexdigest()
            if failure is not None:
                results.append(JobResult(document.index, document.id, text_hash, failure=failure))
                continue
            analyses = [a.analysis for a in answers if a.analysis is not None]
            weights = [len(requests[start + i].text) for i in range(count)]
            analysis = analyses[0] if count == 1 else combine(analyses, weights)
            cached = all(a.cached for a in answers)
            results.append(
                JobResult(document.index, document.id, text_hash, analysis, None, cached, count)
            )
        return results, _usage(results, outcomes)

    async def finalize(self, job_id: str, error: str | None = None) -> Job:
        """Gather every part's results into the output, and complete the job record.

        A part with no results (its task failed for good) has its documents recorded as
        failed, so nothing is dropped silently and the job ends PARTIAL.
        """
        job = await self._job(job_id)
        if job.status.finished:
            return job
        if error is not None and not job.parts:
            return await self._complete(job, JobStatus.FAILED, [], error)
        results: list[JobResult] = []
        for part in range(job.parts):
            key = results_key(job_id, part)
            if await self.blobs.exists(key):
                results.extend(_decode_results(await self.blobs.get(key)))
            else:
                results.extend(await self._failed_part(job_id, part))
        await self.blobs.put(output_key(job_id), _encode_results(results))
        failed = sum(1 for r in results if not r.ok)
        status = (
            JobStatus.SUCCEEDED
            if failed == 0
            else JobStatus.FAILED
            if failed == len(results)
            else JobStatus.PARTIAL
        )
        return await self._complete(job, status, results, error)

    async def _failed_part(self, job_id: str, part: int) -> list[JobResult]:
        documents = _decode_documents(await self.blobs.get(part_key(job_id, part)))
        failure = DocumentFailure(
            ErrorCode.PART_FAILED, "This document's part failed after retries."
        )
        results = [JobResult(d.index, d.id, failure=failure) for d in documents]
        await self.blobs.put(results_key(job_id, part), _encode_results(results))
        await self.store.complete_part(job_id, part, len(results), len(results))
        return results

    async def _complete(
        self, job: Job, status: JobStatus, results: list[JobResult], error: str | None
    ) -> Job:
        now = self.clock.now()
        done = await self.store.update(
            job.id,
            status=status,
            completed_at=now,
            started_at=job.started_at or now,
            summary=summarise(results),
            error=error,
            output_key=output_key(job.id) if results else None,
        )
        self.metrics.increment(
            Metric.JOBS_SUCCEEDED if status is JobStatus.SUCCEEDED else Metric.JOBS_FAILED
        )
        if done.duration_seconds is not None:
            self.metrics.observe_ms(Metric.JOB_DURATION, done.duration_seconds * 1_000)
        return done

    async def resume_unfinished(self) -> list[str]:
        """Start again every job a stopped process left unfinished (local runner only)."""
        job_ids = await self.store.unfinished()
        for job_id in job_ids:
            await self.runner.start(job_id)
        return job_ids

    async def prepare_or_fail(self, job_id: str) -> list[int]:
        """prepare(); a job whose input cannot be prepared, for any reason, ends FAILED with
        a code instead of staying QUEUED with nothing working on it."""
        try:
            return await self.prepare(job_id)
        except NotFound:
            raise  # no job to end
        except AuraStreamError as error:
            reason = f"{error.code}: {error}"
        except Exception:
            logger.exception("job preparation failed", extra={"job_id": job_id})
            reason = f"{ErrorCode.INTERNAL_SERVER_ERROR}: The job's input could not be prepared."
        await self.finalize(job_id, error=reason)
        return []

    async def run(self, job_id: str) -> Job:
        """All steps in order, in this process: the local runner's whole job."""
        parts = await self.prepare_or_fail(job_id)
        if not parts:
            return await self._job(job_id)
        done = await self.store.completed_parts(job_id)
        for part in parts:
            if part not in done:
                try:
                    await self.process_part(job_id, part)
                except Exception:
                    # That part's documents are recorded as failed by finalize.
                    logger.exception("job part failed", extra={"job_id": job_id, "part": part})
        try:
            return await self.finalize(job_id)
        except Exception:
            # Results that cannot be gathered still end the job, with a code.
            logger.exception("job finalize failed", extra={"job_id": job_id})
            reason = f"{ErrorCode.INTERNAL_SERVER_ERROR}: The job's results could not be gathered."
            return await self._complete(await self._job(job_id), JobStatus.FAILED, [], reason)

    async def _job(self, job_id: str) -> Job:
        job = await self.store.get(job_id)
        if job is None:
            raise NotFound(f"No job {job_id}.")
        return job


#: Longest idempotency key or column name: ample for a UUID or a header, bounded for the stores.
MAX_NAME_LENGTH = 256


def _checked_name(name: str, value: str | None) -> None:
    if value is not None and (len(value) > MAX_NAME_LENGTH or not is_clean(value)):
        raise AuraStreamError(
            f"`{name}` must be at most {MAX_NAME_LENGTH} characters, with no NUL or "
            "unpaired surrogate."
        )


def _usage(results: list[JobResult], outcomes: Sequence[DocumentResult]) -> Usage:
    """A part's usage: its documents and cache hits, and the units of the pieces
    Comprehend analysed (a long document is billed per piece, as Comprehend bills it)."""
    ok = [r for r in results if r.ok]
    return Usage(len(ok), sum(1 for r in ok if r.cached), metered(outcomes).billable_units)


def _encode_documents(documents: list[JobDocument]) -> bytes:
    lines = []
    for d in documents:
        record: dict[str, object] = {
            "index": d.index,
            "text": d.text,
            "id": d.id,
            "languageCode": d.language,
        }
        if d.failure is not None:
            record["error"] = {"code": d.failure.code, "message": d.failure.message}
        lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


def _decode_documents(data: bytes) -> list[JobDocument]:
    documents = []
    for line in data.decode().splitlines():
        r = json.loads(line)
        error = r.get("error")
        failure = DocumentFailure(error["code"], error["message"]) if error else None
        documents.append(
            JobDocument(r["index"], r["text"], r.get("id"), r.get("languageCode"), failure)
        )
    return documents


def _encode_results(results: list[JobResult]) -> bytes:
    return ("\n".join(encode_job_result(r) for r in results) + "\n").encode()


def _decode_results(data: bytes) -> list[JobResult]:
    return [decode_job_result(line) for line in data.decode().splitlines() if line]
