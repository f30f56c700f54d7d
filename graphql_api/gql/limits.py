"""What a query may cost, and the one cache of parsed and validated documents.

The cost check counts fields, aliases and depth as execution would see them, with every
fragment spread expanded, but works each fragment out once (memoised), so twenty fragments
that each spread the next twice cost twenty steps, not a million. It runs before the
specified rules, and a document over the limits is refused without running them.

Parsed documents and their validation errors are cached together under the query's SHA-256,
bounded by the bytes of query text they stand for, not by a count of arbitrary-size texts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    validate,
)
from graphql.validation import ASTValidationRule, ValidationContext
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.schema.schema import validate_document

#: Fields a query may select once fragments are expanded: ~30 aliased documents of ~20 fields
#: each, or the GraphiQL introspection query, fit well within it.
MAX_FIELDS = 2_000


class Cost(NamedTuple):
    fields: int
    aliases: int
    #: Fields on the longest path, introspection fields (`__schema`, ...) not counted.
    depth: int


_NOTHING = Cost(0, 0, 0)


@dataclass(frozen=True, slots=True)
class CostLimits:
    max_depth: int
    max_aliases: int
    max_fields: int = MAX_FIELDS

    def rule(self) -> type[ASTValidationRule]:
        limits = self

        class CostLimit(ASTValidationRule):
            def __init__(self, context: ValidationContext) -> None:
                super().__init__(context)
                for error in limits.errors(context.document):
                    context.report_error(error)

        return CostLimit

    def errors(self, document: DocumentNode) -> list[GraphQLError]:
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        counter = _CostCounter(fragments)
        errors = []
        for operation in document.definitions:
            if not isinstance(operation, OperationDefinitionNode):
                continue
            name = operation.name.value if operation.name else "anonymous"
            try:
                cost = counter.selections(operation.selection_set)
            except RecursionError:
                cost = Cost(self.max_fields + 1, 0, self.max_depth + 2)
            # Strawberry's depth limit counted levels below the root field; kept as it was.
            if cost.depth - 1 > self.max_depth:
                errors.append(
                    GraphQLError(
                        f"'{name}' exceeds maximum operation depth of {self.max_depth}",
                        operation,
                    )
                )
            if cost.aliases > self.max_aliases:
                errors.append(
                    GraphQLError(f"{cost.aliases} aliases found. Allowed: {self.max_aliases}")
                )
            if cost.fields > self.max_fields:
                errors.append(
                    GraphQLError(
                        f"'{name}' selects {cost.fields} fields once fragments are expanded; "
                        f"the limit is {self.max_fields}.",
                        operation,
                    )
                )
        return errors


@dataclass(slots=True)
class _CostCounter:
    fragments: dict[str, FragmentDefinitionNode]
    memo: dict[str, Cost] = field(default_factory=dict)
    visiting: set[str] = field(default_factory=set)

    def selections(self, selection_set: SelectionSetNode | None) -> Cost:
        if selection_set is None:
            return _NOTHING
        fields = aliases = depth = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = self.selections(selection.selection_set)
                fields += 1 + inner.fields
                aliases += (1 if selection.alias else 0) + inner.aliases
                introspection = selection.name.value.startswith("__")
                depth = max(depth, 0 if introspection else 1 + inner.depth)
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.selections(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
            else:  # pragma: no cover - graphql-core has no other selection kind
                continue
            fields, aliases = fields + inner.fields, aliases + inner.aliases
            depth = max(depth, inner.depth)
        return Cost(fields, aliases, depth)

    def fragment(self, name: str) -> Cost:
        found = self.memo.get(name)
        if found is not None:
            return found
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return _NOTHING  # unknown or cyclic: the specified rules report it
        self.visiting.add(name)
        cost = self.memo[name] = self.selections(definition.selection_set)
        self.visiting.discard(name)
        return cost


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    size: int
    errors: list[GraphQLError] | None = None


class DocumentCache:
    """Parsed documents and their validation errors under the query's SHA-256 digest.

    Bounded by the query bytes held (a parsed document is a fixed multiple of its text),
    so a few huge queries cannot hold what a few hundred small ones would.
    """

    def __init__(self, max_bytes: int = 2 * 1024 * 1024) -> None:
        self.entries: LRUCache[bytes, _Entry] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda entry: entry.size
        )

    def extension(self, limits: CostLimits) -> DocumentCacheExtension:
        return DocumentCacheExtension(self, limits)


class DocumentCacheExtension(SchemaExtension):
    """Parse and validate through the DocumentCache, and resolve the operation as the spec
    asks: a document of several operations needs an operationName that names one."""

    def __init__(self, cache: DocumentCache, limits: CostLimits) -> None:
        super().__init__()
        self.cache = cache
        self.limits = limits
        self.entry: _Entry | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query or ""
        key = hashlib.sha256(query.encode("utf-8", "surrogatepass")).digest()
        entry = self.cache.entries.get(key)
        if entry is None:
            entry = _Entry(_parse(query, context.parse_options), len(query) + 512)
            if entry.size <= self.cache.entries.maxsize:
                self.cache.entries[key] = entry
        _resolve_operation(entry.document, context.operation_name)
        self.entry = entry
        context.graphql_document = entry.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        entry = self.entry
        if entry is not None and entry.errors is None:
            # The cost check alone first: a document over the limits never meets the
            # specified rules, some of which walk every fragment spread.
            schema = context.schema._schema
            errors = validate(schema, entry.document, [self.limits.rule()])
            if not errors:
                errors = validate_document(schema, entry.document, context.validation_rules)
            entry.errors = errors
        if entry is not None:
            context.pre_execution_errors = list(entry.errors or ())
        yield


def _parse(query: str, options: Mapping[str, Any]) -> DocumentNode:
    if not query:
        raise GraphQLError("Syntax Error: the document is empty.")
    try:
        return parse(query, **options)
    except RecursionError:
        raise GraphQLError("Syntax Error: the document nests too deeply.") from None


def _resolve_operation(document: DocumentNode, operation_name: str | None) -> None:
    """Raise CannotGetOperationTypeError unless exactly one operation is meant."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) != 1:
            raise CannotGetOperationTypeError(None)
        return
    if not any(op.name is not None and op.name.value == operation_name for op in operations):
        raise CannotGetOperationTypeError(operation_name)
