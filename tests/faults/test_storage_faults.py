"""Storage faults on the local backend: a read-only data directory, a full disk, a damaged
cache file. The server runs as a subprocess, as operators run it, so a crash would show."""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import httpx
import pytest

from graphql_api.app import create_app
from graphql_api.bootstrap import bootstrap
from graphql_api.settings import Settings
from tests.e2e.conftest import Server, wait_until_up
from tests.support import AsgiTransport, chattr, operation, post_graphql

SUBMIT = "mutation Submit($input: SubmitJobInput!) { submitJob(input: $input) { id status } }"
CACHE_STATS = "{ cacheStats { enabled entries storeAvailable errors } }"
#: Short probe caching, so a test sees each change after one failure interval.
FAST_HEALTH = {
    "AURASTREAM_ENGINE": "lexicon",
    "AURASTREAM_HEALTH_CACHE_SECONDS": "0.2",
    "AURASTREAM_HEALTH_FAILURE_CACHE_SECONDS": "0.2",
}
T = TypeVar("T")


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables or {}})
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def analyze(url: str, text: str) -> dict[str, Any]:
    variables = {"input": {"documents": [{"id": "1", "text": text, "languageCode": "en"}]}}
    body = graphql(url, operation("Analyze"), variables)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["analyze"]["results"][0]
    return result


def submit(url: str) -> dict[str, Any]:
    documents = [{"id": "1", "text": "good"}, {"id": "2", "text": "bad"}]
    return graphql(url, SUBMIT, {"input": {"documents": documents}})


def health(url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{url}/v1/health", timeout=10).json()
    return body


def eventually(check: Callable[[], T], done: Callable[[T], bool], seconds: float = 20) -> T:
    """The first answer that is `done`, asking every 0.1 s until the deadline (then the last
    answer, for the assertion to show): recovery is awaited, never timed on a fast machine."""
    deadline = time.monotonic() + seconds
    answer = check()
    while not done(answer) and time.monotonic() < deadline:
        time.sleep(0.1)
        answer = check()
    return answer


def healthy(report: dict[str, Any]) -> bool:
    return report["status"] == "healthy"


def stored(body: dict[str, Any]) -> bool:
    return "errors" not in body


@pytest.mark.slow
def test_a_read_only_data_directory_is_served_and_recovers_once_writable(immutable, tmp_path):
    server = Server(immutable, tmp_path / "server.log", **FAST_HEALTH).start()
    try:
        url = server.url
        assert analyze(url, "A good start")["error"] is None
        assert "errors" not in submit(url)
    finally:
        server.stop()

    chattr("+i", immutable)
    server.start()  # no SIGBUS: the stores open read-only, without WAL's shared memory
    try:
        url = server.url
        cached = analyze(url, "A good start")
        assert cached["error"] is None
        assert cached["cached"]
        assert analyze(url, "A new text")["error"] is None  # uncached: not written, answered
        refused = submit(url)
        assert refused["errors"][0]["extensions"]["code"] == "STORAGE_UNAVAILABLE"
        report = health(url)
        assert report["status"] == "degraded"
        assert report["components"]["cache"] == "degraded"
        assert report["components"]["jobs"] == "degraded"

        chattr("-i", immutable)

        assert stored(eventually(lambda: submit(url), stored))
        assert healthy(eventually(lambda: health(url), healthy))
    finally:
        server.stop()
        assert server.process is not None
        assert server.process.returncode in (0, -15)


class FullDiskServer(Server):
    """The server with its data directory on a 2 MB tmpfs of its own mount namespace, which
    the test fills and empties through /proc/<pid>/root."""

    def start(self) -> FullDiskServer:
        data_dir = self.env["AURASTREAM_DATA_DIR"]
        command = [
            "unshare", "-m", "--", "sh", "-c",
            'mount -t tmpfs -o size=2m tmpfs "$0" && exec "$@"', data_dir,
            sys.executable, "-m", "graphql_api", "serve",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
        ]  # fmt: skip
        output = self.log.open("ab") if self.log else None
        self.process = subprocess.Popen(command, env=self.env, stdout=output, stderr=output)
        if output is not None:
            output.close()
        wait_until_up(f"{self.url}/v1/health/live", self.process)
        return self

    @property
    def disk(self) -> Path:
        assert self.process is not None
        return Path(f"/proc/{self.process.pid}/root{self.env['AURASTREAM_DATA_DIR']}")


def fill(directory: Path) -> Path:
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb") as out:
        while _written(out, chunk):
            pass
    return filler


def _written(out: BinaryIO, chunk: bytes) -> bool:
    """Write and flush; False once the disk is full (any other error propagates)."""
    try:
        out.write(chunk)
        out.flush()
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        return False
    return True


@pytest.fixture
def full_disk_server(tmp_path: Path) -> Iterator[FullDiskServer]:
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    probe = subprocess.run(
        ["unshare", "-m", "--", "sh", "-c", f"mount -t tmpfs tmpfs {tmp_path}"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("no permission to mount a tmpfs in a mount namespace")
    data = tmp_path / "data"
    data.mkdir()
    server = FullDiskServer(data, tmp_path / "server.log", **FAST_HEALTH)
    yield server
    server.stop()


@pytest.mark.slow
def test_a_full_disk_gives_storage_unavailable_and_degraded_health(full_disk_server):
    url = full_disk_server.start().url
    assert analyze(url, "A good start")["error"] is None
    assert "errors" not in submit(url)
    assert healthy(eventually(lambda: health(url), healthy))

    filler = fill(full_disk_server.disk)
    try:
        refused = submit(url)
        assert refused["errors"][0]["extensions"]["code"] == "STORAGE_UNAVAILABLE"
        assert analyze(url, "Another good text")["error"] is None  # answered, not stored
        report = eventually(lambda: health(url), lambda r: r["status"] == "degraded")
        assert report["status"] == "degraded"
        assert report["components"]["cache"] == "degraded"
        assert report["components"]["jobs"] == "degraded"
    finally:
        filler.unlink()

    assert stored(eventually(lambda: submit(url), stored))
    assert healthy(eventually(lambda: health(url), healthy))
    assert full_disk_server.process is not None
    assert full_disk_server.process.poll() is None


def test_a_damaged_cache_file_leaves_analysis_and_cache_stats_answering(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", engine="lexicon")
    settings.data_dir.mkdir()
    settings.cache_path.write_bytes(b"this is not a database" * 100)
    container = bootstrap(settings)
    client = AsgiTransport(create_app(container=container))
    try:
        variables = {"input": {"documents": [{"id": "1", "text": "good", "languageCode": "en"}]}}
        analyzed = post_graphql(client, operation("Analyze"), variables).json()
        assert analyzed["data"]["analyze"]["results"][0]["error"] is None

        stats = post_graphql(client, CACHE_STATS).json()
        assert "errors" not in stats, stats
        assert stats["data"]["cacheStats"]["storeAvailable"] is False
        assert stats["data"]["cacheStats"]["entries"] is None
        assert stats["data"]["cacheStats"]["errors"] >= 1

        report = client.request("GET", "/v1/health").json()
        assert report["components"]["cache"] == "degraded"
        assert report["status"] == "degraded"
    finally:
        container.close()
