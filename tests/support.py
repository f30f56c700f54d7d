"""One GraphQL client over several transports: the ASGI app over HTTP and the Lambda handler."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import subprocess
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs

import httpx
from starlette.applications import Starlette
from starlette.types import ASGIApp

from graphql_api.handler import build_lambda

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "schema" / "operations"
EVENTS = Path(__file__).parent / "events"


T = TypeVar("T")


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run on a loop of its own. asyncio.run would unset the thread's event loop, which the
    Lambda adapter (Mangum) asks for on every invocation."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work)
    finally:
        loop.close()


def operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Transport(Protocol):
    name: str

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> Reply: ...


class AsgiTransport:
    name = "asgi"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def request(self, method, path, *, body=b"", headers=None, query=""):
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                url = f"{path}?{query}" if query else path
                return await client.request(method, url, content=body, headers=headers)

        response = asyncio.run(send())
        return Reply(response.status_code, dict(response.headers), response.content)


class LambdaTransport:
    """Invokes the Lambda handler, decorators and all, with real-shaped API Gateway events
    (v1 REST or v2 HTTP API)."""

    def __init__(self, app: Starlette, version: str, base64_body: bool = False) -> None:
        self.handler = build_lambda(app)
        self.version = version
        self.base64_body = base64_body
        self.name = f"lambda-{version}{'-base64' if base64_body else ''}"
        template = "http_api_v2.json" if version == "v2" else "rest_api_v1.json"
        self.template = json.loads((EVENTS / template).read_text())
        self.context = LambdaContext(**json.loads((EVENTS / "lambda_context.json").read_text()))

    def request(self, method, path, *, body=b"", headers=None, query=""):
        return self.invoke(self.event(method, path, body=body, headers=headers, query=query))

    def event(self, method, path, *, body=b"", headers=None, query="") -> dict[str, Any]:
        """A real-shaped event for this request, to send as it is or to spoil first."""
        event = copy.deepcopy(self.template)
        encoded = base64.b64encode(body).decode() if self.base64_body else body.decode()
        event["body"], event["isBase64Encoded"] = encoded, self.base64_body
        extra = {k.lower(): v for k, v in (headers or {}).items()}
        if self.version == "v2":
            event["rawPath"] = event["requestContext"]["http"]["path"] = f"/prod{path}"
            event["requestContext"]["http"]["method"] = method
            event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
            event["rawQueryString"] = query
            event["headers"].update(extra)
        else:
            event["path"] = event["resource"] = path
            event["requestContext"]["path"] = f"/prod{path}"
            event["httpMethod"] = event["requestContext"]["httpMethod"] = method
            params = {k: v for k, v in parse_qs(query).items()} if query else None
            event["multiValueQueryStringParameters"] = params
            event["queryStringParameters"] = (
                {k: v[-1] for k, v in params.items()} if params else None
            )
            for key, value in extra.items():
                event["headers"][key] = value
                event["multiValueHeaders"][key] = [value]
        return event

    def invoke(self, event: Any) -> Reply:
        response = self.handler(event, self.context)
        raw = response.get("body") or ""
        content = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
        headers_out = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        return Reply(response["statusCode"], headers_out, content)


@dataclass
class LambdaContext:
    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def post_graphql(
    transport: Transport,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    merged = {"content-type": "application/json", "accept": "application/json", **(headers or {})}
    return transport.request("POST", "/graphql", body=body, headers=merged)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a child by its PID: politely, then for good after ten seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def chattr(flag: str, path: Path) -> None:
    """Set or clear the immutable flag (`+i`/`-i`) under `path`: read-only even to root."""
    subprocess.run(["chattr", "-R", flag, str(path)], check=True, capture_output=True)
