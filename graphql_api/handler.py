"""Lambda entry point: Mangum over the same ASGI app the local server runs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum
from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.app import create_app
from graphql_api.observability import logger, tracer


class StripStagePrefix:
    """Serve `/prod/graphql` as `/graphql`: HTTP API events keep the stage in the path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            stage = scope.get("aws.event", {}).get("requestContext", {}).get("stage")
            prefix = f"/{stage}"
            path: str = scope["path"]
            if stage and stage != "$default" and (path == prefix or path.startswith(prefix + "/")):
                scope = {**scope, "path": path[len(prefix) :] or "/"}
        await self.app(scope, receive, send)


def build_handler(app: ASGIApp) -> Mangum:
    return Mangum(StripStagePrefix(app), lifespan="off")


# Built once per container at init; adapters connect lazily on first use, never at import.
app = create_app()
asgi_handler = build_handler(app)
_emf = app.state.container.emf


def _serve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        response: dict[str, Any] = asgi_handler(event, context)
        return response
    finally:
        if _emf is not None:
            _emf.flush()


def _instrument(function: Any) -> Any:
    """Powertools decorators: JSON logs with the API Gateway request id as correlation id and
    the cold start flagged, metrics flushed once per invocation, and X-Ray where enabled."""
    function = logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
    )(function)
    if _emf is not None:
        function = _emf.powertools.log_metrics(capture_cold_start_metric=True)(function)
    active_tracer = tracer()
    if active_tracer is not None:
        function = active_tracer.capture_lambda_handler(capture_response=False)(function)
    return function


handler = _instrument(_serve)
