"""GraphiQL works offline: the page and everything it loads come from the API itself.

The fast tests read the page and its assets in-process. The browser tests load /graphql from
the running server (`server_url`) in headless Chromium, with every host name but localhost
unresolvable, run operations from the editors and watch every request the page makes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from starlette.testclient import TestClient

from graphql_api.app import create_app
from graphql_api.settings import Settings
from graphql_api.web import STATIC_DIR
from tests.e2e.browser import CHROMIUM, Browser, Page, References

HTML = {"accept": "text/html"}
TITLE = "AuraStream GraphiQL"

# --- In-process: the page, its headers and its assets -----------------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as test_client:
        yield test_client


def page_references(client: TestClient, page: str = "/graphql") -> References:
    reply = client.get(page, headers=HTML)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    references = References()
    references.feed(reply.text)
    return references


def test_the_page_names_no_other_origin(client):
    reply = client.get("/graphql", headers=HTML)

    # Absolute URLs only on the page's own origin (there are none: asset URLs are relative).
    foreign = [
        url
        for url in re.findall(r"https?://[^\s\"'<>)]+", reply.text)
        if not url.startswith(str(client.base_url))
    ]
    assert foreign == []
    references = page_references(client)
    assert references.title == TITLE
    page_url = urlsplit(str(reply.url))
    for url in references.urls:
        resolved = urlsplit(urljoin(page_url.geturl(), url))
        assert resolved.scheme == "data" or resolved.netloc == page_url.netloc, url


def test_every_asset_the_page_references_is_served_and_cached_by_content(client):
    page_url = f"{client.base_url}/graphql"
    assets = [
        urljoin(page_url, url)
        for url in page_references(client).urls
        if not url.startswith("data:")
    ]

    assert len(assets) == 5  # the stylesheet, React, ReactDOM, GraphiQL and the AuraStream script
    for url in assets:
        reply = client.get(url)
        assert reply.status_code == 200, url
        assert reply.headers["content-type"].split(";")[0] in {"text/javascript", "text/css"}
        assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
        path = urlsplit(url).path.removeprefix("/static/")
        expected = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:16]
        assert url.endswith(f"?v={expected}")
        # The same file without its content hash must be revalidated.
        assert client.get(url.split("?")[0]).headers["cache-control"] == "no-cache"


def test_assets_resolve_under_a_path_prefix_the_proxy_strips(client):
    # API Gateway serves /prod/graphql as /graphql: the browser resolves assets from /prod/.
    paths = {
        urlsplit(urljoin("https://api.example/prod/graphql", url)).path
        for url in page_references(client).urls
    }

    assert "/prod/static/graphiql/graphiql.min.css" in paths
    assert "/prod/static/graphiql/graphiql.min.js" in paths


def test_the_page_may_load_and_call_its_own_origin_only(client):
    reply = client.get("/graphql", headers=HTML)

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in reply.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert reply.headers["cache-control"] == "no-cache"


def test_the_vendored_files_match_their_pinned_manifest():
    vendored = STATIC_DIR / "graphiql"
    manifest = json.loads((vendored / "VERSIONS.json").read_text())

    versions = {name: entry["version"] for name, entry in manifest["packages"].items()}
    assert versions == {"react": "18.3.1", "react-dom": "18.3.1", "graphiql": "3.9.0"}
    for entry in manifest["packages"].values():
        for name, file in entry["files"].items():
            assert hashlib.sha256((vendored / name).read_bytes()).hexdigest() == file["sha256"]


def test_without_graphiql_the_page_is_not_found(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", graphiql=False)
    with TestClient(create_app(settings)) as client:
        assert client.get("/graphql", headers=HTML).status_code == 404


# --- Headless Chromium against the running server ----------------------------------------------

needs_chromium = pytest.mark.skipif(
    not Browser.available(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)

RENDERED = (
    "document.querySelector('.graphiql-container .graphiql-query-editor .CodeMirror') !== null"
)
# The introspection result reached the editors: the schema GraphiQL validates against.
SCHEMA_LOADED = """(() => {
  const editor = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
  const schema = editor.options.lint && editor.options.lint.schema;
  const mutation = schema && schema.getMutationType();
  return Boolean(mutation && mutation.getFields().analyze);
})()"""


def editor(name: str) -> str:
    """A JavaScript expression for the CodeMirror instance of one GraphiQL editor."""
    selector, index = {
        "query": (".graphiql-query-editor .CodeMirror", 0),
        # The tools pane holds the variables editor, then the headers editor.
        "variables": (".graphiql-editor-tool .graphiql-editor .CodeMirror", 0),
        "headers": (".graphiql-editor-tool .graphiql-editor .CodeMirror", 1),
        "response": (".graphiql-response .CodeMirror", 0),
    }[name]
    return f"document.querySelectorAll({json.dumps(selector)})[{index}].CodeMirror"


def type_query(page: Page, query: str) -> None:
    """Replace the query and wait until GraphiQL has parsed it (its change handler is debounced),
    so that running it uses the new operation rather than the previous one."""
    page.evaluate(f"{editor('query')}.setValue({json.dumps(query)})")
    page.wait_for(
        f"(() => {{ const ast = {editor('query')}.documentAST;"
        f" return Boolean(ast && ast.loc.source.body === {json.dumps(query)}); }})()"
    )


def run_and_read_response(page: Page) -> Any:
    """Click the run button as a user would; the response editor's JSON once it shows."""
    page.evaluate(f"{editor('response')}.setValue('')")
    page.click(".graphiql-execute-button")
    return json.loads(page.wait_for(f"{editor('response')}.getValue()"))


