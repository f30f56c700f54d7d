"""A compact JSON form of an Analysis, shared by every persistent cache."""

from __future__ import annotations

import json
from typing import Any

from graphql_api.domain.results import Analysis, Scores, SentenceResult, Sentiment


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
            [x.begin_offset, x.end_offset, x.sentiment.value,
             [x.scores.positive, x.scores.negative, x.scores.neutral, x.scores.mixed]]
            for x in analysis.sentences
        ]  # fmt: skip
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
