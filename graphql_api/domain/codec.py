"""A compact JSON form of an Analysis, shared by every persistent cache."""

from __future__ import annotations

import json
from typing import Any

from graphql_api.domain.jobs import JobResult
from graphql_api.domain.results import (
    Analysis,
    DocumentFailure,
    Scores,
    SentenceResult,
    Sentiment,
)


def _scores(values: list[float]) -> Scores:
    return Scores(*values)


def encode_analysis(analysis: Analysis) -> str:
    s = analysis.scores
    payload: dict[str, Any] = {
        "s": analysis.sentiment.value,
        "p": [s.positive, s.negative, s.neutral, s.mixed],
        "l": analysis.language,
        "e": analysis.engine,
    }
    if analysis.sentences:
        payload["x"] = [
            [
                x.begin_offset,
                x.end_offset,
                x.sentiment.value,
                [x.scores.positive, x.scores.negative, x.scores.neutral, x.scores.mixed],
            ]
            for x in analysis.sentences
        ]
    if analysis.degraded:
        payload["d"] = True
    return json.dumps(payload, separators=(",", ":"))


def decode_analysis(raw: str) -> Analysis:
    data = json.loads(raw)
    sentences = tuple(
        SentenceResult(begin, end, Sentiment(label), _scores(scores))
        for begin, end, label, scores in data.get("x", ())
    )
    return Analysis(
        sentiment=Sentiment(data["s"]),
        scores=_scores(data["p"]),
        language=data["l"],
        engine=data["e"],
        sentences=sentences,
        degraded=bool(data.get("d", False)),
    )


def encode_job_result(result: JobResult) -> str:
    """One line of a job's JSON Lines output (the public format documented in the README)."""
    line: dict[str, Any] = {"index": result.index, "id": result.id, "textHash": result.text_hash}
    if result.analysis is not None:
        a, s = result.analysis, result.analysis.scores
        line.update(
            sentiment=a.sentiment.value,
            scores={
                "positive": s.positive,
                "negative": s.negative,
                "neutral": s.neutral,
                "mixed": s.mixed,
            },
            languageCode=a.language,
            engine=a.engine,
            degraded=a.degraded,
            cached=result.cached,
            parts=result.parts,
        )
    if result.failure is not None:
        line["error"] = {"code": result.failure.code, "message": result.failure.message}
    return json.dumps(line, separators=(",", ":"))


def decode_job_result(raw: str) -> JobResult:
    data = json.loads(raw)
    analysis = None
    if "sentiment" in data:
        s = data["scores"]
        analysis = Analysis(
            Sentiment(data["sentiment"]),
            Scores(s["positive"], s["negative"], s["neutral"], s["mixed"]),
            data["languageCode"],
            data["engine"],
            degraded=data.get("degraded", False),
        )
    error = data.get("error")
    return JobResult(
        index=data["index"],
        id=data.get("id"),
        text_hash=data.get("textHash"),
        analysis=analysis,
        failure=DocumentFailure(error["code"], error["message"]) if error else None,
        cached=data.get("cached", False),
        parts=data.get("parts", 1),
    )
