"""Reliability figures for RELIABILITY.md: `python -m tests.faults.reliability`.

The AWS backend's Lambda handler, in process, over moto_server (DynamoDB, S3) with the
Comprehend fake made slow, throttled or down. Every request sends new texts, so no cache
answers for the engine. Prints a Markdown report; `--json` for the raw figures.
"""

from __future__ import annotations

import os

# The handler's warnings (each fallback) would bury the report; set before it is imported.
os.environ.setdefault("LOG_LEVEL", "ERROR")

import argparse
import contextlib
import importlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.aws_fixtures import FAKE_CREDENTIALS, create_keys_table, create_table
from tests.comprehend_fake import FakeComprehend
from tests.e2e.conftest import free_port, wait_until_up
from tests.support import EVENTS, LambdaContext, operation, run, stop_process

CONTEXT = LambdaContext(**json.loads((EVENTS / "lambda_context.json").read_text()))
MODEL = "minilm-"


@contextmanager
def moto_server() -> Iterator[str]:
    executable = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    assert executable, "moto_server not installed: `make install` adds moto[server]"
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [executable, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(f"{url}/moto-api/", process)
            yield url
        finally:
            stop_process(process)


class Harness:
    """A fresh Lambda container per scenario, and a counter for never-seen texts."""

    def __init__(self, api_key: str, comprehend: FakeComprehend) -> None:
        self.api_key = api_key
        self.comprehend = comprehend
        self.serial = 0
        self.handler: Any = None

    def cold_start(self, **env: str) -> None:
        os.environ.update(env)
        import graphql_api.handler

        self.handler = importlib.reload(graphql_api.handler).handler
        # A deployed container warms its fallback at start; here, before measuring.
        graphql_api.handler.app.state.container.engine.warm()

    @property
    def breaker(self) -> Any:
        import graphql_api.handler

        return graphql_api.handler.app.state.container.engine.breaker

    def documents(self, count: int, language: str | None) -> list[dict[str, str]]:
        documents = []
        for i in range(count):
            self.serial += 1
            text = f"It was a good day, review {self.serial} says, and the staff were kind."
            documents.append(
                {"id": str(i), "text": text, **({"languageCode": language} if language else {})}
            )
        return documents

    def _invoke(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        event = json.loads((EVENTS / "http_api_v2.json").read_text())
        event["rawPath"] = event["requestContext"]["http"]["path"] = f"/prod{path}"
        event["requestContext"]["http"]["method"] = method
        event["headers"]["x-api-key"] = self.api_key
        event["body"] = json.dumps(body) if body is not None else None
        response: dict[str, Any] = self.handler(event, CONTEXT)
        return response

    def analyze(self, count: int, language: str | None) -> tuple[list[dict[str, Any]], float]:
        variables = {"input": {"documents": self.documents(count, language)}}
        started = time.perf_counter()
        response = self._invoke(
            "POST", "/graphql", {"query": operation("Analyze"), "variables": variables}
        )
        elapsed = time.perf_counter() - started
        body = json.loads(response["body"])
        if response["statusCode"] != 200 or "errors" in body:
            code = (body.get("errors") or [{}])[0].get("extensions", {}).get("code", "HTTP")
            return [{"error": {"code": code}, "degraded": False}] * count, elapsed
        return body["data"]["analyze"]["results"], elapsed

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self._invoke("GET", "/v1/health", None)["body"])
        return body


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def slow_comprehend(
    harness: Harness, requests: int, language: str | None, threshold: str
) -> dict[str, Any]:
    harness.cold_start(AURASTREAM_BREAKER_FAILURE_THRESHOLD=threshold)
    harness.comprehend.reset()
    harness.analyze(5, language)  # warm: clients built, key looked up (a warm container)
    harness.comprehend.reset()
    harness.comprehend.behaviour.delay_seconds = 1.5
    latencies, degraded, failed = [], 0, 0
    codes: Counter[str] = Counter()
    for _ in range(requests):
        results, elapsed = harness.analyze(5, language)
        latencies.append(elapsed * 1_000)
        degraded += sum(bool(r["degraded"]) for r in results)
        failed += sum(r["error"] is not None for r in results)
        codes.update(r["error"]["code"] for r in results if r["error"] is not None)
    return {
        "languageCode": language or "detected",
        "breaker_threshold": threshold,
        "requests": requests,
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "documents_degraded": degraded,
        "documents_failed": failed,
        "failure_codes": dict(codes),
        "comprehend_calls": dict(harness.comprehend.calls),
    }


def throttled(harness: Harness, requests: int, rate: float) -> dict[str, Any]:
    harness.cold_start(AURASTREAM_BREAKER_FAILURE_THRESHOLD="5")
    harness.comprehend.reset()
    harness.analyze(5, "en")  # warm
    harness.comprehend.reset()
    harness.comprehend.behaviour.throttle_rate = rate
    harness.comprehend.behaviour.throttle_seed = 15
    by_comprehend = degraded = failed = 0
    codes: Counter[str] = Counter()
    latencies = []
    for i in range(requests):
        results, elapsed = harness.analyze(5, "en" if i % 2 else None)
        latencies.append(elapsed * 1_000)
        for r in results:
            if r["error"] is not None:
                failed += 1
                codes[r["error"]["code"]] += 1
            elif r["degraded"]:
                degraded += 1
            else:
                by_comprehend += 1
    total = by_comprehend + degraded + failed
    return {
        "throttle_rate": rate,
        "documents": total,
        "answered_by_comprehend": by_comprehend,
        "share_by_comprehend": round(by_comprehend / total, 4),
        "degraded": degraded,
        "failed": failed,
        "failure_codes": dict(codes),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "calls": dict(harness.comprehend.calls),
        "throttled_calls": harness.comprehend.throttled,
        "breaker_at_end": harness.breaker.state,
    }


def recovery(harness: Harness, outage_seconds: float, interval: float) -> dict[str, Any]:
    harness.cold_start(AURASTREAM_BREAKER_FAILURE_THRESHOLD="5")
    harness.comprehend.reset()
    harness.comprehend.behaviour.outage = True
    until = time.monotonic() + outage_seconds
    while time.monotonic() < until:
        harness.analyze(1, "en")
        time.sleep(interval)
    health_during = harness.health()["components"]["comprehend"]
    harness.comprehend.behaviour.outage = False
    back = time.monotonic()
    answers_at = health_at = None
    while answers_at is None or health_at is None:
        now = time.monotonic() - back
        if now > 120:
            break
        if answers_at is None:
            results, _ = harness.analyze(1, "en")
            if not results[0]["degraded"]:
                answers_at = time.monotonic() - back
        if health_at is None and harness.health()["components"]["comprehend"] == "healthy":
            health_at = time.monotonic() - back
        time.sleep(interval)
    return {
        "outage_seconds": outage_seconds,
        "traffic_interval_seconds": interval,
        "health_during_outage": health_during,
        "answers_recovered_after_s": round(answers_at, 2) if answers_at is not None else None,
        "health_recovered_after_s": round(health_at, 2) if health_at is not None else None,
    }


def health_cost(harness: Harness, requests: int) -> dict[str, Any]:
    harness.cold_start()
    harness.comprehend.reset()
    started = time.perf_counter()
    for _ in range(requests):
        harness.health()
    elapsed = time.perf_counter() - started
    return {
        "health_requests": requests,
        "seconds": round(elapsed, 2),
        "comprehend_calls": sum(harness.comprehend.calls.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=60, help="requests per latency run")
    parser.add_argument("--throttled-requests", type=int, default=200, help="5 documents each")
    parser.add_argument("--outage-seconds", type=float, nargs="+", default=[5, 15, 20])
    parser.add_argument(
        "--only", choices=["slow", "throttling", "recovery", "health"], nargs="+", default=None
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    comprehend = FakeComprehend().start()
    # The handler prints its EMF metrics to stdout: send them to stderr, keep the report.
    with (
        contextlib.redirect_stdout(sys.stderr),
        moto_server() as moto,
        tempfile.TemporaryDirectory() as scratch,
    ):
        os.environ.update(FAKE_CREDENTIALS)
        os.environ.pop("AWS_PROFILE", None)
        os.environ["AWS_ENDPOINT_URL"] = moto
        os.environ["AWS_ENDPOINT_URL_COMPREHEND"] = comprehend.url
        os.environ["AURASTREAM_BACKEND"] = "aws"
        os.environ["AURASTREAM_DATA_DIR"] = scratch
        os.environ["AURASTREAM_CACHE_TABLE"] = create_table(
            moto, "AuraStream-SentimentCache", ("text_hash",)
        )
        os.environ["AURASTREAM_JOBS_TABLE"] = create_table(
            moto, "AuraStream-Jobs", ("pk", "sk"), ("owner-created-index", "owner", "created_at")
        )
        os.environ["AURASTREAM_STATE_MACHINE_ARN"] = (
            "arn:aws:states:us-east-1:123456789012:stateMachine:AuraStream-AnalyzeJob"
        )
        os.environ["AURASTREAM_KEYS_TABLE"] = create_keys_table(moto, "AuraStream-ApiKeys")
        api_key = _api_key()
        harness = Harness(api_key, comprehend)
        wanted = set(args.only or ["slow", "throttling", "recovery", "health"])
        report: dict[str, Any] = {}
        if "slow" in wanted:
            report["slow_comprehend"] = [
                slow_comprehend(harness, args.requests, language, threshold)
                for threshold in ("5", "1000000")
                for language in ("en", None)
            ]
        if "throttling" in wanted:
            report["throttling"] = throttled(harness, args.throttled_requests, 0.5)
        if "recovery" in wanted:
            report["recovery"] = [recovery(harness, s, 0.1) for s in args.outage_seconds]
        if "health" in wanted:
            report["health_cost"] = health_cost(harness, 1_000)
    comprehend.stop()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(markdown(report))


def _api_key() -> str:
    from graphql_api.access import Limits, Scope
    from graphql_api.adapters.memory import InMemoryMetrics, SystemClock
    from graphql_api.bootstrap import build_access_service, build_access_store
    from graphql_api.settings import Settings

    settings = Settings(backend="aws")
    access = build_access_service(
        settings, build_access_store(settings), InMemoryMetrics(), SystemClock()
    )
    # Limits far above what is measured, so no answer is a RATE_LIMITED refusal.
    limits = Limits(rate_per_second=10_000, burst=10_000, daily_document_quota=10_000_000)
    created = access.create_key("reliability", list(Scope), name="reliability", limits=limits)
    return run(created).key


def markdown(report: dict[str, Any]) -> str:
    lines: list[str] = []
    if "slow_comprehend" in report:
        lines += [
            "| languageCode | breaker | requests | p50 ms | p99 ms | max ms | degraded | failed |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in report["slow_comprehend"]:
            breaker = "on (5)" if row["breaker_threshold"] == "5" else "never opens"
            cells = [
                row["languageCode"],
                breaker,
                row["requests"],
                row["p50_ms"],
                row["p99_ms"],
                row["max_ms"],
                row["documents_degraded"],
                row["documents_failed"],
            ]
            lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
        lines.append("")
    if "throttling" in report:
        t = report["throttling"]
        lines += [
            f"50% throttling: {t['documents']} documents, {t['answered_by_comprehend']} answered "
            f"by Comprehend ({t['share_by_comprehend']:.1%}), {t['degraded']} degraded, "
            f"{t['failed']} failed; {t['throttled_calls']} calls throttled; "
            f"p99 {t['p99_ms']} ms; breaker {t['breaker_at_end']}.",
            "",
        ]
    for r in report.get("recovery", []):
        lines += [
            f"Recovery after a {r['outage_seconds']:g} s outage (traffic every "
            f"{r['traffic_interval_seconds']} s): answers from Comprehend again after "
            f"{r['answers_recovered_after_s']} s, health healthy after "
            f"{r['health_recovered_after_s']} s (during the outage: "
            f"{r['health_during_outage']}).",
            "",
        ]
    if "health_cost" in report:
        h = report["health_cost"]
        lines.append(
            f"Health cost: {h['health_requests']} GET /v1/health in {h['seconds']} s cost "
            f"{h['comprehend_calls']} Comprehend call(s)."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
