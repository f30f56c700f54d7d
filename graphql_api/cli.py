"""The `aurastream` command line."""

from __future__ import annotations

import typer

from graphql_api.access.cli import app as keys_app

app = typer.Typer(help="AuraStream sentiment analysis.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.callback()
def main() -> None:
    """AuraStream: sentiment analysis over GraphQL."""


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", envvar="HOST", help="Interface to listen on."),
    port: int = typer.Option(8000, envvar="PORT", help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes."),
    log_level: str = typer.Option("info", help="Server log level."),
) -> None:
    """Run the API at http://HOST:PORT/graphql (GraphiQL in a browser)."""
    import uvicorn

    typer.echo(f"AuraStream listening on http://{host}:{port}/graphql")
    uvicorn.run(
        "graphql_api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
    )


@app.command()
def schema() -> None:
    """Print the GraphQL schema (SDL) that the code defines."""
    from graphql_api.gql.schema import build_schema
    from graphql_api.settings import Settings

    typer.echo(build_schema(Settings()).as_str())
