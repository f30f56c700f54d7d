"""The jobs connection follows Relay: edge cursors page on, endCursor is the last edge's."""

import json

import pytest

from graphql_api.bootstrap import bootstrap
from tests.api.conftest import TRANSPORTS, make_transport
from tests.fakes import RecordingEngine, RecordingRunner
from tests.support import post_graphql

SUBMIT = "mutation($i: SubmitJobInput!) { submitJob(input: $i) { id } }"
JOBS = """
query($first: Int, $after: String) {
  jobs(first: $first, after: $after) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


@pytest.fixture(params=TRANSPORTS)
def client(request, settings):
    """Jobs are recorded, not run: listing them is what is under test."""
    container = bootstrap(settings, engine=RecordingEngine(), runner=RecordingRunner())
    yield make_transport(request.param, container)
    container.close()


def jobs_page(client, first, after=None):
    reply = post_graphql(client, JOBS, {"first": first, "after": after})
    body = reply.json()
    assert "errors" not in body, body
    return body["data"]["jobs"]


def test_jobs_page_by_edge_cursors_to_the_end(client):
    submitted = []
    for i in range(5):
        variables = {"i": {"documents": [{"text": f"job {i} is good"}]}}
        reply = post_graphql(client, SUBMIT, variables)
        submitted.append(reply.json()["data"]["submitJob"]["id"])

    first = jobs_page(client, 2)
    # Any edge's cursor pages on from that edge, not only endCursor.
    from_first_edge = jobs_page(client, 2, first["edges"][0]["cursor"])
    second = jobs_page(client, 2, first["pageInfo"]["endCursor"])
    last = jobs_page(client, 2, second["pageInfo"]["endCursor"])

    ids = [e["node"]["id"] for page in (first, second, last) for e in page["edges"]]
    assert sorted(ids) == sorted(submitted)
    assert len(set(ids)) == 5
    assert [e["node"]["id"] for e in from_first_edge["edges"]] == ids[1:3]
    for page in (first, second, last):
        info, edges = page["pageInfo"], page["edges"]
        assert info["startCursor"] == edges[0]["cursor"]
        assert info["endCursor"] == edges[-1]["cursor"]  # non-null on the last page too
    assert [p["pageInfo"]["hasNextPage"] for p in (first, second, last)] == [True, True, False]
    assert [p["pageInfo"]["hasPreviousPage"] for p in (first, second, last)] == [
        False,
        True,
        True,
    ]
    assert json.dumps(first).count("job:") == 0  # opaque: nothing readable in the cursor


def test_an_empty_page_has_no_cursors(client):
    page = jobs_page(client, 5)

    assert page["edges"] == []
    assert page["pageInfo"]["startCursor"] is None
    assert page["pageInfo"]["endCursor"] is None
    assert page["pageInfo"]["hasNextPage"] is False
