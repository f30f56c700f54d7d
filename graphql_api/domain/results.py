"""What an analysis produces, independent of the engine that produced it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Sentiment(StrEnum):
    POSITIVE = "POSITIVE"
    NEGATIVE = "NEGATIVE"
    NEUTRAL = "NEUTRAL"
    MIXED = "MIXED"


@dataclass(frozen=True, slots=True)
class Scores:
    """Confidence per label; the four always sum to 1."""

    positive: float
    negative: float
    neutral: float
    mixed: float

    @classmethod
    def normalised(cls, positive: float, negative: float, neutral: float, mixed: float) -> Scores:
        """Clamp negatives to 0 and rescale so the scores sum to exactly 1."""
        values = [max(0.0, v) for v in (positive, negative, neutral, mixed)]
        total = sum(values)
        if total <= 0:
            return cls(0.0, 0.0, 1.0, 0.0)
        p, n, u, m = (v / total for v in values)
        # Put the rounding residue on the largest score so the sum is exact.
        residue = 1.0 - (p + n + u + m)
        scores = [p, n, u, m]
        top = max(range(4), key=scores.__getitem__)
        scores[top] += residue
        return cls(*scores)

    def top(self) -> Sentiment:
        pairs = {
            Sentiment.POSITIVE: self.positive,
            Sentiment.NEGATIVE: self.negative,
            Sentiment.NEUTRAL: self.neutral,
            Sentiment.MIXED: self.mixed,
        }
        return max(pairs, key=pairs.__getitem__)


@dataclass(frozen=True, slots=True)
class SentenceResult:
    """A sentence's sentiment; offsets index the document's normalised text."""

    begin_offset: int
    end_offset: int
    sentiment: Sentiment
    scores: Scores


@dataclass(frozen=True, slots=True)
class Analysis:
    """An engine's verdict on one document."""

    sentiment: Sentiment
    scores: Scores
    language: str
    engine: str
    sentences: tuple[SentenceResult, ...] = ()
    # True when a fallback engine answered because the primary one was unavailable.
    degraded: bool = False


@dataclass(frozen=True, slots=True)
class DocumentFailure:
    """Why one document could not be analysed; never fails its neighbours."""

    code: str
    message: str
    retryable: bool = False


EngineOutcome = Analysis | DocumentFailure


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    """One document as the caller sent it."""

    text: str
    language: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentResult:
    """The answer for one requested document: an analysis or a failure."""

    id: str | None
    text_hash: str | None
    analysis: Analysis | None = None
    failure: DocumentFailure | None = None
    cached: bool = False
    # Kept only in memory for the response (sentence text); never cached or logged.
    normalised_text: str = field(default="", repr=False)
