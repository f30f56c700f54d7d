"""The bare anchor every core benchmark compares against: Strawberry over Starlette's ASGI
with the parser and validation caches, nothing else. `uvicorn bench.anchor:app` serves it;
`handler` is the same app under Mangum, as a Lambda function."""

from __future__ import annotations

import strawberry
from mangum import Mangum
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Mutation:
    @strawberry.mutation
    def echo(self, text: str) -> str:
        return text


schema = strawberry.Schema(
    query=Query, mutation=Mutation, extensions=[ParserCache, ValidationCache]
)
app = GraphQL(schema)
handler = Mangum(app, lifespan="off")

#: The anchor's stand-in for a cached `analyze`: one mutation with one string argument.
MUTATION = 'mutation { echo(text: "The support team was great!") }'
