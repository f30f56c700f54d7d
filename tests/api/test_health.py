from tests.support import operation, post_graphql


def test_health_query_probes_every_component(local_client):
    health = post_graphql(local_client, operation("Health")).json()["data"]["health"]

    assert health["status"] == "HEALTHY"
    assert {c["name"] for c in health["components"]} == {"engine", "cache"}
    assert all(c["latencyMs"] >= 0 for c in health["components"])


def test_health_endpoint_serves_the_runbook_json(local_client):
    for path in ("/v1/health", "/health"):
        reply = local_client.request("GET", path)
        body = reply.json()
        assert reply.status == 200
        assert body["status"] == "healthy"
        assert {"timestamp", "version", "components"} <= set(body)


def test_a_failing_cache_reports_degraded(client, cache):
    cache.fail = True

    reply = client.request("GET", "/v1/health")

    assert reply.status == 200
    assert reply.json()["status"] == "degraded"


def test_a_failing_engine_reports_unhealthy_with_503(client, engine):
    engine.fail = True

    reply = client.request("GET", "/v1/health")

    assert reply.status == 503
    assert reply.json()["status"] == "unhealthy"


def test_liveness_is_cheap_and_always_up(client, engine):
    engine.fail = True
    assert client.request("GET", "/v1/health/live").json() == {"status": "alive"}
