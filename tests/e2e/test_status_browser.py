"""The status page: health and the last hour of metrics, offline, refreshed in place.

The fast tests serve `status_routes` in-process next to the static files, with a fixed health
report. The server tests read /status and /status.json from the running server (`server_url`)
after some traffic; the browser test renders /status there in headless Chromium, with every
host name but localhost unresolvable, and watches it refresh.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from graphql_api.adapters.recent_metrics import RecentMetrics
from graphql_api.web import STATIC_ROUTE_NAME, static_files
from graphql_api.web.status import status_routes
from tests.e2e.browser import CHROMIUM, Browser, Page, References
from tests.support import operation

TITLE = "AuraStream status"
SERIES = (
    "requests_per_minute",
    "latency_p50_ms",
    "latency_p99_ms",
    "cache_hit_rate",
    "engine_fallbacks",
    "engine_errors",
    "jobs_submitted",
    "jobs_succeeded",
    "jobs_failed",
)
HEALTH = {
    "status": "healthy",
    "timestamp": "2024-01-01T00:00:00+00:00",
    "version": "0.1.0",
    "components": {"engine": "healthy", "cache": "healthy"},
    "details": {
        "engine": {"latencyMs": 1.5, "detail": "answered", "ageSeconds": 0.0},
        "cache": {"latencyMs": 0.4, "detail": "reachable", "ageSeconds": 0.0},
    },
}


def references(html: str) -> References:
    parsed = References()
    parsed.feed(html)
    return parsed


def absolute_urls(text: str) -> list[str]:
    return re.findall(r"(?:https?:)?//[^\s\"'<>)]+", text)


def assert_status_document(document: Mapping[str, Any]) -> None:
    """The shape of /status.json: the health report and 60 points per series."""
    assert set(document) == {"health", "metrics"}
    health, metrics = document["health"], document["metrics"]
    assert {"status", "timestamp", "version", "components", "details"} <= set(health)
    assert set(health["details"]) == set(health["components"])
    for name, status in health["components"].items():
        assert status in {"healthy", "degraded", "unhealthy"}
        assert set(health["details"][name]) == {"latencyMs", "detail", "ageSeconds"}
    assert len(metrics["minute_epochs"]) == 60
    for name in SERIES:
        assert len(metrics[name]) == 60, name
    assert {"requests", "latency_p50_ms", "latency_p99_ms", "cache_hit_rate"} <= set(
        metrics["totals"]
    )


# --- In-process: the routes next to the static files -------------------------------------------


@pytest.fixture
def recent() -> RecentMetrics:
    return RecentMetrics()


@pytest.fixture
def client(recent: RecentMetrics) -> Iterator[TestClient]:
    async def health() -> dict[str, Any]:
        return HEALTH

    app = Starlette(
        routes=[
            *status_routes(health, recent),
            Mount("/static", static_files(), name=STATIC_ROUTE_NAME),
        ]
    )
    with TestClient(app) as test_client:
        yield test_client


def test_status_json_holds_the_health_report_and_the_last_hour(client, recent):
    recent.observe_ms("RequestLatency", 12.0, {"operation": "analyze"})
    recent.increment("CacheHit", 3)
    recent.increment("CacheMiss")

    reply = client.get("/status.json")

    assert reply.status_code == 200
    assert reply.headers["cache-control"] == "no-store"
    document = reply.json()
    assert_status_document(document)
    assert document["health"] == HEALTH
    metrics = document["metrics"]
    assert metrics["requests_per_minute"][-1] == 1
    assert metrics["latency_p50_ms"][-1] == 12.0
    assert metrics["cache_hit_rate"][-1] == 0.75


def test_the_page_names_no_other_origin_and_loads_its_files_from_static(client):
    reply = client.get("/status")

    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert absolute_urls(reply.text) == []
    page = references(reply.text)
    assert page.title == TITLE
    assets = [url for url in page.urls if not url.startswith(("data:", "status.json"))]
    assert sorted(urlsplit(url).path for url in assets) == [
        "static/aurastream/status.css",
        "static/aurastream/status.js",
    ]
    for url in assets:
        asset = client.get(urljoin(f"{client.base_url}/status", url))
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert absolute_urls(asset.text.replace("http://www.w3.org/2000/svg", "")) == []


def test_the_page_may_load_and_call_its_own_origin_only(client):
    reply = client.get("/status")

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in reply.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert reply.headers["cache-control"] == "no-store"


def test_the_page_and_its_data_resolve_under_a_path_prefix_the_proxy_strips(client):
    # API Gateway serves /prod/status as /status: the browser resolves URLs from /prod/.
    page = "https://api.example/prod/status"
    paths = {
        urlsplit(urljoin(page, url)).path for url in references(client.get("/status").text).urls
    }
    script = client.get("/static/aurastream/status.js").text

    assert "/prod/static/aurastream/status.js" in paths
    assert "/prod/static/aurastream/status.css" in paths
    assert 'fetch("status.json"' in script  # relative: /prod/status.json
    assert urlsplit(urljoin(page, "status.json")).path == "/prod/status.json"


# --- The running server -------------------------------------------------------------------------


def analyze(server_url: str, count: int = 3) -> None:
    """A few analyze mutations, so that the last hour has requests, latencies and cache lookups."""
    for index in range(count):
        payload = {
            "query": operation("Analyze"),
            "variables": {
                "input": {
                    "documents": [
                        {"id": "1", "text": "The status page is clear and quick."},
                        {"id": "2", "text": f"Status check number {index} went badly wrong."},
                    ]
                }
            },
        }
        reply = httpx.post(f"{server_url}/graphql", json=payload, timeout=30)
        assert reply.status_code == 200
        assert "errors" not in reply.json()


def test_the_running_server_serves_the_status_data_after_traffic(server_url):
    analyze(server_url)

    reply = httpx.get(f"{server_url}/status.json", timeout=30)

    assert reply.status_code == 200
    document = reply.json()
    assert_status_document(document)
    assert document["health"]["status"] == "healthy"
    assert set(document["health"]["components"]) >= {"engine", "cache"}
    metrics = document["metrics"]
    # The last two points: the traffic may have been just before a minute boundary.
    assert max(metrics["requests_per_minute"][-2:]) > 0
    assert metrics["totals"]["requests"] >= 3
    assert metrics["totals"]["latency_p50_ms"] is not None
    assert metrics["totals"]["cache_hit_rate"] is not None


def test_the_running_server_serves_a_status_page_naming_no_other_origin(server_url):
    reply = httpx.get(f"{server_url}/status", timeout=30)

    assert reply.status_code == 200
    assert absolute_urls(reply.text) == []
    assert references(reply.text).title == TITLE


# --- Headless Chromium against the running server ----------------------------------------------

needs_chromium = pytest.mark.skipif(
    not Browser.available(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)

RENDERED = "document.querySelector('#component-rows tr[data-component]') !== null"
COMPONENTS = """Array.from(document.querySelectorAll('#component-rows tr[data-component]')).map(
  row => ({name: row.dataset.component, status: row.querySelector('.status').textContent,
           cells: row.cells.length}))"""
CHARTS = """Array.from(document.querySelectorAll('figure.chart')).map(figure => ({
  id: figure.id,
  paths: figure.querySelectorAll('svg path').length,
  label: (figure.querySelector('svg') || {getAttribute: () => null}).getAttribute('aria-label'),
  latest: figure.querySelector('.latest').textContent}))"""
UPDATED_AT = "document.getElementById('updated-at').textContent"


@pytest.fixture
def status_page(browser: Browser, server_url: str) -> Iterator[Page]:
    """/status rendered after some traffic, in a fresh browser context."""
    analyze(server_url)
    with browser.opened(f"{server_url}/status", RENDERED) as page:
        yield page


@pytest.mark.slow
@needs_chromium
def test_the_status_page_shows_health_and_charts_offline_and_refreshes(status_page, server_url):
    page = status_page

    assert page.evaluate("document.title") == TITLE
    assert page.evaluate("document.getElementById('overall-status').textContent") == "healthy"
    components = {row["name"]: row for row in page.evaluate(COMPONENTS)}
    assert {"engine", "cache"} <= set(components)
    for name in ("engine", "cache"):
        assert components[name]["status"] == "healthy"
        assert components[name]["cells"] == 4  # name, status, latency, detail

    charts = {chart["id"]: chart for chart in page.evaluate(CHARTS)}
    assert charts["chart-requests"]["paths"] >= 1
    assert charts["chart-latency"]["paths"] >= 1
    for chart in charts.values():
        # Each chart is drawn with its latest value as text, or says it has nothing to draw.
        if chart["paths"]:
            assert chart["latest"].startswith(("this minute: ", "latest: ")), chart
            assert chart["label"], chart
        else:
            assert chart["latest"] == "no data yet", chart

    first = page.evaluate(UPDATED_AT)
    assert re.fullmatch(r"\d\d:\d\d:\d\d", first)
    page.wait_for(f"{UPDATED_AT} !== {json.dumps(first)}", timeout=7.5)

    polls = [r.url for r in page.requests if r.url == f"{server_url}/status.json"]
    assert len(polls) >= 2
    assert page.errors == []
    assert page.external_requests() == []
