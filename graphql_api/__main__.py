from graphql_api.cli import app

app(prog_name="aurastream")
