"""Browser pages served by the API: GraphiQL and the static files they load, all offline."""

from graphql_api.web.assets import (
    STATIC_DIR,
    STATIC_ROUTE_NAME,
    CachedStaticFiles,
    asset_url,
    static_files,
)
from graphql_api.web.graphiql import graphiql_response

__all__ = [
    "STATIC_DIR",
    "STATIC_ROUTE_NAME",
    "CachedStaticFiles",
    "asset_url",
    "graphiql_response",
    "static_files",
]
