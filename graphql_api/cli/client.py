"""A small GraphQL-over-HTTP client for the CLI: a local server or a deployed URL."""

from __future__ import annotations

from typing import Any

import httpx

RESULT_FIELDS = """
  id sentiment languageCode cached engine degraded
  scores { positive negative neutral mixed }
  error { code message }
"""
ANALYZE = f"""
mutation Analyze($input: AnalyzeInput!) {{
  analyze(input: $input) {{ results {{ {RESULT_FIELDS} }} }}
}}"""
JOB_FIELDS = """
  id status error createdAt completedAt durationSeconds outputUrl
  progress { total processed failed percent }
  summary { positive negative neutral mixed }
"""
SUBMIT_JOB = f"""
mutation SubmitJob($input: SubmitJobInput!) {{ submitJob(input: $input) {{ {JOB_FIELDS} }} }}"""
JOB = f"query Job($id: ID!) {{ job(id: $id) {{ {JOB_FIELDS} }} }}"
JOBS = f"""
query Jobs($first: Int, $status: JobStatus) {{
  jobs(first: $first, status: $status) {{ edges {{ node {{ {JOB_FIELDS} }} }} }}
}}"""
CACHE_STATS = (
    "{ cacheStats { enabled entries memoryEntries hits misses errors hitRate storeAvailable } }"
)
CLEAR_CACHE = "mutation { clearCache(confirm: true) { deleted complete } }"


class ApiError(Exception):
    """The API refused the request; `code` is its stable error code."""

    def __init__(self, message: str, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code, self.status = code, status


class AuraStreamClient:
    def __init__(self, url: str, api_key: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = url.rstrip("/").removesuffix("/graphql")
        headers = {"accept": "application/graphql-response+json, application/json"}
        if api_key:
            headers["x-api-key"] = api_key
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def __enter__(self) -> AuraStreamClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a successful operation; raise ApiError with the first error's code."""
        try:
            reply = self._http.post("/graphql", json={"query": query, "variables": variables})
        except httpx.HTTPError as error:
            raise ApiError(f"Cannot reach {self.base_url}: {error}") from None
        try:
            body = reply.json()
        except ValueError:
            message = f"HTTP {reply.status_code} from {self.base_url}"
            raise ApiError(message, None, reply.status_code) from None
        errors = body.get("errors")
        if errors:
            first = errors[0]
            code = (first.get("extensions") or {}).get("code")
            raise ApiError(first.get("message", "error"), code, reply.status_code)
        data: dict[str, Any] = body["data"]
        return data

    def health(self) -> dict[str, Any]:
        """The JSON health report; unhealthy answers come with HTTP 503 and are returned too."""
        try:
            reply = self._http.get("/v1/health")
            report: dict[str, Any] = reply.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ApiError(f"Cannot read health from {self.base_url}: {error}") from None
        return report
