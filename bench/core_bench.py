"""Core benchmarks: AuraStream against the bare anchor (bench/anchor.py), side by side in
one run, because the machine is shared and noisy. Every row prints anchor, AuraStream and
the ratio:

1. warm Lambda invocation of a cached `analyze` (the full Lambda handler: EventGuard,
   Powertools, Mangum) against the anchor's trivial mutation under Mangum;
2. `{ __typename }` through the same two handlers;
3. the AWS backend (moto_server, the Comprehend fake): a warm cached `analyze` with an API
   key against `{ __typename }` with the same key, and DynamoDB calls per request;
4. cold start in a fresh interpreter with AWS_LAMBDA_FUNCTION_NAME set (import, first
   health, first analyze) against the anchor's (import, first query, first mutation);
5. HTTP throughput with wrk, 1 and 2 uvicorn workers (uvloop, httptools), both servers;
6. a fixed 1,000 requests/s on one worker, p99 and p99.9, from an open-loop generator that
   times each request from when it was due (so a stalled server is not hidden).

Run with `make bench`, or `python bench/core_bench.py --skip-http` without wrk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import anchor  # noqa: E402
from tests.support import EVENTS, LambdaContext, operation  # noqa: E402

ANALYZE_VARIABLES = {"input": {"documents": [{"id": "1", "text": "The support team was great!"}]}}
TYPENAME = "{ __typename }"
LAMBDA_NAME = "aurastream-bench"


def v2_event(body: dict[str, Any] | None, api_key: str | None = None) -> dict[str, Any]:
    event = json.loads((EVENTS / "http_api_v2.json").read_text())
    if body is None:  # GET /v1/health
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/prod/v1/health"
        event["requestContext"]["http"]["method"] = "GET"
        event["routeKey"] = event["requestContext"]["routeKey"] = "GET /v1/health"
    else:
        event["body"] = json.dumps(body)
    if api_key is not None:
        event["headers"]["x-api-key"] = api_key
    return event


def graphql_event(query: str, api_key: str | None = None, **variables: Any) -> dict[str, Any]:
    return v2_event({"query": query, "variables": variables or None}, api_key)


def quiet_logs() -> None:
    """Keep writing the log lines (their cost is part of every request) but into
    /dev/null rather than over the benchmark's table."""
    import logging

    from graphql_api.observability import logger

    sink = open(os.devnull, "w")  # noqa: SIM115 - open for the life of the process
    for handler in [*logger.handlers, *logging.getLogger("graphql_api").handlers]:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)


def lambda_context() -> LambdaContext:
    return LambdaContext(**json.loads((EVENTS / "lambda_context.json").read_text()))


def time_invocations(handler: Any, event: dict[str, Any], count: int) -> float:
    """Mean microseconds per invocation."""
    context = lambda_context()
    started = time.perf_counter()
    for _ in range(count):
        response = handler(event, context)
    elapsed = time.perf_counter() - started
    assert response["statusCode"] == 200, response
    assert "errors" not in json.loads(response["body"]), response["body"]
    return elapsed / count * 1e6


def side_by_side(
    pairs: dict[str, tuple[Callable[[], float], Callable[[], float]]], rounds: int
) -> dict[str, tuple[float, float]]:
    """Median of each (anchor, ours) measure over interleaved rounds."""
    samples: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in pairs}
    for _ in range(rounds):
        for name, (measure_anchor, measure_ours) in pairs.items():
            samples[name][0].append(measure_anchor())
            samples[name][1].append(measure_ours())
    return {k: (statistics.median(a), statistics.median(o)) for k, (a, o) in samples.items()}


def row(what: str, anchor_figure: str, ours_figure: str, ratio: float, goal: str = "") -> None:
    print(f"| {what} | {anchor_figure} | {ours_figure} | {ratio:.2f}x | {goal} |", flush=True)


def header(title: str) -> None:
    print(f"\n### {title}\n\n| what | anchor | AuraStream | ratio | goal |\n|---|---|---|---|---|")


