"""Batch jobs: their records, documents, per-document results and how long texts are split."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from graphql_api.domain.results import Analysis, DocumentFailure, Scores, Sentiment

#: Documents per part: one engine batch (Comprehend's limit), one Map iteration on AWS.
PART_SIZE = 25
MAX_DOCUMENTS_PER_JOB = 10_000
MAX_DOCUMENT_BYTES = 100_000


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        return self in {JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED}


class SourceFormat(StrEnum):
    JSONL = "JSONL"
    CSV = "CSV"
    TEXT = "TEXT"


@dataclass(frozen=True, slots=True)
class JobSource:
    """Where a job's documents come from: inline (stored at submit) or a stored object."""

    uri: str | None = None
    format: SourceFormat = SourceFormat.JSONL
    text_column: str = "text"
    id_column: str | None = "id"


@dataclass(frozen=True, slots=True)
class JobSummary:
    counts: dict[str, int] = field(default_factory=dict)
    mean_scores: Scores | None = None


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    owner: str
    status: JobStatus
    created_at: float
    fingerprint: str
    source: JobSource = JobSource()
    language: str | None = None
    idempotency_key: str | None = None
    total: int = 0
    parts: int = 0
    processed: int = 0
    failed: int = 0
    started_at: float | None = None
    completed_at: float | None = None
    error: str | None = None
    summary: JobSummary | None = None
    output_key: str | None = None
    #: The submitting key (None on an open local server) and its daily document quota:
    #: a job is metered to that key as its parts finish.
    key_id: str | None = None
    daily_quota: int | None = None

    @property
    def percent(self) -> float:
        return 100.0 * self.processed / self.total if self.total else 0.0

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return self.completed_at - self.started_at

    def evolve(self, **changes: Any) -> Job:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class JobDocument:
    index: int
    text: str
    id: str | None = None
    language: str | None = None
    #: Set when the record could not be read (a malformed CSV line): it fails alone.
    failure: DocumentFailure | None = None


@dataclass(frozen=True, slots=True)
class JobResult:
    """One document's outcome in a job; holds results only, never the text."""

    index: int
    id: str | None
    text_hash: str | None = None
    analysis: Analysis | None = None
    failure: DocumentFailure | None = None
    cached: bool = False
    parts: int = 1

    @property
    def ok(self) -> bool:
        return self.analysis is not None


def part_count(total: int) -> int:
    return (total + PART_SIZE - 1) // PART_SIZE


@dataclass(frozen=True, slots=True)
class JobPosition:
    """Where a page of a tenant's jobs (newest first) starts: just after this job."""

    created_at: float
    id: str

    @classmethod
    def of(cls, job: Job) -> JobPosition:
        return cls(job.created_at, job.id)


# Latin and CJK sentence ends (the ideographic full stop, full-width ! and ?).
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+")


def split_text(text: str, max_bytes: int) -> list[str]:
    """Split a long text on sentence boundaries into pieces of at most `max_bytes` UTF-8 bytes.

    Sentences are packed greedily; a single sentence over the limit is cut on whitespace,
    and a single word over the limit on character boundaries.
    """
    if len(text.encode("utf-8")) <= max_bytes:
        return [text]
    pieces: list[str] = []
    current = ""
    for unit in _units(text, max_bytes):
        candidate = f"{current} {unit}" if current else unit
        if len(candidate.encode("utf-8")) <= max_bytes:
            current = candidate
        else:
            pieces.append(current)
            current = unit
    if current:
        pieces.append(current)
    return pieces


def _units(text: str, max_bytes: int) -> list[str]:
    units: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if len(sentence.encode("utf-8")) <= max_bytes:
            units.append(sentence)
            continue
        for word in sentence.split():
            while len(word.encode("utf-8")) > max_bytes:
                cut = _cut(word, max_bytes)
                units.append(word[:cut])
                word = word[cut:]
            units.append(word)
    return [unit for unit in units if unit]


def _cut(word: str, max_bytes: int) -> int:
    size = 0
    for position, character in enumerate(word):
        size += len(character.encode("utf-8"))
        if size > max_bytes:
            return position
    return len(word)


def combine(analyses: list[Analysis], weights: list[int]) -> Analysis:
    """One analysis from a document's parts: scores averaged, weighted by part length."""
    total = sum(weights) or 1
    sums = [0.0, 0.0, 0.0, 0.0]
    for analysis, weight in zip(analyses, weights, strict=True):
        s = analysis.scores
        for i, value in enumerate((s.positive, s.negative, s.neutral, s.mixed)):
            sums[i] += value * weight / total
    scores = Scores.normalised(*sums)
    first = analyses[0]
    return Analysis(
        sentiment=scores.top(),
        scores=scores,
        language=first.language,
        engine=first.engine,
        degraded=any(a.degraded for a in analyses),
    )


def summarise(results: list[JobResult]) -> JobSummary:
    counts = {sentiment.value: 0 for sentiment in Sentiment}
    sums = [0.0, 0.0, 0.0, 0.0]
    analysed = 0
    for result in results:
        if result.analysis is None:
            continue
        analysed += 1
        counts[result.analysis.sentiment.value] += 1
        s = result.analysis.scores
        for i, value in enumerate((s.positive, s.negative, s.neutral, s.mixed)):
            sums[i] += value
    mean = Scores(*(value / analysed for value in sums)) if analysed else None
    return JobSummary(counts=counts, mean_scores=mean)
