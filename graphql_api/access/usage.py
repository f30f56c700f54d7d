"""Usage metering: documents, cache hits and Comprehend billable units per tenant and day."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from graphql_api.domain.results import DocumentResult

#: Amazon Comprehend sentiment, per unit of 100 characters (us-east-1 list price).
DEFAULT_PRICE_PER_UNIT = Decimal("0.0001")
#: Comprehend bills units of 100 characters with a minimum of 3 units per document.
CHARACTERS_PER_UNIT = 100
MINIMUM_UNITS = 3


def billable_units(text_length_chars: int) -> int:
    """Comprehend units for one document: max(3, ceil(length / 100))."""
    return max(MINIMUM_UNITS, math.ceil(text_length_chars / CHARACTERS_PER_UNIT))


def estimated_cost(units: int, price_per_unit: Decimal = DEFAULT_PRICE_PER_UNIT) -> Decimal:
    return units * price_per_unit


@dataclass(frozen=True, slots=True)
class Usage:
    """What one request or one job part adds to the counters."""

    documents: int = 0
    cache_hits: int = 0
    billable_units: int = 0

    def __post_init__(self) -> None:
        if min(self.documents, self.cache_hits, self.billable_units) < 0:
            raise ValueError("usage counts must not be negative")

    def __bool__(self) -> bool:
        return bool(self.documents or self.cache_hits or self.billable_units)


@dataclass(frozen=True, slots=True)
class UsageCounters:
    """What a store keeps for one tenant (or one of its keys) and day."""

    tenant_id: str
    day: date
    documents: int = 0
    cache_hits: int = 0
    billable_units: int = 0
    #: Set for a key's counters, None for the tenant's.
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class UsageDay:
    tenant_id: str
    day: date
    documents: int
    cache_hits: int
    billable_units: int
    estimated_cost_usd: Decimal
    key_id: str | None = None

    @classmethod
    def from_counters(cls, counters: UsageCounters, price_per_unit: Decimal) -> UsageDay:
        return cls(
            counters.tenant_id,
            counters.day,
            counters.documents,
            counters.cache_hits,
            counters.billable_units,
            estimated_cost(counters.billable_units, price_per_unit),
            counters.key_id,
        )


def metered(results: Sequence[DocumentResult]) -> Usage:
    """(documents analysed, cache hits, Comprehend billable units) of one request.

    Only documents Comprehend itself analysed cost units: cache hits and fallback
    answers are free.
    """
    analysed = [r for r in results if r.analysis is not None]
    cache_hits = sum(1 for r in analysed if r.cached)
    units = sum(
        billable_units(len(r.normalised_text))
        for r in analysed
        if r.analysis is not None
        and not r.cached
        and not r.analysis.degraded
        and r.analysis.engine.startswith("comprehend")
    )
    return Usage(len(analysed), cache_hits, units)
