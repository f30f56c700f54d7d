"""Metrics sinks: CloudWatch EMF via Powertools on Lambda, Prometheus locally, and a fan-out."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphql_api.adapters.memory import InMemoryMetrics
from graphql_api.metric_names import Metric
from graphql_api.ports import Metrics

#: EMF accepts at most 100 values per metric in one document.
EMF_MAX_VALUES = 100


class FanOutMetrics:
    """Every sink gets every observation; `counters` reads the in-process tally."""

    def __init__(self, sinks: Sequence[Metrics], tally: InMemoryMetrics | None = None) -> None:
        self.tally = tally or InMemoryMetrics()
        self.sinks = [self.tally, *sinks]

    @property
    def counters(self) -> Mapping[str, float]:
        return self.tally.counters

    def increment(
        self, name: str, value: float = 1, dimensions: Mapping[str, str] | None = None
    ) -> None:
        for sink in self.sinks:
            sink.increment(name, value, dimensions)

    def observe_ms(
        self, name: str, milliseconds: float, dimensions: Mapping[str, str] | None = None
    ) -> None:
        for sink in self.sinks:
            sink.observe_ms(name, milliseconds, dimensions)


class EmfMetrics:
    """CloudWatch embedded metric format through Powertools, flushed once per invocation.

    Undimensioned metrics go to the shared Powertools metric set (its `log_metrics`
    decorator flushes them); dimensioned ones are held here and written by `flush()` as
    their own EMF documents, so CacheHit/CacheMiss keep the plain `service` dimension the
    alarms query.

    `flush()` also writes `CacheHitRate` with an empty dimension set, the shape the runbook's
    `get-metric-statistics --metric-name CacheHitRate` (no `--dimensions`) finds.
    """

    def __init__(
        self,
        namespace: str,
        service: str,
        write: Callable[[str], None] = print,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from aws_lambda_powertools import Metrics as PowertoolsMetrics

        self.namespace = namespace
        self.service = service
        self.powertools = PowertoolsMetrics(namespace=namespace, service=service)
        self._dimensioned: list[tuple[str, str, float, dict[str, str]]] = []
        self._lookups = [0.0, 0.0]  # cache hits, misses since the last flush
        self._write = write
        self._clock = clock
        self._lock = threading.Lock()

    def increment(
        self, name: str, value: float = 1, dimensions: Mapping[str, str] | None = None
    ) -> None:
        self._add(name, "Count", value, dimensions)

    def observe_ms(
        self, name: str, milliseconds: float, dimensions: Mapping[str, str] | None = None
    ) -> None:
        self._add(name, "Milliseconds", milliseconds, dimensions)

    def _add(
        self, name: str, unit: str, value: float, dimensions: Mapping[str, str] | None
    ) -> None:
        if name in (Metric.CACHE_HIT, Metric.CACHE_MISS):
            with self._lock:
                self._lookups[name == Metric.CACHE_MISS] += value
        if dimensions:
            with self._lock:
                self._dimensioned.append((name, unit, value, dict(dimensions)))
        else:
            self.powertools.add_metric(name=name, unit=unit, value=value)

    def flush(self) -> None:
        from aws_lambda_powertools.metrics import single_metric

        with self._lock:
            pending, self._dimensioned = self._dimensioned, []
            (hits, misses), self._lookups = self._lookups, [0.0, 0.0]
        if hits + misses > 0:
            self._write(self.hit_rate_document(hits, misses))
        for name, unit, value, dimensions in pending:
            with single_metric(
                name=name,
                unit=unit,  # type: ignore[arg-type]
                value=value,
                namespace=self.namespace,
                default_dimensions={"service": self.service, **dimensions},
            ):
                pass

    def hit_rate_document(self, hits: float, misses: float) -> str:
        """One EMF document: a `CacheHitRate` sample of 100 or 0 per lookup, no dimensions.

        CloudWatch's Average over the samples is then the share of lookups that hit, weighted
        by lookups rather than by invocations. Past 100 lookups the samples are scaled down to
        100 in proportion (the rate to within half a percent).
        """
        total = hits + misses
        samples = max(1, min(int(total), EMF_MAX_VALUES))
        hit_samples = round(samples * hits / total)
        values = [100.0] * hit_samples + [0.0] * (samples - hit_samples)
        document = {
            "_aws": {
                "Timestamp": int(self._clock() * 1_000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [[]],
                        "Metrics": [{"Name": Metric.CACHE_HIT_RATE.value, "Unit": "Percent"}],
                    }
                ],
            },
            Metric.CACHE_HIT_RATE.value: values,
        }
        return json.dumps(document, separators=(",", ":"))


class PrometheusMetrics:
    """The same counters and latency histograms for `GET /metrics` on the local server."""

    #: Histogram buckets in milliseconds, from cache hits to slow engine calls.
    BUCKETS = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000)

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry

        self.registry = CollectorRegistry(auto_describe=True)
        self._metrics: dict[tuple[str, str, tuple[str, ...]], Any] = {}
        self._lock = threading.Lock()

    def _metric(self, kind: str, name: str, labels: tuple[str, ...]) -> Any:
        key = (kind, name, labels)
        metric = self._metrics.get(key)
        if metric is None:
            from prometheus_client import Counter, Histogram

            with self._lock:
                metric = self._metrics.get(key)
                if metric is None:
                    base = f"aurastream_{_snake(name)}"
                    if kind == "counter":
                        metric = Counter(base, f"{name} (count)", labels, registry=self.registry)
                    else:
                        metric = Histogram(
                            f"{base}_ms",
                            f"{name} in milliseconds",
                            labels,
                            buckets=self.BUCKETS,
                            registry=self.registry,
                        )
                    self._metrics[key] = metric
        return metric

    def increment(
        self, name: str, value: float = 1, dimensions: Mapping[str, str] | None = None
    ) -> None:
        labels = tuple(sorted(dimensions or {}))
        metric = self._metric("counter", name, labels)
        (metric.labels(**dimensions) if dimensions else metric).inc(value)

    def observe_ms(
        self, name: str, milliseconds: float, dimensions: Mapping[str, str] | None = None
    ) -> None:
        labels = tuple(sorted(dimensions or {}))
        metric = self._metric("histogram", name, labels)
        (metric.labels(**dimensions) if dimensions else metric).observe(milliseconds)

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        payload: bytes = generate_latest(self.registry)
        return payload


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
