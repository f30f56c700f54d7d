"""The ASGI application: GraphQL at /graphql, health as JSON for load balancers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from graphql_api.adapters.recent_metrics import RecentMetrics
from graphql_api.bootstrap import Container, bootstrap
from graphql_api.gql.context import Context
from graphql_api.gql.errors import with_code
from graphql_api.gql.schema import build_schema
from graphql_api.services.health import HealthStatus
from graphql_api.settings import Settings
from graphql_api.web import STATIC_ROUTE_NAME, graphiql_response, static_files
from graphql_api.web.status import status_routes

#: The Prometheus text exposition format, version 0.0.4.
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, container: Container) -> None:
        settings = container.settings
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
        )
        self.container = container

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_response(request)  # GraphiQL and React served from /static, no CDN

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(self.container)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            response["errors"] = [_formatted(error) for error in result.errors]
        if result.extensions:
            response["extensions"] = result.extensions
        return response


def _formatted(error: GraphQLError) -> dict[str, Any]:
    # Errors with a path were raised while executing a field; the rest never ran.
    return with_code(dict(error.formatted), error, executed=error.path is not None)


def create_app(settings: Settings | None = None, container: Container | None = None) -> Starlette:
    container = container or bootstrap(settings)

    async def health(_: Request) -> Response:
        report = await container.health.check()
        status_code = 503 if report.status is HealthStatus.UNHEALTHY else 200
        return JSONResponse(report.as_json(), status_code=status_code)

    async def live(_: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def health_report() -> dict[str, object]:
        return (await container.health.check()).as_json()

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

    app = Starlette(
        routes=[
            Route("/graphql", GraphQLApp(container), methods=["GET", "POST", "OPTIONS"]),
            Route("/v1/health", health, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/v1/health/live", live, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *status_routes(health_report, container.recent or RecentMetrics()),
            Mount("/static", static_files(), name=STATIC_ROUTE_NAME),
        ],
        lifespan=lifespan,
    )
    app.state.container = container
    return app
