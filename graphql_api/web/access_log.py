"""One JSON access-log line per request: method, path, status, latency and the API key id
(never the key itself), so a compromised key's requests can be traced."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.observability import request_facts

logger = logging.getLogger("graphql_api.access_log")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        facts: dict[str, Any] = {}
        token = request_facts.set(facts)
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            logger.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "latency_ms": round((time.perf_counter() - started) * 1_000, 3),
                    "key_id": facts.get("key_id"),
                },
            )
            request_facts.reset(token)