# ---------------------------------------------------------------- 1, 2: warm Lambda


def bench_lambda(rounds: int, per_round: int) -> None:
    from graphql_api.app import create_app
    from graphql_api.handler import build_handler, build_lambda
    from graphql_api.settings import Settings

    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(data_dir=Path(data_dir)))
        ours = build_lambda(app)
        mangum_only = build_handler(app)
        quiet_logs()
        analyze = graphql_event(operation("Analyze"), **ANALYZE_VARIABLES)
        typename = graphql_event(TYPENAME)
        bare_mutation, bare_typename = graphql_event(anchor.MUTATION), graphql_event(TYPENAME)
        for handler, event in [(ours, analyze), (ours, typename), (anchor.handler, bare_mutation),
                               (anchor.handler, bare_typename)]:  # fmt: skip
            time_invocations(handler, event, 200)  # warm: fills the result cache too
        figures = side_by_side(
            {
                "analyze": (
                    lambda: time_invocations(anchor.handler, bare_mutation, per_round),
                    lambda: time_invocations(ours, analyze, per_round),
                ),
                "analyze_mangum_only": (
                    lambda: time_invocations(anchor.handler, bare_mutation, per_round),
                    lambda: time_invocations(mangum_only, analyze, per_round),
                ),
                "typename": (
                    lambda: time_invocations(anchor.handler, bare_typename, per_round),
                    lambda: time_invocations(ours, typename, per_round),
                ),
            },
            rounds,
        )
    header("Warm Lambda invocation, in process (API Gateway v2 event)")
    a, o = figures["analyze"]
    row("cached `analyze` (anchor: trivial mutation)", f"{a:.0f} µs", f"{o:.0f} µs", o / a,
        "<= 1.5x")  # fmt: skip
    a, o = figures["analyze_mangum_only"]
    row("same, Mangum alone (no EventGuard, no Powertools decorators)", f"{a:.0f} µs",
        f"{o:.0f} µs", o / a)  # fmt: skip
    a, o = figures["typename"]
    row("`{ __typename }` through the handler", f"{a:.0f} µs", f"{o:.0f} µs", o / a)


# ---------------------------------------------------------------- 3, 4: AWS backend


