"""Per-request context: the services and a fresh DataLoader for every request."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from graphql_api.access import Principal
from graphql_api.bootstrap import Container
from graphql_api.domain.results import DocumentRequest, DocumentResult

#: The owner of jobs created without an API key (auth off on a local server).
LOCAL_OWNER = "local"


@dataclass
class Context:
    container: Container
    owner: str = LOCAL_OWNER
    #: The API key's holder when keys are enforced; None on an open local server.
    principal: Principal | None = None
    #: Query fields of one operation load through this, so their documents share one batch.
    analysis_loader: DataLoader[DocumentRequest, DocumentResult] = field(init=False)

    def __post_init__(self) -> None:
        self.analysis_loader = DataLoader(load_fn=self.container.analysis.analyze)
