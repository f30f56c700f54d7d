"""Speed of the embedded ONNX sentiment engine through its engine API.

    python bench/model_bench.py [--seconds 4] [--rounds 3] [--threads N]

Prints start-up time (construct + first call, in a fresh process), resident memory, the
speed and peak memory of scoring 50 long IMDB reviews (a fresh process), and short texts
per second through `OnnxSentimentEngine.analyze_batch` on an event loop:
one caller at batch 1, four concurrent callers at batch 1 (a server under load), and
one caller with batches of `max_batch_size`. For reference it also times one and four
callers at batch 1 with the single trip for one short text turned off (each call planned,
run and scored in three trips to the workers), and the bare model, `session.run` on one
pre-tokenised text, with one and with two onnxruntime threads.
The measurements are interleaved over `--rounds` rounds and each figure is its best
round, so a noisy neighbour on a shared machine affects all of them alike.
Short texts are one-sentence movie-review snippets of typical length (6 to 20 words).
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
from collections.abc import Callable
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


LONG_REVIEWS_SNIPPET = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from graphql_api.adapters.local.model_engine import OnnxSentimentEngine
engine = OnnxSentimentEngine(threads={threads})
lines = open({holdout!r}, encoding="utf-8").read().splitlines()
reviews = [r["text"] for r in map(json.loads, lines) if r["source"] == "imdb"][:50]
engine.predict(reviews[:1])
t = time.perf_counter()
for start in range(0, len(reviews), 25):
    engine.predict(reviews[start : start + 25])
seconds = time.perf_counter() - t
print(len(reviews) / seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def fresh_process(snippet: str, threads: int | None, **fields: str) -> tuple[float, float]:
    """The two figures a snippet prints, run in a fresh interpreter (cold caches, own RSS)."""
    code = snippet.format(root=str(ROOT), threads=threads, **fields)
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def long_reviews(threads: int | None) -> tuple[float, float]:
    """Reviews/s and peak resident memory scoring 50 IMDB reviews in batches of 25."""
    holdout = str(ROOT / "tests/data/model_holdout.jsonl")
    return fresh_process(LONG_REVIEWS_SNIPPET, threads, holdout=holdout)


def startup(threads: int | None) -> tuple[float, float]:
    """Best start-up time and highest resident memory over three fresh processes."""
    runs = [fresh_process(STARTUP_SNIPPET, threads) for _ in range(3)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


async def throughput(
    engine, texts: list[str], batch: int, seconds: float, callers: int = 1
) -> float:
    """Texts per second with `callers` concurrent callers sending `batch` texts a call."""
    done, start = 0, time.perf_counter()

    async def caller(offset: int) -> None:
        nonlocal done
        i = offset
        while time.perf_counter() - start < seconds:
            await engine.analyze_batch([texts[(i + k) % len(texts)] for k in range(batch)], "en")
            i += batch * callers
            done += batch

    await asyncio.gather(*(caller(c * batch) for c in range(callers)))
    return done / (time.perf_counter() - start)


def in_three_trips(measure: Callable[[], float]) -> Callable[[], float]:
    """`measure` with every call taking the engine's three-trip path."""
    from graphql_api.adapters.local import model_engine

    def run() -> float:
        saved = model_engine._ONE_TRIP_CHARS
        model_engine._ONE_TRIP_CHARS = -1
        try:
            return measure()
        finally:
            model_engine._ONE_TRIP_CHARS = saved

    return run


def bare_model(texts: list[str], threads: int, seconds: float) -> float:
    """Texts per second of `session.run` alone, batch 1, `threads` onnxruntime threads."""
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from graphql_api.adapters.local.model_engine import DEFAULT_MODEL_DIR

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(
        str(DEFAULT_MODEL_DIR / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )
    tokenizer = Tokenizer.from_file(str(DEFAULT_MODEL_DIR / "tokenizer.json"))
    inputs = []
    for encoding in tokenizer.encode_batch(texts[:500]):  # adds [CLS] and [SEP]
        ids = np.array([encoding.ids], dtype=np.int64)
        inputs.append({"input_ids": ids, "attention_mask": np.ones_like(ids)})
    session.run(None, inputs[0])
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.run(None, inputs[done % len(inputs)])
        done += 1
    return done / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=4.0, help="per measurement and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    from graphql_api.adapters.local.model_engine import OnnxSentimentEngine

    start_s, start_rss = startup(args.threads)
    reviews_per_second, reviews_rss = long_reviews(args.threads)
    engine = OnnxSentimentEngine(threads=args.threads)
    texts = short_texts(5000)
    batch = engine.max_batch_size
    engine.predict(texts[:200])  # load and warm up

    def one_caller() -> float:
        return asyncio.run(throughput(engine, texts, 1, args.seconds))

    def four_callers() -> float:
        return asyncio.run(throughput(engine, texts, 1, args.seconds, callers=4))

    measures = {
        "engine_batch_1": one_caller,
        "engine_batch_1_four_callers": four_callers,
        f"engine_batch_{batch}": lambda: asyncio.run(
            throughput(engine, texts, batch, args.seconds)
        ),
        "engine_batch_1_three_trips": in_three_trips(one_caller),
        "engine_batch_1_four_callers_three_trips": in_three_trips(four_callers),
        "bare_session_run_batch_1_one_thread": lambda: bare_model(texts, 1, args.seconds),
        "bare_session_run_batch_1_two_threads": lambda: bare_model(texts, 2, args.seconds),
    }
    best = dict.fromkeys(measures, 0.0)
    engine_rss = 0.0
    for _ in range(args.rounds):
        for name, measure in measures.items():
            if name.startswith("bare") and not engine_rss:  # before other sessions exist
                engine_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            best[name] = max(best[name], measure())
    result = {
        "engine": engine.identity,
        "startup_seconds": round(start_s, 3),
        "startup_rss_mb": round(start_rss, 1),
        "short_texts_per_second": {name: round(value, 1) for name, value in best.items()},
        # The speed table's row: the engine at batch 1 against its bare `session.run`.
        "ratio_engine_batch_1_to_bare_session_run": round(
            best["engine_batch_1"] / best["bare_session_run_batch_1_one_thread"], 2
        ),
        "rss_mb_after_engine_measures": round(engine_rss, 1),
        "long_reviews_per_second_batches_of_25": round(reviews_per_second, 1),
        "peak_rss_mb_scoring_long_reviews": round(reviews_rss, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
