"""In-memory adapters: a system clock and metrics kept in process."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping


class SystemClock:
    def now(self) -> float:
        return time.time()


class InMemoryMetrics:
    """Counters and timings kept in process, read by health and tests."""

    def __init__(self) -> None:
        self.counters: defaultdict[str, float] = defaultdict(float)
        self.timings: defaultdict[str, list[float]] = defaultdict(list)

    def increment(
        self, name: str, value: float = 1, dimensions: Mapping[str, str] | None = None
    ) -> None:
        self.counters[name] += value

    def observe_ms(
        self, name: str, milliseconds: float, dimensions: Mapping[str, str] | None = None
    ) -> None:
        samples = self.timings[name]
        samples.append(milliseconds)
        if len(samples) > 1_000:  # keep memory bounded on long runs
            del samples[:500]
