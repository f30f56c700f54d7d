"""The last hour of metrics in per-minute buckets, kept in process for the /status page.

`RecentMetrics` implements the `Metrics` port. It keeps a ring of 60 buckets, one per minute
of the clock, each reused once its minute is more than an hour old, so memory stays bounded
however long the server runs: a few counters per bucket and at most `max_samples` request
latencies (a uniform reservoir sample of that minute's requests).

It reads only the names the status page charts; any other metric name is accepted and
dropped. Dimensions are ignored: every series sums all operations. To keep the process's
other sinks, add it next to them behind a fan-out (`adapters.metrics.FanOutMetrics`).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MINUTES = 60
SECONDS_PER_MINUTE = 60
#: Latency samples kept per minute; beyond it, a uniform reservoir sample of the minute.
DEFAULT_MAX_SAMPLES = 1_000

#: The timing whose observations are the requests (one per GraphQL operation served).
REQUEST_LATENCY = "RequestLatency"
#: Counter names and the series each one feeds.
COUNTERS: Mapping[str, str] = {
    "CacheHit": "cache_hits",
    "CacheMiss": "cache_misses",
    "EngineFallback": "engine_fallbacks",
    "EngineErrors": "engine_errors",
    "JobsSubmitted": "jobs_submitted",
    "JobsSucceeded": "jobs_succeeded",
    "JobsFailed": "jobs_failed",
}
#: Counter series published one point per minute (cache hits and misses become a hit rate).
CHARTED_COUNTERS = (
    "engine_fallbacks",
    "engine_errors",
    "jobs_submitted",
    "jobs_succeeded",
    "jobs_failed",
)


@dataclass
class _Bucket:
    """One minute: counters by series and a bounded sample of request latencies."""

    minute: int
    counters: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    latencies: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class _MinuteCopy:
    """A bucket's contents copied under the lock, summarised outside it."""

    counters: dict[str, float]
    requests: int
    latencies: list[float]


_EMPTY = _MinuteCopy({}, 0, [])


