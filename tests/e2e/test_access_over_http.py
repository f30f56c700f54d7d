"""API keys, scopes, limits and tenancy on the running server, keys made with the CLI."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.support import operation

ANALYZE = operation("Analyze")
SUBMIT = "mutation($i: SubmitJobInput!) { submitJob(input: $i) { id } }"
JOB = "query($id: ID!) { job(id: $id) { id status } }"


def keys_cli(data_dir: Path, *args: str) -> str:
    env = {**os.environ, "AURASTREAM_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "graphql_api", "keys", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def create_key(data_dir: Path, tenant: str, scopes: str, *extra: str) -> dict[str, Any]:
    created: dict[str, Any] = json.loads(
        keys_cli(data_dir, "create", "--tenant", tenant, "--scopes", scopes, "--json", *extra)
    )
    return created


def post(url: str, query: str, variables: dict[str, Any], key: str | None) -> httpx.Response:
    headers = {"x-api-key": key} if key else {}
    return httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers
    )


def one_document(text: str = "Lovely staff") -> dict[str, Any]:
    return {"input": {"documents": [{"text": text}]}}


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """A server that requires keys, with a short key cache so revocation shows quickly."""
    data_dir = tmp_path_factory.mktemp("secured")
    server = Server(data_dir, AURASTREAM_AUTH="required", AURASTREAM_KEY_CACHE_TTL_SECONDS="0.5")
    keys = {
        "full": create_key(data_dir, "acme", "analyze,jobs,ops"),
        "analyze_only": create_key(data_dir, "acme", "analyze"),
        "other_tenant": create_key(data_dir, "globex", "analyze,jobs"),
        "revoked": create_key(data_dir, "acme", "analyze"),
        "slow": create_key(data_dir, "acme", "analyze", "--rate", "0.2", "--burst", "2"),
        "small_quota": create_key(data_dir, "acme", "analyze", "--daily-quota", "3"),
    }
    server.start()
    try:
        yield server.url, data_dir, keys
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("key_name", "status", "code"),
    [
        (None, 401, "UNAUTHENTICATED"),
        ("malformed", 401, "UNAUTHENTICATED"),
        ("unknown", 401, "UNAUTHENTICATED"),
        ("full", 200, None),
    ],
)
def test_keys_are_checked_before_anything_runs(secured, key_name, status, code):
    url, _, keys = secured
    invented = {None: None, "malformed": "not-a-key", "unknown": "aura_000000000000_" + "x" * 43}
    key = invented[key_name] if key_name in invented else keys[key_name]["key"]

    reply = post(url, ANALYZE, one_document(), key)

    assert reply.status_code == status
    if code:
        assert reply.json()["errors"][0]["extensions"]["code"] == code
        assert "data" not in reply.json()
        assert reply.headers["www-authenticate"].startswith("ApiKey")
    else:
        assert reply.json()["data"]["analyze"]["results"][0]["sentiment"] == "POSITIVE"


def test_a_key_without_the_scope_is_forbidden(secured):
    url, _, keys = secured

    reply = post(url, SUBMIT, {"i": {"documents": [{"text": "hi"}]}}, keys["analyze_only"]["key"])

    assert reply.status_code == 403
    assert reply.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_revoked_key_stops_working_within_seconds(secured):
    url, data_dir, keys = secured
    key = keys["revoked"]
    assert post(url, ANALYZE, one_document(), key["key"]).status_code == 200

    keys_cli(data_dir, "revoke", key["key_id"])
    time.sleep(0.6)  # the server's key cache lives 0.5 s here (5 s by default)

    reply = post(url, ANALYZE, one_document(), key["key"])
    assert reply.status_code == 401
    assert reply.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_rate_limit_answers_429_with_retry_after(secured):
    url, _, keys = secured
    statuses = [post(url, ANALYZE, one_document(), keys["slow"]["key"]) for _ in range(3)]

    assert [r.status_code for r in statuses] == [200, 200, 429]
    limited = statuses[2]
    assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["retry-after"]) >= 1


def test_the_daily_document_quota_answers_429(secured):
    url, _, keys = secured
    two = {"input": {"documents": [{"text": "one"}, {"text": "two"}]}}

    first = post(url, ANALYZE, two, keys["small_quota"]["key"])
    second = post(url, ANALYZE, two, keys["small_quota"]["key"])

    assert first.status_code == 200
    assert second.status_code == 429
    error = second.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfterSeconds"] > 0


def test_another_tenants_job_is_not_found_like_a_missing_one(secured):
    url, _, keys = secured
    submitted = post(url, SUBMIT, {"i": {"documents": [{"text": "hi"}]}}, keys["full"]["key"])
    job_id = submitted.json()["data"]["submitJob"]["id"]

    mine = post(url, JOB, {"id": job_id}, keys["full"]["key"]).json()
    theirs = post(url, JOB, {"id": job_id}, keys["other_tenant"]["key"]).json()
    missing = post(url, JOB, {"id": "no-such-job"}, keys["other_tenant"]["key"]).json()

    assert mine["data"]["job"]["id"] == job_id
    assert theirs["data"]["job"] is None
    assert theirs["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert theirs["errors"][0]["message"] == missing["errors"][0]["message"].replace(
        "no-such-job", job_id
    )


def test_usage_reports_documents_and_cost_per_day(secured):
    url, _, keys = secured
    key = keys["other_tenant"]["key"]
    post(url, ANALYZE, {"input": {"documents": [{"text": "Great"}, {"text": "Bad"}]}}, key)

    reply = post(
        url, "{ usage { day documents cacheHits billableUnits estimatedCostUsd } }", {}, key
    )

    (today,) = reply.json()["data"]["usage"]
    assert today["documents"] >= 2
    assert today["billableUnits"] == 0  # the embedded engine costs no Comprehend units
    assert today["estimatedCostUsd"] == 0


def test_keys_list_never_shows_secrets(secured):
    _, data_dir, keys = secured

    listing = keys_cli(data_dir, "list", "--json")

    assert keys["full"]["key_id"] in listing
    assert keys["full"]["key"] not in listing
    assert "hash" not in listing.lower()


def test_health_and_liveness_stay_open_for_load_balancers(secured):
    url, _, _ = secured

    assert httpx.get(f"{url}/v1/health").json()["status"] == "healthy"
    components = set(httpx.get(f"{url}/v1/health").json()["components"])
    assert "keys" in components
