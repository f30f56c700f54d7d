"""Static files served by the API itself, with content-hashed URLs that browsers cache for good."""

from __future__ import annotations

import hashlib
import os
import posixpath
from functools import lru_cache
from pathlib import Path

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: The name of the static `Mount`, for `request.url_for(STATIC_ROUTE_NAME, path=...)`.
STATIC_ROUTE_NAME = "static"
#: The query parameter that carries a file's content hash; `asset_url` adds it.
VERSION_PARAMETER = "v"

#: How every page served by the API begins, up to its own stylesheets (format with `title`):
#: no referrer sent to anyone, and no favicon request.
PAGE_HEAD = """\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>{title}</title>
    <link rel="icon" href="data:,">
"""

_IMMUTABLE = "public, max-age=31536000, immutable"
#: Without a version the URL's content can change under it: revalidate with the ETag.
_REVALIDATE = "no-cache"


class CachedStaticFiles(StaticFiles):
    """`StaticFiles` that lets browsers keep content-hashed URLs for a year.

    A request carrying `?v=<hash>` (as built by `asset_url`) is cached as immutable: a new
    file content gets a new hash, hence a new URL. Other requests must revalidate, which
    costs a 304 thanks to the ETag `StaticFiles` already sends.
    """

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = bool(QueryParams(scope.get("query_string", b"")).get(VERSION_PARAMETER))
        response.headers["Cache-Control"] = _IMMUTABLE if versioned else _REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def static_files() -> CachedStaticFiles:
    """The ASGI app to mount at `/static` under the name `STATIC_ROUTE_NAME`."""
    return CachedStaticFiles(directory=STATIC_DIR)


def content_hash(path: str) -> str:
    """The first 16 hex digits of the sha256 of `STATIC_DIR / path`.

    Computed once per file version: an edited file (same path, new size or mtime) gets a new
    hash, so browsers never keep a stale copy under an immutable URL.
    """
    file = (STATIC_DIR / path).resolve()
    if not file.is_relative_to(STATIC_DIR) or not file.is_file():
        raise FileNotFoundError(f"no static file {path!r}")
    stat = file.stat()
    return _sha256_prefix(file, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _sha256_prefix(file: Path, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()[:16]


def asset_url(request: Request, path: str) -> str:
    """The URL of a static file relative to the requested page, with its content hash.

    Relative, so it never names a scheme or host and still resolves when a proxy serves the
    application under a prefix it strips before the request arrives (an API Gateway stage:
    `/prod/graphql` loads `/prod/static/...`).
    """
    target = request.url_for(STATIC_ROUTE_NAME, path=path).path
    relative = posixpath.relpath(target, posixpath.dirname(request.url.path) or "/")
    return f"{relative}?{VERSION_PARAMETER}={content_hash(path)}"
