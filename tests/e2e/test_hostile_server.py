"""The hostile corpus against real servers: the local one (introspection off, as on AWS) and
one that requires keys (with a full key); and what only a running process shows: jobs that
always end, a flat RSS under distinct large queries, and JSON for requests uvicorn itself
cannot parse."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, free_port, wait_until_up
from tests.e2e.test_access_over_http import create_key
from tests.hostile import (
    CASES,
    Case,
    check_case,
    check_invariants,
    codes,
    inbox,
    send,
    symlink_loop,
)
from tests.support import Reply, stop_process


class HttpTransport:
    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.name = "server"
        self.client = httpx.Client(base_url=url, timeout=30)
        self.extra = headers or {}

    def request(self, method, path, *, body=b"", headers=None, query=""):
        url = f"{path}?{query}" if query else path
        merged = {**(headers or {}), **self.extra}
        response = self.client.request(method, url, content=body, headers=merged)
        return Reply(response.status_code, dict(response.headers), response.content)


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Iterator[tuple[HttpTransport, Path, Server]]:
    data_dir = tmp_path_factory.mktemp("hostile-server")
    server = Server(data_dir, AURASTREAM_INTROSPECTION="false").start()
    try:
        yield HttpTransport(server.url), data_dir, server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def keyed(tmp_path_factory) -> Iterator[tuple[HttpTransport, Path]]:
    data_dir = tmp_path_factory.mktemp("hostile-keyed")
    key = create_key(data_dir, "acme", "analyze,jobs,ops", "--rate", "1000", "--burst", "1000")
    server = Server(data_dir, AURASTREAM_AUTH="required", AURASTREAM_INTROSPECTION="false")
    server.start()
    try:
        yield HttpTransport(server.url, {"x-api-key": key["key"]}), data_dir
    finally:
        server.stop()


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.kind}:{case.name}")
def test_the_local_server_answers_hostile_requests_with_a_stable_code(local, case: Case):
    transport, data_dir, _ = local
    if case.setup is not None:
        case.setup(data_dir)

    reply, seconds = send(transport, case)

    check_case(case, reply, seconds, data_dir)


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.kind}:{case.name}")
def test_a_keys_required_server_answers_hostile_requests_with_a_stable_code(keyed, case: Case):
    transport, data_dir = keyed
    if case.setup is not None:
        case.setup(data_dir)

    reply, seconds = send(transport, case)

    check_case(case, reply, seconds, data_dir)


SUBMIT = "mutation($i: SubmitJobInput!) { submitJob(input: $i) { id status } }"
JOB = """query($id: ID!) {
  job(id: $id) { status error results { edges { node { error { code } } } } }
}"""


def graphql(transport: HttpTransport, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables}).encode()
    started = time.perf_counter()
    reply = transport.request(
        "POST", "/graphql", body=body, headers={"content-type": "application/json"}
    )
    answer: dict[str, Any] = check_invariants(reply, time.perf_counter() - started)
    return answer


def run_job(transport: HttpTransport, job_input: dict[str, Any]) -> dict[str, Any]:
    submitted = graphql(transport, SUBMIT, {"i": job_input})
    assert "errors" not in submitted, submitted
    job_id = submitted["data"]["submitJob"]["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = graphql(transport, JOB, {"id": job_id})["data"]["job"]
        if job["status"] in {"SUCCEEDED", "PARTIAL", "FAILED"}:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['status']} after 60 s")


def test_every_job_ends_with_a_code_whatever_its_input(local):
    transport, data_dir, _ = local
    sources = inbox(data_dir)
    (sources / "deep.jsonl").write_bytes(
        b'{"text": "A fine day."}\n{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
    )
    (sources / "latin1.jsonl").write_bytes(b'{"text": "caf\xe9"}\n')
    (sources / "nul.csv").write_bytes(b"text\nfine\nbad\x00text\n")
    symlink_loop(data_dir)

    invalid = run_job(transport, {"documents": [{"text": "\ud800"}, {"text": "A fine day."}]})
    only_invalid = run_job(transport, {"documents": [{"text": "nul\x00"}]})
    deep = run_job(transport, {"source": "deep.jsonl"})
    not_utf8 = run_job(transport, {"source": "latin1.jsonl"})
    csv_nul = run_job(transport, {"source": "nul.csv", "format": "CSV"})

    assert invalid["status"] == "PARTIAL"
    assert "INVALID_TEXT" in codes(invalid)
    assert only_invalid["status"] == "FAILED"
    assert "INVALID_TEXT" in codes(only_invalid)
    assert deep["status"] == "PARTIAL"
    assert "MALFORMED_RECORD" in codes(deep)
    assert not_utf8["status"] == "FAILED"
    assert not_utf8["error"].startswith("SOURCE_UNREADABLE")
    assert csv_nul["status"] == "PARTIAL"
    assert "INVALID_TEXT" in codes(csv_nul)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_distinct_large_queries_leave_the_rss_flat(local):
    transport, _, server = local
    assert server.process is not None

    def distinct_query(i: int) -> bytes:
        # ~19 KB, just under the cap, in few tokens (long aliases), distinct each time: each
        # one is parsed, validated and cached.
        fields = " ".join(f"a{i}_{n}_{'x' * 190}: status" for n in range(90))
        return json.dumps({"query": f"{{ health {{ {fields} }} }}"}).encode()

    headers = {"content-type": "application/json"}
    for i in range(20):  # warm up: allocator arenas, the first caches
        transport.request("POST", "/graphql", body=distinct_query(i), headers=headers)
    before = rss_kib(server.process.pid)
    for i in range(20, 520):
        reply = transport.request("POST", "/graphql", body=distinct_query(i), headers=headers)
        assert reply.status < 500
    grown_mib = (rss_kib(server.process.pid) - before) / 1024
    print(f"RSS {before / 1024:.0f} MiB, grew {grown_mib:.1f} MiB over 500 distinct queries")

    assert grown_mib < 64, f"RSS grew {grown_mib:.0f} MiB over 500 distinct 19 KB queries"


@pytest.fixture(scope="module")
def json_protocol_server(tmp_path_factory) -> Iterator[str]:
    """uvicorn with graphql_api.web.protocol's JSON 400 for requests it cannot parse."""
    port = free_port()
    code = (
        "import uvicorn; from graphql_api.web.protocol import JsonErrorHttpProtocol; "
        f"uvicorn.run('graphql_api.app:create_app', factory=True, host='127.0.0.1', port={port}, "
        "http=JsonErrorHttpProtocol, log_level='warning')"
    )
    env = {"AURASTREAM_DATA_DIR": str(tmp_path_factory.mktemp("protocol"))}
    process = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **env})
    try:
        wait_until_up(f"http://127.0.0.1:{port}/v1/health/live", process)
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(process)


def raw_get(address: str, target: str) -> bytes:
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        request = f"GET {target} HTTP/1.1\r\nHost: x\r\nApollo-Require-Preflight: 1\r\n"
        sock.sendall((request + "Connection: close\r\n\r\n").encode())
        answer = b""
        while chunk := sock.recv(65_536):
            answer += chunk
    return answer


@pytest.mark.parametrize("size", [40_000, 100_000, 1_000_000])
def test_a_huge_get_query_string_gets_json(json_protocol_server, size):
    answer = raw_get(json_protocol_server, "/graphql?query=" + "%20" * (size // 3))

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] in (b"400", b"414")
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["errors"][0]["extensions"]["code"] in ("BAD_REQUEST", "URI_TOO_LONG")
