"""A marker text sent through every path must never reach logs, metrics, errors or the cache."""

import json
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import Server
from tests.e2e.test_access_over_http import create_key

MARKER = "Zebracorn-7f3a"
FINISHED = {"SUCCEEDED", "PARTIAL", "FAILED"}


def test_the_marker_text_never_reaches_logs_metrics_errors_or_the_cache(tmp_path: Path):
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    # A generous rate: waiting on the jobs below must never be refused for the key's rate.
    key = create_key(data_dir, "acme", "analyze,jobs,ops", "--rate", "1000", "--burst", "1000")[
        "key"
    ]
    server = Server(data_dir, log, AURASTREAM_AUTH="required", LOG_LEVEL="DEBUG").start()
    url, headers = server.url, {"x-api-key": key}

    def post(query: str, variables: dict | None = None) -> dict:
        reply = httpx.post(
            f"{url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return reply.json()

    try:
        texts = [
            {"id": "a", "text": f"{MARKER} loved it, mail me at {MARKER.lower()}@example.com"},
            {"id": "b", "text": f"{MARKER} " + "x" * 6_000},  # too long: an error path
            {"id": "c", "text": f"{MARKER} nice", "languageCode": "not-a-code"},
            {"id": "d", "text": f"{MARKER} das ist gut", "languageCode": "de"},
        ]
        analyzed = post(
            "mutation($input: AnalyzeInput!) { analyze(input: $input) { results { id sentiment"
            " error { code message } piiEntities { type beginOffset endOffset } redactedText } } }",
            {"input": {"documents": texts, "pii": "REDACT"}},
        )
        assert analyzed["data"]["analyze"]["results"][0]["sentiment"]
        inline = '{ analyzeDocument(document: {text: "MARKER great"}) { sentiment } }'
        post(inline.replace("MARKER", MARKER))
        post(inline.replace("MARKER", MARKER)[:-12])  # a syntax error quoting the marker
        post(
            "mutation($i: AnalyzeInput!) { analyze(input: $i) { results { id } } }",
            {"i": {"documents": [{"text": 42, "id": MARKER}]}},
        )  # a variable error
        httpx.post(
            f"{url}/graphql",
            json={"query": "{ health { status } }"},
            headers={"x-api-key": f"aura_{MARKER}"},
        )  # a bad key
        inbox = data_dir / "inbox" / "acme"
        inbox.mkdir(parents=True)
        (inbox / "upload.txt").write_text(f"{MARKER} first line\n{MARKER} second\n")
        # The language is given: a made-up word must not make the job's outcome a guess.
        job = post(
            "mutation($i: SubmitJobInput!) { submitJob(input: $i) { id } }",
            {"i": {"documents": [{"text": f"{MARKER} inline job"}], "languageCode": "en"}},
        )
        source_job = post(
            "mutation($i: SubmitJobInput!) { submitJob(input: $i) { id } }",
            {"i": {"source": "upload.txt", "format": "TEXT", "languageCode": "en"}},
        )
        for job_id in (job["data"]["submitJob"]["id"], source_job["data"]["submitJob"]["id"]):
            deadline = time.monotonic() + 120
            status = None
            while status not in FINISHED and time.monotonic() < deadline:
                reply = post("query($id: ID!) { job(id: $id) { status } }", {"id": job_id})
                status = reply["data"]["job"]["status"]
                time.sleep(0.05)
            assert status == "SUCCEEDED", reply
        metrics = httpx.get(f"{url}/metrics").text
        status_json = httpx.get(f"{url}/status.json").text
    finally:
        server.stop()

    logged = log.read_text()
    assert "request error" in logged  # the logs did record the failing requests
    for name, content in {"log": logged, "metrics": metrics, "status": status_json}.items():
        assert MARKER not in content, name
        assert MARKER.lower() not in content, name
    for store in ("cache.sqlite3", "jobs.sqlite3", "access.sqlite3"):
        for path in data_dir.glob(f"{store}*"):  # the database and its WAL
            assert MARKER.encode() not in path.read_bytes(), path.name
    for output in (data_dir / "objects" / "jobs").glob("*/output.jsonl"):
        assert MARKER not in output.read_text()  # results only; inputs stay in their own files
    results = json.dumps(analyzed)
    assert f"{MARKER} loved it, mail me at [EMAIL]" in results  # the caller gets their text back
