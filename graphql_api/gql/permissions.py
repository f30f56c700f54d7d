"""Field-level scopes: each field that reaches data declares the scope it needs, and the
executor checks it wherever the field is reached (aliased, in named or inline fragments,
nested). The decision itself belongs to AccessService.authorize."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission, PermissionExtension

from graphql_api.access import Scope
from graphql_api.gql.context import Info


class RequireScope(BasePermission):
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context = info.context
        # Raises Forbidden (code FORBIDDEN) rather than returning False, so the caller
        # learns which scope is missing.
        context.container.access.authorize(context.principal, self.scope)
        return True


def requires(scope: Scope) -> PermissionExtension:
    """The extension for `strawberry.field(extensions=[requires(Scope.JOBS)])`."""
    return PermissionExtension(permissions=[RequireScope(scope)], use_directives=False)
