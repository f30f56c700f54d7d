"""Latency of GraphQL `analyze` for 25 new short texts per request, with the embedded model.

Each request carries 25 texts never seen before (no cache hits), through the in-process
Lambda handler with an API Gateway v2 event. Prints p50 and p99 over the requests.
Run with `python bench/analyze_latency.py` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.model_bench import short_texts  # noqa: E402
from tests.support import EVENTS, LambdaContext, operation  # noqa: E402


def main(requests: int) -> None:
    from graphql_api.app import create_app
    from graphql_api.handler import build_handler
    from graphql_api.settings import Settings

    handler = build_handler(create_app(Settings(data_dir=Path(tempfile.mkdtemp()))))
    context = LambdaContext(**json.loads((EVENTS / "lambda_context.json").read_text()))
    texts = short_texts(25 * (requests + 1))
    timings = []
    for index in range(requests + 1):
        batch = texts[25 * index : 25 * (index + 1)]
        event = json.loads((EVENTS / "http_api_v2.json").read_text())
        documents = [
            # A unique tag inside the sentence keeps every text new and still one sentence.
            {"text": f"{text[:-1]} (take {index}-{n}).", "languageCode": "en"}
            for n, text in enumerate(batch)
        ]
        event["body"] = json.dumps(
            {"query": operation("Analyze"), "variables": {"input": {"documents": documents}}}
        )
        started = time.perf_counter()
        response = handler(event, context)
        elapsed = (time.perf_counter() - started) * 1_000
        assert response["statusCode"] == 200
        if index:  # the first request loads the model
            timings.append(elapsed)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(
        f"analyze, 25 new short texts per request, {requests} requests: "
        f"p50 {statistics.median(timings):.1f} ms, p99 {p99:.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    main(parser.parse_args().requests)
