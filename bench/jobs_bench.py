"""A 10,000-document job end to end on the embedded defaults: time and documents per second.

The job is submitted inline and run by the in-process runner over SQLite records and files,
with a cold cache, then again with the same documents (all cache hits). The engine is the
configured one (the embedded model by default; AURASTREAM_ENGINE=lexicon for VADER). Run
with `make bench` or `python bench/jobs_bench.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graphql_api.bootstrap import bootstrap  # noqa: E402
from graphql_api.domain.results import DocumentRequest  # noqa: E402
from graphql_api.services.jobs import JobRequest  # noqa: E402
from graphql_api.settings import Settings  # noqa: E402

MOODS = [
    "The staff were friendly and the room was spotless.",
    "Terrible service, we waited an hour and nobody apologised.",
    "The parcel arrived on Tuesday as planned.",
    "Great food but the music was far too loud.",
]


def documents(count: int) -> list[DocumentRequest]:
    return [DocumentRequest(f"Review {i}: {MOODS[i % 4]}", "en", f"r{i}") for i in range(count)]


async def run_job(count: int, data_dir: Path, label: str) -> None:
    container = bootstrap(Settings(data_dir=data_dir))
    started = time.perf_counter()
    job = await container.jobs.submit(JobRequest("bench", documents=documents(count)))
    await container.jobs.runner.wait(job.id)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    done = await container.jobs.get(job.id, "bench")
    engine = container.engine.identity
    container.close()
    print(f"{engine}: ", end="")
    print(
        f"{label:28s} {done.status.value:9s} {done.processed:6d} documents in {elapsed:6.2f} s "
        f"= {done.processed / elapsed:8.0f} documents/s"
    )


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        await run_job(count, data_dir, "cold cache")
        await run_job(count, data_dir, "warm cache (SQLite store)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().documents))
