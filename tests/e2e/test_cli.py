"""Every `aurastream` operating command against a live local server."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("cli-server")).start()
    yield server
    server.stop()


def cli(server: Server, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AURASTREAM_URL": server.url}
    return subprocess.run(
        [sys.executable, "-m", "graphql_api", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_health_exits_zero_when_healthy_and_prints_a_table(server):
    done = cli(server, "health")

    assert done.returncode == 0, done.stderr
    assert "engine" in done.stdout
    assert "healthy" in done.stdout


def test_health_exits_non_zero_when_the_api_cannot_be_reached(server):
    env = {**os.environ, "AURASTREAM_URL": "http://127.0.0.1:9"}
    done = subprocess.run(
        [sys.executable, "-m", "graphql_api", "health"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert "Cannot read health" in done.stderr


def test_analyze_texts_from_arguments_as_json(server):
    done = cli(server, "analyze", "I adore this", "This is dreadful", "--json")

    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["sentiment"] for r in results] == ["POSITIVE", "NEGATIVE"]


def test_analyze_a_file_in_batches(server, tmp_path: Path):
    reviews = tmp_path / "reviews.csv"
    rows = [f'{i},"Review {i}: {"great" if i % 2 else "awful"} stay"' for i in range(250)]
    reviews.write_text("id,body\n" + "\n".join(rows) + "\n")

    done = cli(server, "analyze", "--file", str(reviews), "--text-column", "body", "--json")

    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == 250  # three calls of at most 100 under the hood
    assert results[1]["id"] == "1"
    assert results[1]["sentiment"] == "POSITIVE"


def test_jobs_submit_wait_show_and_list(server, tmp_path: Path):
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(f"Order {i} arrived, lovely" for i in range(60)) + "\n")

    submitted = cli(server, "jobs", "submit", str(texts), "--wait", "--json")
    job = json.loads(submitted.stdout)
    shown = json.loads(cli(server, "jobs", "show", job["id"], "--json").stdout)
    listed = json.loads(cli(server, "jobs", "list", "--json").stdout)
    table = cli(server, "jobs", "list").stdout

    assert job["status"] == "SUCCEEDED"
    assert job["progress"]["processed"] == 60
    assert shown["id"] == job["id"]
    assert job["id"] in [j["id"] for j in listed]
    assert job["id"][:8] in table


def test_cache_warm_then_stats_then_clear(server, tmp_path: Path):
    popular = tmp_path / "popular.txt"
    popular.write_text("Fast delivery\nFriendly staff\nFast delivery again\n")

    warmed = json.loads(cli(server, "cache", "warm", str(popular), "--json").stdout)
    again = json.loads(cli(server, "cache", "warm", str(popular), "--json").stdout)
    stats = json.loads(cli(server, "cache", "stats", "--json").stdout)
    refused = cli(server, "cache", "clear", stdin="n\n")
    cleared = json.loads(cli(server, "cache", "clear", "--yes", "--json").stdout)
    after = json.loads(cli(server, "cache", "stats", "--json").stdout)

    assert warmed == {"documents": 3, "alreadyCached": 0, "warmed": 3, "failed": 0}
    assert again["alreadyCached"] == 3
    assert stats["entries"] >= 3
    assert stats["hits"] >= 3
    assert refused.returncode == 1  # the confirmation was declined: nothing deleted
    assert cleared["deleted"] >= 3
    assert after["entries"] == 0
    assert after["memoryEntries"] == 0


def test_api_errors_carry_their_code_and_a_non_zero_exit(server):
    done = cli(server, "jobs", "show", "no-such-job")

    assert done.returncode == 2
    assert "NOT_FOUND" in done.stderr
