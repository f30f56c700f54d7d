"""The `aurastream` command line: run the server, and operate it or a deployed API.

Operating commands talk GraphQL over HTTP to `--url` (default the local server) with
`--api-key`; both also come from AURASTREAM_URL and AURASTREAM_API_KEY. Output is for
people by default and JSON with `--json`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from graphql_api.cli.client import (
    ANALYZE,
    CACHE_STATS,
    CLEAR_CACHE,
    JOB,
    JOBS,
    SUBMIT_JOB,
    ApiError,
    AuraStreamClient,
)
from graphql_api.cli.keys import app as keys_app
from graphql_api.ops.cli import ops_app

app = typer.Typer(help="AuraStream sentiment analysis.", no_args_is_help=True)
jobs_app = typer.Typer(help="Submit, follow and list batch jobs.", no_args_is_help=True)
cache_app = typer.Typer(
    help="The result cache: statistics, warming, clearing.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
app.add_typer(jobs_app, name="jobs")
app.add_typer(cache_app, name="cache")
app.add_typer(ops_app, name="ops")
console = Console()
errors = Console(stderr=True)

#: Documents per `analyze` call: the server's default limit.
BATCH = 100
FORMATS = {".jsonl": "JSONL", ".ndjson": "JSONL", ".csv": "CSV", ".txt": "TEXT"}
JsonOption = typer.Option(False, "--json", help="Print JSON for scripts.")
TextColumnOption = typer.Option("text", help="The field or column holding the text.")
LanguageOption = typer.Option(None, help="Language of every text (else detected).")


@dataclass
class Target:
    url: str
    api_key: str | None

    def client(self) -> AuraStreamClient:
        return AuraStreamClient(self.url, self.api_key)


@app.callback()
def main(
    ctx: typer.Context,
    url: str = typer.Option(
        "http://127.0.0.1:8000", envvar="AURASTREAM_URL", help="The API: local or deployed."
    ),
    api_key: str | None = typer.Option(
        None, envvar="AURASTREAM_API_KEY", help="Sent as X-API-Key.", show_default=False
    ),
) -> None:
    """AuraStream: sentiment analysis over GraphQL."""
    ctx.obj = Target(url, api_key)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", envvar="HOST", help="Interface to listen on."),
    port: int = typer.Option(8000, envvar="PORT", help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes."),
    log_level: str = typer.Option("info", help="Server log level."),
) -> None:
    """Run the API at http://HOST:PORT/graphql (GraphiQL in a browser)."""
    import uvicorn

    # Keys become mandatory as soon as the server listens beyond loopback.
    os.environ["AURASTREAM_LISTEN_HOST"] = host
    from graphql_api.cli.keys import describe_store
    from graphql_api.settings import Settings

    settings = Settings()
    typer.echo(f"AuraStream listening on http://{host}:{port}/graphql")
    typer.echo(f"Data: {settings.data_dir.resolve()}; keys: {describe_store(settings)}")
    if settings.auth_enforced:
        typer.echo("API keys are required (X-API-Key); create one with `aurastream keys create`.")
    from graphql_api.web.protocol import JsonErrorHttpProtocol

    uvicorn.run(
        "graphql_api.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,  # the app writes its own access log, with the key id
        http=JsonErrorHttpProtocol,  # JSON refusals even for requests uvicorn cannot parse
    )


@app.command()
def schema() -> None:
    """Print the GraphQL schema (SDL) that the code defines."""
    from graphql_api.gql.schema import build_schema
    from graphql_api.settings import Settings

    typer.echo(build_schema(Settings()).as_str())


@app.command()
def openapi() -> None:
    """Print the OpenAPI 3.1 document of the REST endpoints that the code defines."""
    from graphql_api.web.rest import openapi_document

    typer.echo(json.dumps(openapi_document(), indent=2))


