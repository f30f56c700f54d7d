"""Metrics sinks: CloudWatch EMF via Powertools on Lambda, Prometheus locally, and a fan-out."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from graphql_api.adapters.memory import InMemoryMetrics
from graphql_api.ports import Metrics


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
    """

    def __init__(self, namespace: str, service: str) -> None:
        from aws_lambda_powertools import Metrics as PowertoolsMetrics

        self.namespace = namespace
        self.service = service
        self.powertools = PowertoolsMetrics(namespace=namespace, service=service)
        self._dimensioned: list[tuple[str, str, float, dict[str, str]]] = []
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
        if dimensions:
            with self._lock:
                self._dimensioned.append((name, unit, value, dict(dimensions)))
        else:
            self.powertools.add_metric(name=name, unit=unit, value=value)

    def flush(self) -> None:
        from aws_lambda_powertools.metrics import single_metric

        with self._lock:
            pending, self._dimensioned = self._dimensioned, []
        for name, unit, value, dimensions in pending:
            with single_metric(
                name=name,
                unit=unit,  # type: ignore[arg-type]
                value=value,
                namespace=self.namespace,
                default_dimensions={"service": self.service, **dimensions},
            ):
                pass


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
