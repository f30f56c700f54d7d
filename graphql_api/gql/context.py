"""Per-request context: the services and a fresh DataLoader for every request."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from graphql_api.bootstrap import Container
from graphql_api.domain.results import DocumentRequest, DocumentResult


@dataclass
class Context:
    container: Container
    #: Every resolver of one operation loads through this, so their documents share one batch.
    analysis_loader: DataLoader[DocumentRequest, DocumentResult] = field(init=False)

    def __post_init__(self) -> None:
        self.analysis_loader = DataLoader(load_fn=self.container.analysis.analyze)
