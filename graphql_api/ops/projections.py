"""Pure arithmetic over measured series: rates, growth and the three-month projection."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: The runbook's capacity review looks three months ahead.
PROJECTION_DAYS = 90
#: Fewer days with traffic than this and a growth rate is noise.
MIN_DAYS_FOR_GROWTH = 7


def ratio(part: float | None, whole: float | None, scale: float = 100.0) -> float | None:
    """part / whole * scale, or None when there is nothing to divide by (no data is not 0%)."""
    if part is None or whole is None or whole <= 0:
        return None
    return scale * part / whole


def weighted_mean(averages: Sequence[float], counts: Sequence[float]) -> float | None:
    """The mean over all samples from per-period averages and sample counts."""
    total = sum(counts)
    if total <= 0:
        return None
    return sum(a * n for a, n in zip(averages, counts, strict=True)) / total


def total(values: Sequence[float] | None) -> float | None:
    return None if not values else float(sum(values))


def peak(values: Sequence[float] | None) -> float | None:
    return None if not values else float(max(values))


@dataclass(frozen=True, slots=True)
class Growth:
    """Compound daily growth fitted to a daily series, and what it makes of a figure."""

    daily_rate: float  # 0.01 is 1% a day
    days_measured: int

    @property
    def monthly_percent(self) -> float:
        return ((1 + self.daily_rate) ** 30 - 1) * 100

    def factor(self, days: int = PROJECTION_DAYS) -> float:
        return float((1 + self.daily_rate) ** days)

    def project(self, value: float, days: int = PROJECTION_DAYS) -> float:
        return value * self.factor(days)


def fit_growth(daily: Sequence[float]) -> Growth | None:
    """Least squares of log(value) on the day index: exponential growth, the shape usage
    takes, fitted to the days that had traffic. None with fewer than a week of such days."""
    points = [(day, math.log(value)) for day, value in enumerate(daily) if value > 0]
    if len(points) < MIN_DAYS_FOR_GROWTH:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return Growth(math.exp(slope) - 1, n)


def baseline(daily: Sequence[float]) -> float | None:
    """The mean of the days before the last: what the last day's cost is compared with."""
    earlier = daily[:-1]
    return None if not earlier else sum(earlier) / len(earlier)