class RecentMetrics:
    """Counters and request latencies for the last hour, one bucket per minute; thread-safe."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        *,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        seed: int | None = None,
    ) -> None:
        if max_samples < 1:
            raise ValueError("max_samples must be at least 1")
        self._clock = clock
        self._max_samples = max_samples
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._ring: list[_Bucket | None] = [None] * MINUTES

    # --- The Metrics port ----------------------------------------------------------------------

    def increment(
        self, name: str, value: float = 1, dimensions: Mapping[str, str] | None = None
    ) -> None:
        series = COUNTERS.get(name)
        if series is None:
            return
        with self._lock:
            bucket = self._current_bucket()
            if bucket is not None:
                bucket.counters[series] = bucket.counters.get(series, 0.0) + value

    def observe_ms(
        self, name: str, milliseconds: float, dimensions: Mapping[str, str] | None = None
    ) -> None:
        if name != REQUEST_LATENCY or not math.isfinite(milliseconds):
            return
        with self._lock:
            bucket = self._current_bucket()
            if bucket is None:
                return
            bucket.requests += 1
            if len(bucket.latencies) < self._max_samples:
                bucket.latencies.append(milliseconds)
            else:  # reservoir sampling (Algorithm R): each request kept with equal chance
                slot = self._random.randrange(bucket.requests)
                if slot < self._max_samples:
                    bucket.latencies[slot] = milliseconds

    def _current_bucket(self) -> _Bucket | None:
        """The bucket of the clock's minute, emptied first when it still holds an older one.

        None when the clock went back behind what the slot already holds (never overwrite a
        newer minute with an older one). Call with the lock held.
        """
        minute = int(self._clock() // SECONDS_PER_MINUTE)
        slot = minute % MINUTES
        bucket = self._ring[slot]
        if bucket is None or bucket.minute < minute:
            bucket = self._ring[slot] = _Bucket(minute)
        elif bucket.minute > minute:
            return None
        return bucket

    # --- Reading -------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The last 60 minutes, oldest first, the current (partial) minute last; JSON-ready.

        Every series has one point per minute: counts are 0 for a quiet minute, while
        latencies and the cache hit rate are null when there was nothing to measure.
        `minute_epochs` holds the epoch seconds at which each minute starts.
        """
        now = self._clock()
        current = int(now // SECONDS_PER_MINUTE)
        minutes = range(current - MINUTES + 1, current + 1)
        with self._lock:
            copies = [self._copy(minute) for minute in minutes]

        series: dict[str, list[Any]] = {name: [] for name in CHARTED_COUNTERS}
        requests: list[int] = []
        p50: list[float | None] = []
        p99: list[float | None] = []
        hit_rate: list[float | None] = []
        for copy in copies:
            requests.append(copy.requests)
            ordered = sorted(copy.latencies)
            p50.append(_rounded(_percentile(ordered, 0.50)))
            p99.append(_rounded(_percentile(ordered, 0.99)))
            hit_rate.append(_hit_rate(copy.counters))
            for name in CHARTED_COUNTERS:
                series[name].append(_number(copy.counters.get(name, 0.0)))

        return {
            "minutes": MINUTES,
            "generated_at": round(now, 3),
            "minute_epochs": [minute * SECONDS_PER_MINUTE for minute in minutes],
            "requests_per_minute": requests,
            "latency_p50_ms": p50,
            "latency_p99_ms": p99,
            "cache_hit_rate": hit_rate,
            **series,
            "totals": _totals(copies),
        }

    def _copy(self, minute: int) -> _MinuteCopy:
        bucket = self._ring[minute % MINUTES]
        if bucket is None or bucket.minute != minute:
            return _EMPTY
        return _MinuteCopy(dict(bucket.counters), bucket.requests, list(bucket.latencies))


def _totals(copies: Sequence[_MinuteCopy]) -> dict[str, Any]:
    counters: dict[str, float] = {}
    for copy in copies:
        for name, value in copy.counters.items():
            counters[name] = counters.get(name, 0.0) + value
    # A minute's samples stand for all of its requests: weight them so that a busy minute
    # counts for more than a quiet one once its reservoir is full.
    weighted = sorted(
        (latency, copy.requests / len(copy.latencies))
        for copy in copies
        if copy.latencies
        for latency in copy.latencies
    )
    return {
        "requests": sum(copy.requests for copy in copies),
        "latency_p50_ms": _rounded(_weighted_percentile(weighted, 0.50)),
        "latency_p99_ms": _rounded(_weighted_percentile(weighted, 0.99)),
        "cache_hits": _number(counters.get("cache_hits", 0.0)),
        "cache_misses": _number(counters.get("cache_misses", 0.0)),
        "cache_hit_rate": _hit_rate(counters),
        **{name: _number(counters.get(name, 0.0)) for name in CHARTED_COUNTERS},
    }


def _percentile(ordered: Sequence[float], quantile: float) -> float | None:
    """Nearest rank: the smallest sample with at least `quantile` of the samples at or below."""
    if not ordered:
        return None
    rank = max(1, math.ceil(quantile * len(ordered)))
    return ordered[rank - 1]


def _weighted_percentile(ordered: Iterable[tuple[float, float]], quantile: float) -> float | None:
    """Nearest rank over (value, weight) pairs sorted by value."""
    pairs = list(ordered)
    if not pairs:
        return None
    target = quantile * sum(weight for _, weight in pairs)
    cumulative = 0.0
    for value, weight in pairs:
        cumulative += weight
        if cumulative >= target - 1e-9:
            return value
    return pairs[-1][0]


def _hit_rate(counters: Mapping[str, float]) -> float | None:
    hits = counters.get("cache_hits", 0.0)
    lookups = hits + counters.get("cache_misses", 0.0)
    return None if lookups <= 0 else round(hits / lookups, 4)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _number(value: float) -> int | float:
    """Whole counts as integers, so the JSON reads 3 rather than 3.0."""
    return int(value) if value.is_integer() else round(value, 3)
