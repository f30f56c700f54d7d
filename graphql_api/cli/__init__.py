"""The `aurastream` command line: `main` holds the commands, `client` talks GraphQL over
HTTP to a server, `keys` manages API keys in the configured store."""

from graphql_api.cli.main import app

__all__ = ["app"]
