"""Lambda entry point: Mangum over the same ASGI app the local server runs."""

from __future__ import annotations

from typing import Any

from mangum import Mangum
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.app import create_app, freeze_start_up_heap
from graphql_api.lambda_events import EventGuard
from graphql_api.observability import lambda_entry
from graphql_api.settings import Settings


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


def build_lambda(app: Starlette) -> Any:
    """The Lambda function over `app`: every event answered (EventGuard), with the
    Powertools decorators around it."""
    container = app.state.container
    return lambda_entry(EventGuard(build_handler(app), container.metrics), container.emf)


# Built once per container at init; adapters connect lazily on first use, never at import.
# Settings refuse to start a Lambda without its AWS backend spelled out (fail closed).
settings = Settings()
settings.require_state_machine()
app = create_app(settings)
handler = build_lambda(app)
freeze_start_up_heap()  # the container's init is its start-up
