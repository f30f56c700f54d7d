import httpx

from tests.support import operation


def test_the_running_server_analyses_and_then_serves_from_its_cache(server_url):
    payload = {
        "query": operation("Analyze"),
        "variables": {"input": {"documents": [{"id": "1", "text": "What a wonderful day!"}]}},
    }

    first = httpx.post(f"{server_url}/graphql", json=payload).json()
    second = httpx.post(f"{server_url}/graphql", json=payload).json()

    (result,) = first["data"]["analyze"]["results"]
    assert result["sentiment"] == "POSITIVE"
    assert result["cached"] is False
    assert second["data"]["analyze"]["results"][0]["cached"] is True


def test_the_running_server_answers_health(server_url):
    reply = httpx.get(f"{server_url}/v1/health")

    assert reply.status_code == 200
    assert reply.json()["status"] == "healthy"


def test_the_running_server_serves_graphiql_to_browsers(server_url):
    reply = httpx.get(f"{server_url}/graphql", headers={"accept": "text/html"})

    assert reply.status_code == 200
    assert "graphiql" in reply.text.lower()
