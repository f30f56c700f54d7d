"""Measure the shipped model through AuraStream's runtime engine on the held-out split.

    python training/evaluate.py --model graphql_api/adapters/local/model

Scores the test split recorded in training/splits.json (never seen by training or
model selection) with OnnxSentimentEngine, exactly as the API would, and prints binary
accuracy (positive score above negative score) per source, the label mix and the
calibration error. `--write-holdout` also writes the fixed regression sample used by
tests/unit/test_model_engine.py, with its own accuracy figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from train import SEED, load_rows  # noqa: E402

from graphql_api.adapters.local.model_engine import OnnxSentimentEngine  # noqa: E402
from graphql_api.domain.results import Analysis  # noqa: E402


def score(engine: OnnxSentimentEngine, texts: list[str], labels: list[int]) -> dict:
    t0 = time.perf_counter()
    outcomes = []
    for s in range(0, len(texts), engine.max_batch_size):
        outcomes += engine.predict(texts[s : s + engine.max_batch_size])
    seconds = time.perf_counter() - t0
    assert all(isinstance(o, Analysis) for o in outcomes)
    pos = np.array([o.scores.positive for o in outcomes])
    neg = np.array([o.scores.negative for o in outcomes])
    y = np.array(labels)
    pred = (pos > neg).astype(int)
    # Calibration of the binary verdict: P(positive | not neutral, not mixed).
    p = pos / np.maximum(pos + neg, 1e-12)
    conf = np.maximum(p, 1 - p)
    correct = (pred == y).astype(float)
    edges = np.linspace(0.5, 1.0, 11)
    ece = 0.0
    for i in range(10):
        sel = (conf >= edges[i]) & (conf <= edges[i + 1] if i == 9 else conf < edges[i + 1])
        if sel.any():
            ece += sel.mean() * abs(conf[sel].mean() - correct[sel].mean())
    labels_mix: dict[str, int] = {}
    for o in outcomes:
        labels_mix[o.sentiment.value] = labels_mix.get(o.sentiment.value, 0) + 1
    return {
        "n": len(texts),
        "accuracy": round(float(correct.mean()), 4),
        "ece": round(float(ece), 4),
        "labels": labels_mix,
        "seconds": round(seconds, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", type=Path, default=ROOT / "graphql_api/adapters/local/model")
    ap.add_argument("--splits", nargs="*", default=["rt_test", "imdb_test"])
    ap.add_argument("--write-holdout", type=Path, help="write the regression sample here (jsonl)")
    ap.add_argument("--out", type=Path, help="also write the figures here (json)")
    args = ap.parse_args()

    manifest = json.loads((HERE / "splits.json").read_text())
    rows = load_rows()
    engine = OnnxSentimentEngine(args.model)
    results = {"engine": engine.identity}
    for name in args.splits:
        idx = manifest["splits"][name]
        results[name] = score(
            engine, [rows[i]["text"] for i in idx], [rows[i]["label"] for i in idx]
        )
        print(name, json.dumps(results[name]), flush=True)

    if args.write_holdout:
        rng = np.random.default_rng(SEED)
        sample = []
        for name, n, source in (("rt_test", 300, "rotten_tomatoes"), ("imdb_test", 60, "imdb")):
            idx = manifest["splits"][name]
            for i in sorted(rng.choice(idx, size=n, replace=False).tolist()):
                sample.append(
                    {"row": i, "source": source, "label": rows[i]["label"], "text": rows[i]["text"]}
                )
        args.write_holdout.parent.mkdir(parents=True, exist_ok=True)
        with args.write_holdout.open("w", encoding="utf-8") as f:
            for item in sample:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
        for source in ("rotten_tomatoes", "imdb"):
            part = [s for s in sample if s["source"] == source]
            results[f"holdout_{source}"] = score(
                engine, [s["text"] for s in part], [s["label"] for s in part]
            )
            print(f"holdout_{source}", json.dumps(results[f"holdout_{source}"]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
