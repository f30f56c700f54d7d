"""Core benchmarks, measured side by side in one run (the machine is shared and noisy).

1. A warm in-process Lambda invocation of a cached `analyze` against a bare
   Strawberry + Mangum trivial mutation with the same parser and validation caches.
2. The import time of the handler module against its dependencies' imports.
3. HTTP throughput of cached `analyze` on the local server, driven by wrk.

Run with `make bench` (or `python bench/core_bench.py --skip-http` without wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import EVENTS, LambdaContext, operation  # noqa: E402

ANALYZE_VARIABLES = {"input": {"documents": [{"id": "1", "text": "The support team was great!"}]}}


def v2_event(body: dict[str, Any]) -> dict[str, Any]:
    event = json.loads((EVENTS / "http_api_v2.json").read_text())
    event["body"] = json.dumps(body)
    return event


def bare_handler() -> Any:
    import strawberry
    from mangum import Mangum
    from strawberry.asgi import GraphQL
    from strawberry.extensions import ParserCache, ValidationCache

    @strawberry.type
    class Query:
        ok: bool = True

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        def echo(self, text: str) -> str:
            return text

    schema = strawberry.Schema(
        query=Query, mutation=Mutation, extensions=[ParserCache, ValidationCache]
    )
    return Mangum(GraphQL(schema), lifespan="off")


def aurastream_handler(data_dir: Path) -> Any:
    from graphql_api.app import create_app
    from graphql_api.handler import build_handler
    from graphql_api.settings import Settings

    return build_handler(create_app(Settings(data_dir=data_dir)))


def time_invocations(handler: Any, event: dict[str, Any], count: int) -> float:
    context = LambdaContext(**json.loads((EVENTS / "lambda_context.json").read_text()))
    started = time.perf_counter()
    for _ in range(count):
        response = handler(event, context)
    elapsed = time.perf_counter() - started
    assert response["statusCode"] == 200, response
    return elapsed / count * 1e6


def bench_lambda(rounds: int, per_round: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as data_dir:
        ours = aurastream_handler(Path(data_dir))
        bare = bare_handler()
        ours_event = v2_event({"query": operation("Analyze"), "variables": ANALYZE_VARIABLES})
        bare_event = v2_event({"query": 'mutation { echo(text: "The support team was great!") }'})
        time_invocations(ours, ours_event, 200)  # warm: fills the result cache too
        time_invocations(bare, bare_event, 200)
        ours_us, bare_us = [], []
        for _ in range(rounds):  # interleaved so both see the same machine load
            ours_us.append(time_invocations(ours, ours_event, per_round))
            bare_us.append(time_invocations(bare, bare_event, per_round))
    ours_median, bare_median = statistics.median(ours_us), statistics.median(bare_us)
    return {"cached_analyze_us": ours_median, "bare_mutation_us": bare_median,
            "ratio": ours_median / bare_median}  # fmt: skip


def import_seconds(statement: str, repeats: int) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(repeats):
        env = {**os.environ, "AURASTREAM_DATA_DIR": tempfile.mkdtemp()}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd=ROOT, env=env)  # fmt: skip
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def third_party_modules() -> list[str]:
    """The third-party top-level packages importing the handler loads (read, not guessed)."""
    code = (
        "import sys, sysconfig; before = set(sys.modules); import graphql_api.handler; "
        "stdlib = sysconfig.get_paths()['stdlib']; "
        "names = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(' '.join(sorted(n for n in names if n != 'graphql_api' and "
        "'site-packages' in (getattr(sys.modules.get(n), '__file__', '') or ''))))"
    )
    env = {**os.environ, "AURASTREAM_DATA_DIR": tempfile.mkdtemp()}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    )
    return out.stdout.split()


def bench_imports(repeats: int) -> dict[str, float]:
    modules = third_party_modules()
    figures = {
        f"{len(modules)} third-party packages it loads": import_seconds(
            "import " + ", ".join(modules), repeats
        ),
        "graphql_api.handler (imports + app built)": import_seconds(
            "import graphql_api.handler", repeats
        ),
    }
    print("packages:", " ".join(modules))
    return figures


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_http(duration: int, connections: int, workers: int) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        return "wrk not found: `apt-get install wrk` to measure HTTP throughput"
    port = free_port()
    data_dir = tempfile.mkdtemp()
    body = json.dumps({"query": operation("Analyze"), "variables": ANALYZE_VARIABLES})
    script = Path(data_dir) / "analyze.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body)}\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "graphql_api", "serve", "--port", str(port), "--log-level",
         "warning", "--workers", str(workers)],
        env={**os.environ, "AURASTREAM_DATA_DIR": data_dir}, cwd=ROOT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        subprocess.run([wrk, "-t1", "-c4", "-d2s", "-s", str(script), url],
                       capture_output=True, check=True)  # fmt: skip  # warm-up
        result = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script),
             url],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return result.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=300)
    parser.add_argument("--import-repeats", type=int, default=5)
    parser.add_argument("--http-seconds", type=int, default=10)
    parser.add_argument("--http-connections", type=int, default=16)
    parser.add_argument("--http-workers", type=int, default=2)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    print("## Warm Lambda invocation (in process, API Gateway v2 event)")
    lam = bench_lambda(args.rounds, args.per_round)
    print(f"cached analyze:           {lam['cached_analyze_us']:8.0f} us")
    print(f"bare Strawberry mutation: {lam['bare_mutation_us']:8.0f} us")
    print(f"ratio:                    {lam['ratio']:8.2f}x (goal <= 1.5x)")

    print("\n## Import time (fresh interpreter, median)")
    for name, seconds in bench_imports(args.import_repeats).items():
        print(f"{name:44s} {seconds * 1000:7.1f} ms")

    if not args.skip_http:
        workers, connections = args.http_workers, args.http_connections
        print(
            f"\n## HTTP: cached analyze on the local server ({workers} uvicorn workers, "
            f"{connections} connections)"
        )
        print(bench_http(args.http_seconds, connections, workers))


if __name__ == "__main__":
    main()
