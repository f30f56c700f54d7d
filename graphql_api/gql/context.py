"""Per-request context: the services, who the request acts for, and a fresh DataLoader."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from strawberry.dataloader import DataLoader

from graphql_api.access import Principal
from graphql_api.bootstrap import Container
from graphql_api.domain.results import DocumentRequest, DocumentResult


@dataclass
class Context:
    container: Container
    #: The API key's holder; the local tenant with every scope on an open local server.
    principal: Principal = field(default_factory=Principal.local)
    #: Query fields of one operation load through this, so their documents share one batch.
    analysis_loader: DataLoader[DocumentRequest, DocumentResult] = field(init=False)

    def __post_init__(self) -> None:
        self.analysis_loader = DataLoader(load_fn=self.container.analysis.analyze)

    @property
    def owner(self) -> str:
        """The tenant whose jobs and usage the request sees."""
        return self.principal.tenant_id


Info = strawberry.Info[Context, None]
