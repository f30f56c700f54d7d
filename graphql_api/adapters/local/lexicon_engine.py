"""The embedded lexicon engine: VADER, mapped onto Comprehend's four labels."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cached_property
from importlib.metadata import version
from typing import Any

from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import Analysis, DocumentFailure, EngineOutcome, Scores

# MIXED reaches its full weight once this much of the text is polar vocabulary.
_MIXED_FULL_POLARITY = 0.4
_MIXED_WEIGHT = 0.9


class LexiconEngine:
    """VADER reads English only; other languages get UNSUPPORTED_LANGUAGE."""

    max_batch_size = 25
    supported_languages = frozenset({"en"})

    def __init__(self, language_detector: Callable[[Sequence[str]], list[str]]) -> None:
        self._detect = language_detector
        self.identity = f"vader-{version('vaderSentiment')}"

    @cached_property
    def _analyzer(self) -> Any:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        return SentimentIntensityAnalyzer()

    async def detect_languages(self, texts: Sequence[str]) -> list[str]:
        return self._detect(texts)

    async def analyze_batch(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        if language not in self.supported_languages:
            failure = DocumentFailure(
                ErrorCode.UNSUPPORTED_LANGUAGE,
                f"The lexicon engine reads English only, not '{language}'.",
            )
            return [failure] * len(texts)
        return [self.analyze_one(text, language) for text in texts]

    def analyze_one(self, text: str, language: str = "en") -> Analysis:
        polarity = self._analyzer.polarity_scores(text)
        scores = to_scores(polarity["pos"], polarity["neg"], polarity["compound"])
        return Analysis(scores.top(), scores, language, self.identity)


def to_scores(pos: float, neg: float, compound: float) -> Scores:
    """Map VADER's proportions and compound score onto four labels that sum to 1.

    MIXED takes the share of mass where positive and negative words balance each other
    (and there are enough of them); the rest splits between the compound score's side and
    NEUTRAL. The square root lifts moderate compound scores ("good" is 0.44) above neutral,
    in line with VADER's own convention that anything past +/-0.05 leans that way.
    """
    polar = pos + neg
    balance = 2 * min(pos, neg) / polar if polar else 0.0
    mixed = _MIXED_WEIGHT * balance**2 * min(1.0, polar / _MIXED_FULL_POLARITY)
    rest = 1.0 - mixed
    strength = math.sqrt(abs(compound))
    polar_share = rest * strength
    positive = polar_share if compound > 0 else 0.0
    negative = polar_share if compound < 0 else 0.0
    return Scores.normalised(positive, negative, rest * (1 - strength), mixed)
