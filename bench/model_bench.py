"""Speed of the embedded ONNX sentiment engine through its engine API.

    python bench/model_bench.py [--seconds 10] [--threads N]

Prints start-up time (construct + first call, in a fresh process), resident memory,
and short texts per second at batch 1 and in batches of `max_batch_size`, both through
`OnnxSentimentEngine.analyze_batch` on an event loop. Short texts are one-sentence
movie-review snippets of typical length (6 to 20 words).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_OPENERS = [
    "The film",
    "This movie",
    "Its second half",
    "The lead performance",
    "The script",
    "Every scene",
    "The soundtrack",
    "The final act",
    "The direction",
    "The cast",
]
_VERDICTS = [
    "is a joy to watch",
    "falls completely flat",
    "feels oddly familiar",
    "is sharp, funny and surprisingly moving",
    "drags on far too long",
    "never quite finds its footing",
    "is a triumph of style over substance",
    "will stay with you for days",
    "is a tedious, muddled mess",
    "works better than it has any right to",
]
_TAILS = [
    "",
    " despite a weak start",
    " and the audience knows it",
    " from the first minute",
    " in spite of its modest budget",
    " thanks to a clever twist",
]


def short_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(_OPENERS)} {rng.choice(_VERDICTS)}{rng.choice(_TAILS)}." for _ in range(n)
    ]


STARTUP_SNIPPET = """
import time, resource, sys
t = time.perf_counter()
sys.path.insert(0, {root!r})
from graphql_api.adapters.local.model_engine import OnnxSentimentEngine
engine = OnnxSentimentEngine(threads={threads})
engine.predict(["A fine start."])
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def startup(threads: int | None) -> tuple[float, float]:
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", STARTUP_SNIPPET.format(root=str(ROOT), threads=threads)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        runs.append((float(out[0]), float(out[1])))
    return min(r[0] for r in runs), max(r[1] for r in runs)


async def throughput(engine, texts: list[str], batch: int, seconds: float) -> float:
    for s in range(0, min(len(texts), 200), batch):  # warm-up
        await engine.analyze_batch(texts[s : s + batch], "en")
    done, start, i = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        chunk = [texts[(i + k) % len(texts)] for k in range(batch)]
        i += batch
        await engine.analyze_batch(chunk, "en")
        done += batch
    return done / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    from graphql_api.adapters.local.model_engine import OnnxSentimentEngine

    start_s, start_rss = startup(args.threads)
    engine = OnnxSentimentEngine(threads=args.threads)
    texts = short_texts(5000)
    single = asyncio.run(throughput(engine, texts, 1, args.seconds))
    batched = asyncio.run(throughput(engine, texts, engine.max_batch_size, args.seconds))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "engine": engine.identity,
        "startup_seconds": round(start_s, 3),
        "startup_rss_mb": round(start_rss, 1),
        "short_texts_per_second_batch_1": round(single, 1),
        f"short_texts_per_second_batch_{engine.max_batch_size}": round(batched, 1),
        "rss_mb_after_bench": round(rss, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
