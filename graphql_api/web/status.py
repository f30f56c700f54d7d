"""The AuraStream status page: health and the last hour of metrics, for operators.

`GET /status` is plain HTML naming its script and stylesheet under `/static` (relative URLs,
so the page works behind a stage prefix); `static/aurastream/status.js` fetches
`GET /status.json` every few seconds and draws each series as an inline SVG sparkline. The
Content-Security-Policy lets the page load from and connect to its own origin only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from graphql_api.adapters.recent_metrics import RecentMetrics
from graphql_api.web.assets import PAGE_HEAD, asset_url

TITLE = "AuraStream status"
SCRIPT = "aurastream/status.js"
STYLESHEET = "aurastream/status.css"
#: How often the page fetches /status.json again.
REFRESH_SECONDS = 5

#: What `status_routes` calls for the health part: the JSON of `/v1/health`.
HealthCheck = Callable[[], Awaitable[Mapping[str, Any]]]

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

_NO_CACHE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class Chart:
    """One sparkline: the snapshot series it draws, their legend labels and how to print them."""

    key: str
    title: str
    series: tuple[str, ...]
    labels: tuple[str, ...]
    #: "count", "ms" or "percent": how status.js prints values and scales the y axis.
    unit: str


CHARTS = (
    Chart("requests", "Requests per minute", ("requests_per_minute",), ("requests",), "count"),
    Chart("latency", "Latency", ("latency_p50_ms", "latency_p99_ms"), ("p50", "p99"), "ms"),
    Chart("cache", "Cache hit rate", ("cache_hit_rate",), ("hit rate",), "percent"),
    Chart(
        "engine",
        "Engine fallbacks and errors",
        ("engine_fallbacks", "engine_errors"),
        ("fallbacks", "errors"),
        "count",
    ),
    Chart(
        "jobs",
        "Jobs",
        ("jobs_submitted", "jobs_succeeded", "jobs_failed"),
        ("submitted", "succeeded", "failed"),
        "count",
    ),
)

_PAGE = (
    PAGE_HEAD
    + """\
    <link rel="stylesheet" href="{stylesheet}">
  </head>
  <body data-refresh-seconds="{refresh}">
    <header>
      <h1>{title}</h1>
      <p class="overall">
        Overall status:
        <strong id="overall-status" class="status status-unknown" role="status">loading</strong>
      </p>
      <p class="meta">
        Version <span id="version">unknown</span> · updated at
        <time id="updated-at">never</time>
        · refreshed every {refresh} s
      </p>
      <p id="refresh-error" class="refresh-error" role="alert" hidden></p>
      <noscript><p>This page needs JavaScript; the same data is at
        <a href="status.json">status.json</a>.</p></noscript>
    </header>
    <main>
      <section aria-labelledby="components-heading">
        <h2 id="components-heading">Components</h2>
        <table class="components">
          <thead>
            <tr>
              <th scope="col">Component</th>
              <th scope="col">Status</th>
              <th scope="col">Latency</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody id="component-rows">
            <tr><td colspan="4">Loading…</td></tr>
          </tbody>
        </table>
      </section>
      <section aria-labelledby="metrics-heading">
        <h2 id="metrics-heading">Last hour</h2>
        <p class="hint">One point per minute, oldest on the left; the last point is the
          current minute, still filling.</p>
        <dl id="totals" class="totals"></dl>
        <div class="charts">
{charts}
        </div>
      </section>
    </main>
    <script src="{script}"></script>
  </body>
</html>
"""
)

_CHART = """\
          <figure class="chart" id="chart-{key}" data-series="{series}" data-labels="{labels}"
                  data-unit="{unit}" aria-labelledby="chart-{key}-title">
            <figcaption>
              <h3 id="chart-{key}-title">{title}</h3>
              <p class="latest" id="chart-{key}-latest">no data yet</p>
            </figcaption>
            <div class="plot" id="chart-{key}-plot"></div>
          </figure>"""


def render_page(request: Request) -> str:
    charts = "\n".join(
        _CHART.format(
            key=escape(chart.key),
            title=escape(chart.title),
            series=escape(" ".join(chart.series)),
            labels=escape("|".join(chart.labels)),
            unit=escape(chart.unit),
        )
        for chart in CHARTS
    )
    return _PAGE.format(
        title=escape(TITLE),
        refresh=REFRESH_SECONDS,
        stylesheet=escape(asset_url(request, STYLESHEET)),
        script=escape(asset_url(request, SCRIPT)),
        charts=charts,
    )


async def status_document(health_check: HealthCheck, recent: RecentMetrics) -> dict[str, Any]:
    """What `/status.json` serves: the health report and the metrics snapshot."""
    return {"health": dict(await health_check()), "metrics": recent.snapshot()}


def status_routes(health_check: HealthCheck, recent: RecentMetrics) -> list[BaseRoute]:
    """`GET /status` (the page) and `GET /status.json` (its data), to add to the app's routes.

    The app must also mount the static files under the name `STATIC_ROUTE_NAME`.
    """

    async def page(request: Request) -> Response:
        return HTMLResponse(
            render_page(request),
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, **_NO_CACHE_HEADERS},
        )

    async def data(_: Request) -> Response:
        return JSONResponse(await status_document(health_check, recent), headers=_NO_CACHE_HEADERS)

    return [
        Route("/status", page, methods=["GET"], name="status_page"),
        Route("/status.json", data, methods=["GET"], name="status_json"),
    ]
