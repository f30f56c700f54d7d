from graphql_api.health_probes import HEALTH_PROBE_TEXT
from tests.support import operation, post_graphql


def test_health_query_probes_every_component(local_client):
    health = post_graphql(local_client, operation("Health")).json()["data"]["health"]

    assert health["status"] == "HEALTHY"
    assert {c["name"] for c in health["components"]} == {"engine", "cache", "jobs"}
    assert all(c["latencyMs"] >= 0 for c in health["components"])


def test_health_endpoint_serves_the_runbook_json(local_client):
    for path in ("/v1/health", "/health"):
        reply = local_client.request("GET", path)
        body = reply.json()
        assert reply.status == 200
        assert body["status"] == "healthy"
        assert body["timestamp"].endswith("Z")
        # The runbook's shape: `jq .components.engine` is a status string.
        assert body["components"] == {"engine": "healthy", "cache": "healthy", "jobs": "healthy"}
        assert set(body["details"]) == set(body["components"])
        assert all(d["latencyMs"] >= 0 and d["detail"] for d in body["details"].values())


def test_a_failing_cache_reports_degraded(client, cache):
    cache.fail = True

    reply = client.request("GET", "/v1/health")

    assert reply.status == 200
    assert reply.json()["status"] == "degraded"
    assert reply.json()["components"]["cache"] == "degraded"


def test_a_failing_engine_reports_unhealthy_with_503(client, engine):
    engine.fail = True

    reply = client.request("GET", "/v1/health")

    assert reply.status == 503
    assert reply.json()["status"] == "unhealthy"
    assert reply.json()["components"]["engine"] == "unhealthy"


def test_health_probes_the_engine_once_per_interval_whatever_the_request_rate(client, engine):
    for _ in range(20):
        assert client.request("GET", "/v1/health").status == 200

    probes = [texts for texts, _ in engine.analyze_calls if texts == [HEALTH_PROBE_TEXT]]
    assert len(probes) == 1


def test_liveness_is_cheap_and_always_up(client, engine):
    engine.fail = True
    assert client.request("GET", "/v1/health/live").json() == {"status": "alive"}
