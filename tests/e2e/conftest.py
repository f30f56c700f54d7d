import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import Browser
from tests.support import stop_process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


class Server:
    """`aurastream serve` in a subprocess on a free loopback port, stopped by its PID."""

    def __init__(self, data_dir: Path, log: Path | None = None, **env: str) -> None:
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "AURASTREAM_DATA_DIR": str(data_dir), **env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Server":
        command = [
            sys.executable,
            "-m",
            "graphql_api",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        output = self.log.open("ab") if self.log else None
        self.process = subprocess.Popen(
            command, env=self.env, stdout=output, stderr=subprocess.STDOUT if output else None
        )
        if output is not None:
            output.close()  # the child holds its own copy
        wait_until_up(f"{self.url}/v1/health/live", self.process)
        return self

    def kill(self) -> None:
        """Stop at once, as a crash would: no shutdown hooks run."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = Server(tmp_path_factory.mktemp("server-data")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium with every host name but localhost unresolvable."""
    with Browser(offline=True) as running:
        yield running
