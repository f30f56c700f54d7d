"""Scopes are enforced per field, wherever the field is reached: every root field, through
every way a document can reach it, with every scope, over the ASGI app and the Lambda handler.
A refused field never does its work."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from graphql_api.access import Limits, Scope
from graphql_api.bootstrap import Container, bootstrap
from graphql_api.gql.schema import build_schema
from graphql_api.settings import Settings
from tests.api.conftest import make_transport
from tests.fakes import RecordingCache, RecordingEngine, positive
from tests.support import Transport, post_graphql, run

T = TypeVar("T")
UNLIMITED = Limits(rate_per_second=1e6, burst=1_000_000, daily_document_quota=10**9)


@dataclass(frozen=True)
class Field:
    name: str
    selection: str
    operation: str  # query or mutation
    scope: Scope | None  # None: any valid key


FIELDS = [
    Field("analyze", 'analyze(input: {documents: [{text: "good"}]}) { results { sentiment } }',
          "mutation", Scope.ANALYZE),
    Field("analyzeDocument", 'analyzeDocument(document: {text: "good"}) { sentiment }',
          "query", Scope.ANALYZE),
    Field("submitJob", 'submitJob(input: {documents: [{text: "good"}]}) { id }',
          "mutation", Scope.JOBS),
    Field("job", 'job(id: "00000000-0000-4000-8000-000000000000") { id }', "query", Scope.JOBS),
    Field("jobs", "jobs { edges { node { id } } }", "query", Scope.JOBS),
    Field("cacheStats", "cacheStats { enabled }", "query", Scope.OPS),
    Field("clearCache", "clearCache(confirm: true) { deleted }", "mutation", Scope.OPS),
    Field("usage", "usage { day }", "query", None),
    Field("health", "health { status }", "query", None),
]  # fmt: skip


def _ways(field: Field) -> dict[str, str]:
    root = "Query" if field.operation == "query" else "Mutation"
    op, sel = field.operation, field.selection
    return {
        "plain": f"{op} {{ {sel} }}",
        "alias": f"{op} {{ reached: {sel} }}",
        "named fragment": f"{op} {{ ...F }} fragment F on {root} {{ {sel} }}",
        "inline fragment": f"{op} {{ ... on {root} {{ {sel} }} }}",
        "untyped inline fragment": f"{op} {{ ... {{ {sel} }} }}",
        "nested fragments": (
            f"{op} {{ ...A }} fragment A on {root} {{ ...B }} fragment B on {root} {{ {sel} }}"
        ),
        "inline inside named": (
            f"{op} {{ ...A }} fragment A on {root} {{ ... on {root} {{ {sel} }} }}"
        ),
    }


SCOPE_SETS = {
    "analyze": {Scope.ANALYZE},
    "jobs": {Scope.JOBS},
    "ops": {Scope.OPS},
    "none": set(),
    "all": set(Scope),
}
CASES = [
    pytest.param(field, way, scopes, id=f"{field.name}-{way}-{scopes}")
    for field in FIELDS
    for way in _ways(field)
    for scopes in SCOPE_SETS
]


@dataclass
class World:
    container: Container
    engine: RecordingEngine
    cache: RecordingCache
    keys: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir: Path = tmp_path_factory.mktemp("permissions")
    engine, cache = RecordingEngine(), RecordingCache()
    container = bootstrap(Settings(data_dir=data_dir, auth="required"), engine=engine, cache=cache)

    async def create_keys() -> dict[str, str]:
        access = container.access
        created = {
            name: await access.create_key("acme", scopes, limits=UNLIMITED)
            for name, scopes in SCOPE_SETS.items()
        }
        return {name: new.key for name, new in created.items()}

    keys = run(create_keys())
    yield World(container, engine, cache, keys)
    container.close()


@pytest.fixture(scope="module", params=["asgi", "lambda-v2", "lambda-v1"])
def transport(request, world: World) -> Transport:
    return make_transport(request.param, world.container)


def _job_count(container: Container) -> int:
    async def count() -> int:
        found, _ = await container.jobs.list_jobs("acme", None, 100, None)
        return len(found)

    return run(count())


@pytest.mark.parametrize(("field", "way", "scopes"), CASES)
def test_a_field_is_served_exactly_when_the_key_has_its_scope(
    world: World, transport: Transport, field: Field, way: str, scopes: str
):
    allowed = field.scope is None or field.scope in SCOPE_SETS[scopes]
    world.cache.entries["sentinel"] = (positive(), 60)
    analysed, jobs = len(world.engine.analyze_calls), _job_count(world.container)

    reply = post_graphql(transport, _ways(field)[way], headers={"x-api-key": world.keys[scopes]})

    body = reply.json()
    codes = [e["extensions"]["code"] for e in body.get("errors", [])]
    assert "INTERNAL_SERVER_ERROR" not in codes
    if allowed:
        assert "FORBIDDEN" not in codes, body
        return
    assert codes == ["FORBIDDEN"], body
    assert field.scope is not None
    assert field.scope.value in body["errors"][0]["message"]
    assert (body.get("data") or {}).get("reached", None) is None
    # The field's work never happened.
    assert len(world.engine.analyze_calls) == analysed
    assert _job_count(world.container) == jobs
    assert "sentinel" in world.cache.entries


def test_every_field_that_reaches_data_declares_its_scope():
    schema = build_schema(Settings())
    open_fields = {("Query", "health"), ("Query", "usage")}
    checked = []
    for type_name in ("Query", "Mutation", "Job"):
        definition = schema.get_type_by_name(type_name)
        assert definition is not None
        for strawberry_field in definition.fields:  # type: ignore[union-attr]
            if type_name == "Job" and strawberry_field.base_resolver is None:
                continue  # plain attributes of a job the caller already reached
            name = strawberry_field.graphql_name or strawberry_field.python_name
            if (type_name, name) in open_fields:
                continue
            scopes = [
                permission.scope
                for extension in strawberry_field.extensions
                for permission in getattr(extension, "permissions", [])
            ]
            assert scopes, f"{type_name}.{name} declares no scope"
            checked.append(name)
    assert len(checked) >= 9
