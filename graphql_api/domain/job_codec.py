"""Job records as JSON-friendly dicts, shared by the SQLite and DynamoDB job stores."""

from __future__ import annotations

from typing import Any

from graphql_api.domain.jobs import Job, JobSource, JobStatus, JobSummary, SourceFormat
from graphql_api.domain.results import Scores


def job_to_dict(job: Job) -> dict[str, Any]:
    summary = None
    if job.summary is not None:
        mean = job.summary.mean_scores
        summary = {
            "counts": job.summary.counts,
            "mean": [mean.positive, mean.negative, mean.neutral, mean.mixed] if mean else None,
        }
    return {
        "id": job.id,
        "owner": job.owner,
        "status": job.status.value,
        "created_at": job.created_at,
        "fingerprint": job.fingerprint,
        "source": {
            "uri": job.source.uri,
            "format": job.source.format.value,
            "text_column": job.source.text_column,
            "id_column": job.source.id_column,
        },
        "language": job.language,
        "idempotency_key": job.idempotency_key,
        "total": job.total,
        "parts": job.parts,
        "processed": job.processed,
        "failed": job.failed,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "error": job.error,
        "summary": summary,
        "output_key": job.output_key,
        "key_id": job.key_id,
        "daily_quota": job.daily_quota,
    }


def job_from_dict(data: dict[str, Any]) -> Job:
    source = data.get("source") or {}
    summary_data = data.get("summary")
    summary = None
    if summary_data:
        mean = summary_data.get("mean")
        summary = JobSummary(
            counts={k: int(v) for k, v in summary_data["counts"].items()},
            mean_scores=Scores(*(float(v) for v in mean)) if mean else None,
        )
    return Job(
        id=data["id"],
        owner=data["owner"],
        status=JobStatus(data["status"]),
        created_at=float(data["created_at"]),
        fingerprint=data["fingerprint"],
        source=JobSource(
            uri=source.get("uri"),
            format=SourceFormat(source.get("format", "JSONL")),
            text_column=source.get("text_column", "text"),
            id_column=source.get("id_column"),
        ),
        language=data.get("language"),
        idempotency_key=data.get("idempotency_key"),
        total=int(data.get("total", 0)),
        parts=int(data.get("parts", 0)),
        processed=int(data.get("processed", 0)),
        failed=int(data.get("failed", 0)),
        started_at=_float(data.get("started_at")),
        completed_at=_float(data.get("completed_at")),
        error=data.get("error"),
        summary=summary,
        output_key=data.get("output_key"),
        key_id=data.get("key_id"),
        daily_quota=None if data.get("daily_quota") is None else int(data["daily_quota"]),
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