@contextmanager
def emulated_aws() -> Iterator[dict[str, str]]:
    """moto_server, the Comprehend fake, the tables and one API key: the environment a
    Lambda container of AuraStream would have, pointed at the emulators."""
    from tests.aws_fixtures import FAKE_CREDENTIALS, create_keys_table, create_table
    from tests.comprehend_fake import FakeComprehend
    from tests.e2e.conftest import free_port, wait_until_up
    from tests.support import stop_process

    port = free_port()
    executable = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    assert executable, "moto_server not installed: `make install` adds moto[server]"
    moto = subprocess.Popen([executable, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    comprehend = FakeComprehend().start()
    url = f"http://127.0.0.1:{port}"
    saved = dict(os.environ)
    os.environ.update(FAKE_CREDENTIALS)
    try:
        wait_until_up(f"{url}/moto-api/", moto)
        env = {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": url,
            "AWS_ENDPOINT_URL_COMPREHEND": comprehend.url,
            "AURASTREAM_BACKEND": "aws",
            "AURASTREAM_CACHE_TABLE": create_table(url, "bench-cache", ("text_hash",)),
            "AURASTREAM_JOBS_TABLE": create_table(
                url, "bench-jobs", ("pk", "sk"), ("owner-created-index", "owner", "created_at")
            ),
            "AURASTREAM_KEYS_TABLE": create_keys_table(url, "bench-keys"),
            "AURASTREAM_BUCKET": "bench-documents",
            "AURASTREAM_STATE_MACHINE_ARN": (
                "arn:aws:states:us-east-1:123456789012:stateMachine:bench"
            ),
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        import boto3

        boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(
            Bucket=env["AURASTREAM_BUCKET"]
        )
        os.environ.update(env)
        env["BENCH_API_KEY"] = _create_key()
        yield env
    finally:
        os.environ.clear()
        os.environ.update(saved)
        comprehend.stop()
        stop_process(moto)


def _create_key() -> str:
    from graphql_api.access import Limits, Scope
    from graphql_api.adapters.memory import InMemoryMetrics, SystemClock
    from graphql_api.bootstrap import build_access_service, build_access_store
    from graphql_api.settings import Settings

    settings = Settings()
    access = build_access_service(
        settings, build_access_store(settings), InMemoryMetrics(), SystemClock()
    )
    # Room for every benchmark request: the limits are checked, never reached.
    limits = Limits(rate_per_second=100_000, burst=100_000, daily_document_quota=10_000_000)
    created = asyncio.run(access.create_key("bench", list(Scope), name="bench", limits=limits))
    return created.key


def bench_aws(env: dict[str, str], rounds: int, per_round: int) -> None:
    from graphql_api.app import create_app
    from graphql_api.handler import build_handler
    from graphql_api.settings import Settings

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        app = create_app(Settings())
        handler = build_handler(app)
        quiet_logs()
        key = env["BENCH_API_KEY"]
        analyze = graphql_event(operation("Analyze"), key, **ANALYZE_VARIABLES)
        typename = graphql_event(TYPENAME, key)
        calls: dict[str, int] = {}

        def count(event_name: str, **_: Any) -> None:
            operation_name = event_name.rsplit(".", 1)[-1]
            calls[operation_name] = calls.get(operation_name, 0) + 1

        time_invocations(handler, analyze, 20)  # fills the cache; the clients exist
        time_invocations(handler, typename, 20)
        app.state.container.aws.get("dynamodb").meta.events.register("before-call.dynamodb", count)
        for event in (analyze, typename):
            calls.clear()
            time_invocations(handler, event, 10)
            per_request = {name: n / 10 for name, n in sorted(calls.items())}
            label = "analyze" if event is analyze else "typename"
            print(f"DynamoDB calls per request, {label}: {per_request}")
        figures = side_by_side(
            {
                "aws": (
                    lambda: time_invocations(handler, typename, per_round),
                    lambda: time_invocations(handler, analyze, per_round),
                )
            },
            rounds,
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    header("AWS backend (moto_server over HTTP), warm, with an API key")
    t, a = figures["aws"]
    row("cached `analyze` (anchor: `{ __typename }` on the same backend)",
        f"{t / 1000:.2f} ms", f"{a / 1000:.2f} ms", a / t, "<= 1.5x")  # fmt: skip


COLD_OURS = """
import json, sys, time
started = time.perf_counter()
from graphql_api.handler import handler
imported = time.perf_counter()
events, context = json.loads(sys.stdin.read())
context = type("Context", (), {**context, "get_remaining_time_in_millis": lambda self: 30000})()
for event in events:
    response = handler(event, context)
    assert response["statusCode"] == 200, response
done = time.perf_counter()
print(json.dumps([imported - started, done - started]))
"""

COLD_ANCHOR = """
import json, sys, time
started = time.perf_counter()
from bench.anchor import handler
imported = time.perf_counter()
events, context = json.loads(sys.stdin.read())
context = type("Context", (), {**context, "get_remaining_time_in_millis": lambda self: 30000})()
for event in events:
    response = handler(event, context)
    assert response["statusCode"] == 200, response
done = time.perf_counter()
print(json.dumps([imported - started, done - started]))
"""


def cold_start(code: str, events: list[dict[str, Any]], env: dict[str, str]) -> list[float]:
    context = json.loads((EVENTS / "lambda_context.json").read_text())
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps([events, context]), capture_output=True,
        text=True, check=True, cwd=ROOT, env={**os.environ, **env},
    )  # fmt: skip
    figures: list[float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def bench_cold(env: dict[str, str], repeats: int) -> None:
    key = env["BENCH_API_KEY"]
    lambda_env = {**env, "AWS_LAMBDA_FUNCTION_NAME": LAMBDA_NAME, "PYTHONPATH": str(ROOT)}
    ours_events = [v2_event(None)]
    anchor_events = [graphql_event("{ ok }"), graphql_event(anchor.MUTATION)]
    ours, bare = [], []
    for attempt in range(repeats):
        # A new text each time: a cold container's first analyze is rarely a cache hit.
        text = f"The support team was great! ({attempt} {time.time_ns()})"
        variables = {"input": {"documents": [{"id": "1", "text": text}]}}
        analyze = graphql_event(operation("Analyze"), key, **variables)
        bare.append(cold_start(COLD_ANCHOR, anchor_events, lambda_env))
        ours.append(cold_start(COLD_OURS, [*ours_events, analyze], lambda_env))
    header("Cold start, fresh interpreter, AWS_LAMBDA_FUNCTION_NAME set (median)")
    a_import = statistics.median(b[0] for b in bare) * 1000
    o_import = statistics.median(o[0] for o in ours) * 1000
    a_total = statistics.median(b[1] for b in bare) * 1000
    o_total = statistics.median(o[1] for o in ours) * 1000
    row("import of the handler module (and building the app)", f"{a_import:.0f} ms",
        f"{o_import:.0f} ms", o_import / a_import)  # fmt: skip
    row("import + first health + first analyze (anchor: two requests)", f"{a_total:.0f} ms",
        f"{o_total:.0f} ms", o_total / a_total, "<= 2x")  # fmt: skip
    print("\npackages loaded by the handler module (on Lambda the fallback model's warm-up "
          "thread adds numpy, py3langid and onnxruntime beside it):",
          " ".join(third_party_modules(lambda_env)))  # fmt: skip


def third_party_modules(env: dict[str, str]) -> list[str]:
    """The third-party top-level packages importing the handler loads (read, not guessed)."""
    code = (
        "import sys; before = set(sys.modules); import graphql_api.handler; "
        "names = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(' '.join(sorted(n for n in names if n != 'graphql_api' and "
        "'site-packages' in (getattr(sys.modules.get(n), '__file__', '') or ''))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, **env})  # fmt: skip
    return out.stdout.split()


# ---------------------------------------------------------------- 5, 6: HTTP


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(which: str, workers: int) -> Iterator[int]:
    """AuraStream's server (`aurastream serve`) or the anchor under the same uvicorn
    settings (uvloop and httptools are what uvicorn picks for both)."""
    port = free_port()
    data_dir = tempfile.mkdtemp()
    if which == "ours":
        command = [sys.executable, "-m", "graphql_api", "serve", "--port", str(port),
                   "--log-level", "warning", "--workers", str(workers)]  # fmt: skip
    else:
        command = [sys.executable, "-m", "uvicorn", "bench.anchor:app", "--port", str(port),
                   "--log-level", "warning", "--workers", str(workers), "--no-access-log",
                   "--loop", "uvloop", "--http", "httptools"]  # fmt: skip
    # Logs (AuraStream's access log line per request) are written, to /dev/null.
    process = subprocess.Popen(command, env={**os.environ, "AURASTREAM_DATA_DIR": data_dir},
                               cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(data_dir, ignore_errors=True)


def request_body(which: str) -> bytes:
    if which == "ours":
        body = {"query": operation("Analyze"), "variables": ANALYZE_VARIABLES}
    else:
        body = {"query": anchor.MUTATION}
    return json.dumps(body).encode()


def run_wrk(port: int, body: bytes, seconds: int, connections: int) -> dict[str, float]:
    wrk = shutil.which("wrk")
    assert wrk is not None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                     f"wrk.body = {json.dumps(body.decode())}\n")  # fmt: skip
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        subprocess.run([wrk, "-t1", "-c4", "-d1s", "-s", script.name, url],
                       capture_output=True, check=True)  # fmt: skip  # warm-up
        out = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name,
             url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    figures = {"rps": 0.0, "p99_ms": 0.0, "errors": 0.0}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(parts[1])
        elif parts[:1] == ["99%"]:
            figures["p99_ms"] = _ms(parts[1])
        elif line.strip().startswith("Non-2xx"):
            figures["errors"] = float(parts[-1])
    return figures


def _ms(text: str) -> float:
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise ValueError(text)


def bench_http(seconds: int, connections: int) -> None:
    header(f"HTTP, cached `analyze` (anchor: trivial mutation), wrk {connections} connections, "
           f"{seconds} s each")  # fmt: skip
    for workers in (1, 2):
        figures = {}
        for which in ("anchor", "ours"):
            with server(which, workers) as port:
                figures[which] = run_wrk(port, request_body(which), seconds, connections)
        a, o = figures["anchor"], figures["ours"]
        assert not a["errors"], figures
        assert not o["errors"], figures
        row(f"{workers} worker{'s' if workers > 1 else ''}: requests/s (p99)",
            f"{a['rps']:,.0f} ({a['p99_ms']:.1f} ms)", f"{o['rps']:,.0f} ({o['p99_ms']:.1f} ms)",
            o["rps"] / a["rps"], ">= 0.8x")  # fmt: skip


async def fixed_rate(port: int, body: bytes, rate: int, seconds: int) -> list[float]:
    """Latencies (ms) of `rate` requests a second for `seconds`, each timed from when it
    was due, over a pool of keep-alive connections (more are never needed at this rate
    unless the server stalls, and then the wait counts)."""
    request = (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(64):
        idle.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    clock = time.perf_counter  # uvloop's loop.time() moves in whole milliseconds
    latencies: list[float] = []

    async def one(due: float) -> None:
        reader, writer = await idle.get()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        latencies.append((clock() - due) * 1000)
        assert head.startswith(b"HTTP/1.1 200"), head
        idle.put_nowait((reader, writer))

    tasks = []
    start = clock() + 0.05
    for i in range(rate * seconds):
        due = start + i / rate
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait()[1].close()
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_fixed_rate(rate: int, seconds: int) -> None:
    import uvloop

    header(f"HTTP, fixed {rate:,} requests/s for {seconds} s, 1 worker, open loop")
    figures = {}
    for which in ("anchor", "ours"):
        with server(which, 1) as port:
            body = request_body(which)
            uvloop.run(fixed_rate(port, body, rate, 2))  # warm-up
            figures[which] = uvloop.run(fixed_rate(port, body, rate, seconds))
    for label, q, goal in (("p50", 0.5, ""), ("p99", 0.99, "<= 3 ms"),
                           ("p99.9", 0.999, "<= 10 ms")):  # fmt: skip
        a, o = percentile(figures["anchor"], q), percentile(figures["ours"], q)
        row(label, f"{a:.2f} ms", f"{o:.2f} ms", o / a, goal)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=300)
    parser.add_argument("--aws-per-round", type=int, default=30)
    parser.add_argument("--cold-repeats", type=int, default=3)
    parser.add_argument("--http-seconds", type=int, default=5)
    parser.add_argument("--http-connections", type=int, default=16)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--rate-seconds", type=int, default=15)
    parser.add_argument("--only", nargs="*", default=["lambda", "aws", "cold", "http", "rate"],
                        choices=["lambda", "aws", "cold", "http", "rate"])  # fmt: skip
    parser.add_argument("--skip-http", action="store_true", help="no wrk, no servers")
    args = parser.parse_args()
    only = set(args.only) - ({"http", "rate"} if args.skip_http else set())

    if "lambda" in only:
        bench_lambda(args.rounds, args.per_round)
    if only & {"aws", "cold"}:
        with emulated_aws() as env:
            if "aws" in only:
                bench_aws(env, args.rounds, args.aws_per_round)
            if "cold" in only:
                bench_cold(env, args.cold_repeats)
    if "http" in only:
        if shutil.which("wrk") is None:
            print("\nwrk not found: `apt-get install wrk` to measure HTTP throughput")
        else:
            bench_http(args.http_seconds, args.http_connections)
    if "rate" in only:
        bench_fixed_rate(args.rate, args.rate_seconds)


if __name__ == "__main__":
    main()
