"""The ASGI application: GraphQL at /graphql, health for load balancers, metrics and status."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from graphql_api.adapters.recent_metrics import RecentMetrics
from graphql_api.bootstrap import Container, bootstrap
from graphql_api.domain.errors import ErrorCode
from graphql_api.gql.http import PREFLIGHT_HEADERS, GraphQLEndpoint, json_refusal
from graphql_api.gql.schema import build_schema
from graphql_api.observability import route_std_logging
from graphql_api.services.health import HealthStatus
from graphql_api.settings import Settings
from graphql_api.web import STATIC_ROUTE_NAME, graphiql_response, static_files
from graphql_api.web.access_log import AccessLog
from graphql_api.web.rest import rest_routes
from graphql_api.web.status import status_routes

#: The Prometheus text exposition format, version 0.0.4.
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


#: Starlette's own refusals (unknown path, method not routed), as the GraphQL error shape.
_HTTP_CODES = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}


async def http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = _HTTP_CODES.get(error.status_code, ErrorCode.BAD_REQUEST)
    return json_refusal(error.status_code, code, str(error.detail), dict(error.headers or {}))


def create_app(settings: Settings | None = None, container: Container | None = None) -> Starlette:
    route_std_logging()
    container = container or bootstrap(settings)
    settings = container.settings
    graphql = GraphQLEndpoint(
        build_schema(settings),
        container,
        graphiql_response if settings.graphiql_enabled else None,
    )

    async def health(_: Request) -> Response:
        report = await container.health.check()
        status_code = 503 if report.status is HealthStatus.UNHEALTHY else 200
        return JSONResponse(report.as_json(), status_code=status_code)

    async def health_report() -> dict[str, object]:
        return (await container.health.check()).as_json()

    async def live(_: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def metrics(_: Request) -> Response:
        if container.prometheus is None:
            return PlainTextResponse("Metrics go to CloudWatch on this backend.\n", 404)
        return Response(container.prometheus.exposition(), media_type=PROMETHEUS_CONTENT_TYPE)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await container.jobs.resume_unfinished()
        yield
        stop = getattr(container.jobs.runner, "stop", None)
        if stop is not None:
            await stop()
        container.close()

    middleware = [Middleware(AccessLog)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["content-type", *PREFLIGHT_HEADERS],
                max_age=600,
            )
        )
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/v1/health", health, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/v1/health/live", live, methods=["GET"]),
            *rest_routes(container),
            Route("/metrics", metrics, methods=["GET"]),
            *status_routes(health_report, container.recent or RecentMetrics()),
            Mount("/static", static_files(), name=STATIC_ROUTE_NAME),
        ],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
    )
    # Paths are exact: `/v1/jobs/` is a JSON 404 with a code, never a redirect to guess at.
    app.router.redirect_slashes = False
    app.state.container = container
    return app


def freeze_start_up_heap() -> None:
    """Move everything built at start-up (schema, clients, the model's tables: tens of
    thousands of objects) out of the garbage collector's sight. Full collections then
    walk only what requests create, so they stop pausing a request for tens of
    milliseconds every few thousand requests (the tail latency in BENCHMARKS.md)."""
    gc.collect()
    gc.freeze()


def create_served_app() -> Starlette:
    """The app one server process runs (`aurastream serve` builds one per worker)."""
    app = create_app()
    freeze_start_up_heap()
    return app
