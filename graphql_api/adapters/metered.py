"""Wrappers that meter a port without changing it: Comprehend spend and personal-data finds.

Comprehend bills each document in units of 100 characters, at least 3 units per document,
at list price USD 0.0001 per unit for sentiment, language detection and PII detection alike
(first 10M units a month). The estimate is what AuraStream's calls cost at that price; the
Lambda, DynamoDB and API Gateway share is in Cost Explorer, which `aurastream ops cost` reads.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql_api.access.usage import DEFAULT_PRICE_PER_UNIT, billable_units
from graphql_api.domain.results import EngineOutcome
from graphql_api.metric_names import Metric
from graphql_api.ports import Metrics, SentimentEngine
from graphql_api.privacy import PiiDetector, PiiEntity

#: Comprehend's list price per unit (USD 0.0001), in micro-USD.
COMPREHEND_MICRO_USD_PER_UNIT = int(DEFAULT_PRICE_PER_UNIT * 1_000_000)


def comprehend_cost_micro_usd(texts: Sequence[str]) -> int:
    """Billed units (the same rule usage metering counts) at list price."""
    return sum(billable_units(len(text)) for text in texts) * COMPREHEND_MICRO_USD_PER_UNIT


class CostMeteredEngine:
    """A Comprehend engine that adds each call's estimated price to `EstimatedCostMicroUsd`.

    It wraps the Comprehend engine itself, inside the fallback, so answers from the embedded
    model (free) are never priced. A failed call is priced too: Comprehend may have billed it.
    """

    def __init__(self, engine: SentimentEngine, metrics: Metrics) -> None:
        self.engine = engine
        self.metrics = metrics
        self.identity = engine.identity
        self.max_batch_size = engine.max_batch_size

    def __getattr__(self, name: str) -> object:  # e.g. supported_languages, budget_seconds
        return getattr(self.engine, name)

    async def detect_languages(self, texts: Sequence[str]) -> list[str]:
        self._meter(texts)
        return await self.engine.detect_languages(texts)

    async def analyze_batch(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        self._meter(texts)
        return await self.engine.analyze_batch(texts, language)

    def _meter(self, texts: Sequence[str]) -> None:
        self.metrics.increment(Metric.COMPREHEND_CALLS)
        self.metrics.increment(Metric.ESTIMATED_COST_MICRO_USD, comprehend_cost_micro_usd(texts))


class MeteredPiiDetector:
    """Counts documents scanned for personal data and those with a find (the runbook's PII
    detection rate is PiiDetected / PiiScanned); prices Comprehend's scans when `priced`."""

    def __init__(self, detector: PiiDetector, metrics: Metrics, *, priced: bool) -> None:
        self.detector = detector
        self.metrics = metrics
        self.priced = priced

    def __getattr__(self, name: str) -> object:
        return getattr(self.detector, name)

    async def detect(self, texts: Sequence[str], language: str) -> list[list[PiiEntity]]:
        if self.priced:
            self.metrics.increment(
                Metric.ESTIMATED_COST_MICRO_USD, comprehend_cost_micro_usd(texts)
            )
        found = await self.detector.detect(texts, language)
        self.metrics.increment(Metric.PII_SCANNED, len(texts))
        self.metrics.increment(Metric.PII_DETECTED, sum(1 for entities in found if entities))
        return found