@app.command()
def health(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """The daily health check: exit 0 when healthy, 1 when degraded, 2 otherwise."""
    report = _call(lambda client: client.health(), ctx)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        table = Table(title=f"AuraStream {report.get('version', '')}: {report['status']}")
        for column in ("component", "status", "latency ms", "detail"):
            table.add_column(column)
        details = report.get("details", {})
        for name, status in report.get("components", {}).items():
            style = {"healthy": "green", "degraded": "yellow"}.get(status, "red")
            info = details.get(name, {})
            latency = info.get("latencyMs")
            table.add_row(
                name,
                f"[{style}]{status}[/]",
                f"{latency:.1f}" if latency is not None else "",
                info.get("detail", ""),
            )
        console.print(table)
    raise typer.Exit({"healthy": 0, "degraded": 1}.get(report["status"], 2))


@app.command()
def analyze(
    ctx: typer.Context,
    texts: list[str] = typer.Argument(None, help="Texts to analyse.", show_default=False),
    file: Path | None = typer.Option(None, "--file", "-f", help="JSON Lines, CSV or text."),
    text_column: str = TextColumnOption,
    language: str | None = LanguageOption,
    as_json: bool = JsonOption,
) -> None:
    """Analyse texts given as arguments or read from a file (batched, with progress)."""
    documents = _documents(texts, file, text_column, language)
    results = _analyse_all(ctx, documents, show_progress=file is not None and not as_json)
    if as_json:
        for result in results:
            typer.echo(json.dumps(result))
        return
    table = Table()
    for column in (
        "id",
        "sentiment",
        "positive",
        "negative",
        "neutral",
        "mixed",
        "language",
        "cached",
        "engine",
    ):
        table.add_column(column)
    for r in results:
        if r["error"]:
            table.add_row(
                r["id"] or "",
                f"[red]{r['error']['code']}[/]",
                "",
                "",
                "",
                "",
                "",
                "",
                r["error"]["message"],
            )
            continue
        s = r["scores"]
        table.add_row(
            r["id"] or "",
            r["sentiment"],
            *(f"{s[k]:.3f}" for k in ("positive", "negative", "neutral", "mixed")),
            r["languageCode"],
            "yes" if r["cached"] else "no",
            r["engine"],
        )
    console.print(table)


@jobs_app.command("submit")
def jobs_submit(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="JSON Lines, CSV or plain text; read here, sent inline."),
    text_column: str = TextColumnOption,
    idempotency_key: str | None = typer.Option(None, help="Resubmitting is then safe."),
    language: str | None = LanguageOption,
    wait: bool = typer.Option(False, "--wait", help="Follow the job with a progress bar."),
    as_json: bool = JsonOption,
) -> None:
    """Submit a file as a batch job (up to 10,000 documents)."""
    documents = _documents([], file, text_column, None)
    job_input: dict[str, Any] = {
        "documents": documents,
        "idempotencyKey": idempotency_key,
        "languageCode": language,
    }
    job = _call(lambda c: c.execute(SUBMIT_JOB, {"input": job_input})["submitJob"], ctx)
    if wait:
        job = _follow(ctx, job, show_progress=not as_json)
    _print_job(job, as_json)
    if job["status"] == "FAILED":
        raise typer.Exit(1)


@jobs_app.command("show")
def jobs_show(ctx: typer.Context, job_id: str, as_json: bool = JsonOption) -> None:
    """One job: status, progress, summary and where its full output is."""
    _print_job(_call(lambda c: c.execute(JOB, {"id": job_id})["job"], ctx), as_json)


@jobs_app.command("list")
def jobs_list(
    ctx: typer.Context,
    status: str | None = typer.Option(None, help="QUEUED, RUNNING, SUCCEEDED, PARTIAL, FAILED."),
    first: int = typer.Option(20, help="How many, newest first."),
    as_json: bool = JsonOption,
) -> None:
    """Your jobs, newest first."""
    variables = {"first": first, "status": status.upper() if status else None}
    edges = _call(lambda c: c.execute(JOBS, variables)["jobs"]["edges"], ctx)
    jobs = [edge["node"] for edge in edges]
    if as_json:
        typer.echo(json.dumps(jobs, indent=2))
        return
    table = Table()
    for column in ("id", "status", "documents", "failed", "created"):
        table.add_column(column)
    for j in jobs:
        p = j["progress"]
        table.add_row(j["id"], j["status"], str(p["total"]), str(p["failed"]), j["createdAt"])
    console.print(table)


