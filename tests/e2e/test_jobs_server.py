"""Jobs through the running server over HTTP: submit, poll, page, and survive a crash."""

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server

SUBMIT = """
mutation Submit($input: SubmitJobInput!) {
  submitJob(input: $input) { id status progress { total processed failed percent } }
}"""
JOB = """
query Job($id: ID!, $after: String) {
  job(id: $id) {
    id status error outputUrl
    progress { total processed failed percent }
    summary { positive negative neutral mixed }
    results(first: 250, after: $after) {
      edges { cursor node { id sentiment error { code } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


def graphql(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}).json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def wait_for(url: str, job_id: str, done, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = graphql(url, JOB, {"id": job_id})["job"]
        if done(job):
            return job
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} still {job['status']}")


def finished(job: dict[str, Any]) -> bool:
    return job["status"] in {"SUCCEEDED", "PARTIAL", "FAILED"}


def every_result(url: str, job_id: str) -> list[dict[str, Any]]:
    results, after = [], None
    while True:
        page = graphql(url, JOB, {"id": job_id, "after": after})["job"]["results"]
        results += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return results
        after = page["pageInfo"]["endCursor"]


def documents(count: int) -> list[dict[str, str]]:
    moods = ["I loved it", "It was awful", "It arrived on Monday"]
    return [{"id": f"d{i}", "text": f"Order {i}: {moods[i % 3]}."} for i in range(count)]


@pytest.fixture
def server(tmp_path: Path):
    server = Server(tmp_path / "data")
    yield server
    server.stop()


def test_a_thousand_documents_succeed_and_page_through(server):
    url = server.start().url
    job = graphql(url, SUBMIT, {"input": {"documents": documents(1_000)}})["submitJob"]
    assert job["progress"]["total"] == 1_000

    done = wait_for(url, job["id"], finished)

    assert done["status"] == "SUCCEEDED"
    assert done["progress"] == {"total": 1_000, "processed": 1_000, "failed": 0, "percent": 100.0}
    assert sum(done["summary"].values()) == 1_000
    assert Path(done["outputUrl"]).is_file()
    results = every_result(url, job["id"])
    assert [r["id"] for r in results] == [f"d{i}" for i in range(1_000)]
    assert {r["sentiment"] for r in results} == {"POSITIVE", "NEGATIVE", "NEUTRAL"}


def test_a_server_killed_mid_job_resumes_it_on_restart(server):
    url = server.start().url
    job_id = graphql(url, SUBMIT, {"input": {"documents": documents(10_000)}})["submitJob"]["id"]
    midway = wait_for(url, job_id, lambda j: 0 < j["progress"]["processed"] < 10_000)
    server.kill()

    server.start()
    done = wait_for(url, job_id, finished, timeout=300)

    assert midway["status"] == "RUNNING"
    assert done["status"] == "SUCCEEDED"
    assert done["progress"]["processed"] == 10_000
    ids = [r["id"] for r in every_result(url, job_id)]
    assert ids == [f"d{i}" for i in range(10_000)]  # complete and unique


def test_bad_job_input_gets_clear_codes(server):
    url = server.start().url
    cases = {
        "NO_DOCUMENTS": {"documents": []},
        "TOO_MANY_DOCUMENTS": {"documents": documents(10_001)},
        "SOURCE_UNREADABLE": {"source": "nowhere.jsonl"},
    }
    for code, job_input in cases.items():
        body = httpx.post(
            f"{url}/graphql", json={"query": SUBMIT, "variables": {"input": job_input}}
        ).json()
        assert body["errors"][0]["extensions"]["code"] == code


def test_the_same_idempotency_key_returns_the_same_job_over_http(server):
    url = server.start().url
    job_input = {"documents": documents(3), "idempotencyKey": "nightly-2026-11-27"}

    first = graphql(url, SUBMIT, {"input": job_input})["submitJob"]["id"]
    second = graphql(url, SUBMIT, {"input": job_input})["submitJob"]["id"]
    conflict = httpx.post(
        f"{url}/graphql",
        json={"query": SUBMIT, "variables": {"input": {**job_input, "documents": documents(4)}}},
    ).json()

    assert first == second
    assert conflict["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_CONFLICT"
