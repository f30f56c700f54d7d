"""Request latency per operation, recorded by a Strawberry extension."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension


class RequestMetrics(SchemaExtension):
    """`RequestLatency` with an `operation` dimension: the root field (analyze, job, ...)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        metrics = context.context.container.metrics
        milliseconds = (time.perf_counter() - started) * 1_000
        metrics.observe_ms("RequestLatency", milliseconds, {"operation": _operation(context)})
        if context.result is not None and context.result.errors:
            metrics.increment("RequestErrors")


def _operation(context: object) -> str:
    document = getattr(context, "graphql_document", None)
    if document is None:
        return "invalid"
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            fields = [s for s in definition.selection_set.selections if isinstance(s, FieldNode)]
            names = {field.name.value for field in fields}
            return names.pop() if len(names) == 1 else "multiple"
    return "invalid"