@cache_app.command("stats")
def cache_stats(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Entries held, and hits and misses of the answering process since it started."""
    stats = _call(lambda c: c.execute(CACHE_STATS)["cacheStats"], ctx)
    if as_json:
        typer.echo(json.dumps(stats, indent=2))
        return
    rate = stats["hitRate"]
    table = Table(title="Result cache", show_header=False)
    table.add_row("enabled", "yes" if stats["enabled"] else "no")
    available = stats.get("storeAvailable", True)
    table.add_row("entries", str(stats["entries"]) if available else "store unavailable")
    table.add_row("entries in memory", str(stats["memoryEntries"]))
    table.add_row("hits / misses", f"{stats['hits']} / {stats['misses']}")
    table.add_row("hit rate", f"{rate:.1%}" if rate is not None else "no lookups yet")
    table.add_row("errors", str(stats["errors"]))
    console.print(table)


@cache_app.command("warm")
def cache_warm(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Popular texts: JSON Lines, CSV or one per line."),
    text_column: str = TextColumnOption,
    language: str | None = LanguageOption,
    as_json: bool = JsonOption,
) -> None:
    """Analyse popular texts ahead of demand so their first request is a cache hit."""
    documents = _documents([], file, text_column, language)
    results = _analyse_all(ctx, documents, show_progress=not as_json)
    summary = {
        "documents": len(results),
        "alreadyCached": sum(1 for r in results if r["cached"]),
        "warmed": sum(1 for r in results if not r["cached"] and not r["error"]),
        "failed": sum(1 for r in results if r["error"]),
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        console.print(
            f"Warmed {summary['warmed']} of {summary['documents']} texts "
            f"({summary['alreadyCached']} were cached, {summary['failed']} failed)."
        )


@cache_app.command("clear")
def cache_clear(
    ctx: typer.Context,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    as_json: bool = JsonOption,
) -> None:
    """Delete every cached result, in batches (the runbook's emergency step)."""
    target: Target = ctx.obj
    if not yes:
        typer.confirm(f"Delete every cached result at {target.url}?", abort=True)
    deleted, complete = 0, False
    while not complete:  # each call deletes a bounded number, so it fits a Lambda's timeout
        answer = _call(lambda c: c.execute(CLEAR_CACHE)["clearCache"], ctx)
        deleted, complete = deleted + answer["deleted"], answer["complete"]
    if as_json:
        typer.echo(json.dumps({"deleted": deleted}))
    else:
        console.print(f"Deleted {deleted} cached results.")


def _call(work: Any, ctx: typer.Context) -> Any:
    target: Target = ctx.obj
    try:
        with target.client() as client:
            return work(client)
    except ApiError as error:
        code = f" [{error.code}]" if error.code else ""
        errors.print(f"[red]error{code}:[/] {error}")
        raise typer.Exit(2) from None


def _documents(
    texts: list[str] | None, file: Path | None, text_column: str, language: str | None
) -> list[dict[str, Any]]:
    from graphql_api.domain.errors import SourceUnreadable
    from graphql_api.domain.job_input import parse_documents
    from graphql_api.domain.jobs import JobSource, SourceFormat

    documents: list[dict[str, Any]] = [{"text": t} for t in texts or []]
    if file is not None:
        source = JobSource(
            format=SourceFormat(FORMATS.get(file.suffix.lower(), "TEXT")), text_column=text_column
        )
        try:
            parsed = parse_documents(file.read_bytes(), source)
        except (OSError, SourceUnreadable) as error:
            errors.print(f"[red]error:[/] {file}: {error}")
            raise typer.Exit(2) from None
        for d in parsed:
            if d.failure is not None:
                errors.print(f"[yellow]skipped record {d.index + 1}:[/] {d.failure.message}")
                continue
            documents.append(
                {"text": d.text, "id": d.id or str(d.index + 1), "languageCode": d.language}
            )
    if not documents:
        errors.print("[red]error:[/] give texts or --file")
        raise typer.Exit(2)
    if language:
        for document in documents:
            document["languageCode"] = language
    return documents


def _analyse_all(
    ctx: typer.Context, documents: list[dict[str, Any]], show_progress: bool
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with _progress(show_progress) as progress:
        task = progress.add_task("analysing", total=len(documents))
        for start in range(0, len(documents), BATCH):
            batch = documents[start : start + BATCH]
            data = _call(lambda c, b=batch: c.execute(ANALYZE, {"input": {"documents": b}}), ctx)
            results.extend(data["analyze"]["results"])
            progress.update(task, advance=len(batch))
    return results


def _follow(ctx: typer.Context, job: dict[str, Any], show_progress: bool) -> dict[str, Any]:
    with _progress(show_progress) as progress:
        task = progress.add_task(f"job {job['id'][:8]}", total=job["progress"]["total"] or None)
        while job["status"] in ("QUEUED", "RUNNING"):
            time.sleep(0.5)
            job = _call(lambda c, job_id=job["id"]: c.execute(JOB, {"id": job_id})["job"], ctx)
            p = job["progress"]
            progress.update(task, total=p["total"] or None, completed=p["processed"])
    return job


def _progress(visible: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        disable=not visible or not sys.stderr.isatty(),
    )


def _print_job(job: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(job, indent=2))
        return
    p = job["progress"]
    table = Table(title=f"Job {job['id']}", show_header=False)
    table.add_row("status", job["status"])
    table.add_row(
        "progress", f"{p['processed']}/{p['total']} ({p['percent']:.0f}%), {p['failed']} failed"
    )
    if job.get("summary"):
        table.add_row("sentiment", ", ".join(f"{k} {v}" for k, v in job["summary"].items()))
    if job.get("durationSeconds") is not None:
        table.add_row("duration", f"{job['durationSeconds']:.2f} s")
    if job.get("error"):
        table.add_row("error", job["error"])
    if job.get("outputUrl"):
        table.add_row("output", job["outputUrl"])
    console.print(table)