def assert_clean_and_offline(page: Page) -> None:
    """Nothing threw or was refused, and no request left the loopback host."""
    assert page.errors == []
    assert page.external_requests() == []


def graphql_posts(page: Page, url: str) -> list[dict[str, str]]:
    """Headers (lower-cased names) of the operations the page posted to `url`."""
    page.browser.pump(0.1)
    return [
        {name.lower(): value for name, value in request.headers.items()}
        for request in page.requests
        if request.method == "POST" and request.url == url
    ]


@pytest.fixture
def graphiql(browser: Browser, server_url: str) -> Iterator[Page]:
    """/graphql rendered, schema loaded, in a fresh browser context (no saved GraphiQL tabs)."""
    with browser.opened(f"{server_url}/graphql", RENDERED, SCHEMA_LOADED) as page:
        yield page


@pytest.mark.slow
@needs_chromium
def test_graphiql_renders_offline_and_runs_the_example_analysis(graphiql, server_url):
    page = graphiql

    assert page.evaluate("document.title") == TITLE
    assert "mutation Analyze" in page.evaluate(f"{editor('query')}.getValue()")
    assert json.loads(page.evaluate(f"{editor('headers')}.getValue()")) == {"X-API-Key": ""}
    variables = json.loads(page.evaluate(f"{editor('variables')}.getValue()"))
    assert len(variables["input"]["documents"]) == 2

    response = run_and_read_response(page)

    results = response["data"]["analyze"]["results"]
    assert [result["sentiment"] for result in results] == ["POSITIVE", "NEGATIVE"]
    (*_, example) = graphql_posts(page, f"{server_url}/graphql")
    assert "x-api-key" not in example  # the empty template value is not sent
    assert_clean_and_offline(page)


@pytest.mark.slow
@needs_chromium
def test_graphiql_runs_an_edited_query_with_the_api_key_from_the_headers_editor(
    graphiql, server_url
):
    page = graphiql
    type_query(page, "{ health { status } }")
    headers = json.dumps({"X-API-Key": "aurastream-e2e-key"})
    page.evaluate(f"{editor('headers')}.setValue({json.dumps(headers)})")

    response = run_and_read_response(page)

    assert response == {"data": {"health": {"status": "HEALTHY"}}}
    (*_, health) = graphql_posts(page, f"{server_url}/graphql")
    assert health["x-api-key"] == "aurastream-e2e-key"
    assert_clean_and_offline(page)


@pytest.mark.slow
@needs_chromium
def test_graphiql_keeps_the_example_and_the_api_key_template_after_a_reload(graphiql, server_url):
    page = graphiql

    page.goto(f"{server_url}/graphql")  # same browser context: GraphiQL's saved tabs
    page.wait_for(RENDERED)
    page.wait_for(SCHEMA_LOADED)

    assert "mutation Analyze" in page.evaluate(f"{editor('query')}.getValue()")
    variables = json.loads(page.evaluate(f"{editor('variables')}.getValue()"))
    assert len(variables["input"]["documents"]) == 2
    assert json.loads(page.evaluate(f"{editor('headers')}.getValue()")) == {"X-API-Key": ""}
    response = run_and_read_response(page)
    assert len(response["data"]["analyze"]["results"]) == 2
    assert_clean_and_offline(page)
