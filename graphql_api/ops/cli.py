"""`aurastream ops`: the runbook's checks and switches against a deployed stack.

Reads CloudWatch, Cost Explorer, Lambda and DynamoDB with the standard AWS credentials and
region (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL all apply). Names default to the runbook's;
`--stack` reads them from the stack's outputs instead. Tables for people, `--json` for scripts.
Exit status 1 when a check breaches the runbook's threshold.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from graphql_api.ops.service import (
    API_THROTTLE_RPS,
    COMPREHEND_QUOTA_RPS,
    OpsService,
    Report,
    Targets,
)

ops_app = typer.Typer(
    help="Operate a deployed AuraStream: checks, capacity, cost, maintenance switch, DR drill.",
    no_args_is_help=True,
)
console = Console()

JsonOption = typer.Option(False, "--json", help="Print JSON for scripts.")
RegionOption = typer.Option(None, "--region", envvar="AWS_REGION", help="AWS region.")
StackOption = typer.Option(
    None, "--stack", envvar="AURASTREAM_STACK", help="Read the names from this stack's outputs."
)
ApiIdOption = typer.Option(
    None, "--api-id", envvar="AURASTREAM_API_ID", help="HTTP API id (the HttpApiId output)."
)
FunctionOption = typer.Option(
    "SyncHandler", "--function", envvar="AURASTREAM_FUNCTION", help="The API's Lambda function."
)
CacheTableOption = typer.Option(
    "AuraStream-SentimentCache", "--cache-table", envvar="AURASTREAM_CACHE_TABLE"
)
JobsTableOption = typer.Option("AuraStream-Jobs", "--jobs-table", envvar="AURASTREAM_JOBS_TABLE")
KeysTableOption = typer.Option("AuraStream-ApiKeys", "--keys-table", envvar="AURASTREAM_KEYS_TABLE")

#: Stack outputs to Targets fields.
_OUTPUTS = {
    "HttpApiId": "api_id",
    "SyncHandlerFunctionName": "function",
    "CacheTableName": "cache_table",
    "JobsTableName": "jobs_table",
    "KeysTableName": "keys_table",
}


def _client(service: str, region: str | None) -> Any:
    import boto3

    return boto3.client(service, region_name=region)


def _targets(
    region: str | None,
    stack: str | None,
    api_id: str | None,
    function: str,
    cache_table: str,
    jobs_table: str,
    keys_table: str,
) -> Targets:
    fields: dict[str, Any] = {
        "api_id": api_id,
        "function": function,
        "cache_table": cache_table,
        "jobs_table": jobs_table,
        "keys_table": keys_table,
    }
    if stack:
        described = _client("cloudformation", region).describe_stacks(StackName=stack)
        for output in described["Stacks"][0].get("Outputs", []):
            if output["OutputKey"] in _OUTPUTS:
                fields[_OUTPUTS[output["OutputKey"]]] = output["OutputValue"]
    return Targets(**fields)


def _service(region: str | None, targets: Targets, *, cost: bool = False) -> OpsService:
    return OpsService(
        targets,
        cloudwatch=_client("cloudwatch", region),
        # Cost Explorer has one endpoint, in us-east-1, whatever the stack's region.
        cost_explorer=_client("ce", "us-east-1") if cost else None,
        lambda_client=_client("lambda", region),
        dynamodb=_client("dynamodb", region),
    )


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    if unit in ("count", "executions"):
        return f"{value:,.0f}"
    if unit == "USD":
        return f"${value:,.2f}"
    return f"{value:,.2f} {unit}"


_STYLE = {"ok": "green", "breach": "bold red", "no data": "yellow", "info": ""}


def _print(report: Report, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2, default=str))
    else:
        table = Table(title=f"{report.title}\n{report.period}", title_justify="left")
        for column in ("Check", "Value", "Threshold", "Status", "Source"):
            table.add_column(column, overflow="fold")
        for check in report.checks:
            table.add_row(
                check.name,
                _figure(check.value, check.unit),
                check.threshold,
                f"[{_STYLE[check.status]}]{check.status}[/]"
                if _STYLE[check.status]
                else check.status,
                check.source,
            )
        console.print(table)
        for title, rows in report.tables.items():
            if not rows:
                continue
            extra = Table(title=title, title_justify="left")
            for column in rows[0]:
                extra.add_column(str(column), overflow="fold")
            for row in rows:
                extra.add_row(
                    *(
                        "no data" if v is None else f"{v:,.2f}" if isinstance(v, float) else str(v)
                        for v in row.values()
                    )
                )
            console.print(extra)
        for note in report.notes:
            console.print(f"- {note}")
    if report.breaches:
        raise typer.Exit(1)


@ops_app.command("daily-check")
def daily_check(
    hours: int = typer.Option(24, min=1, max=24 * 14, help="Hours to look back."),
    no_cost: bool = typer.Option(False, "--no-cost", help="Skip Cost Explorer."),
    region: str | None = RegionOption,
    stack: str | None = StackOption,
    api_id: str | None = ApiIdOption,
    function: str = FunctionOption,
    cache_table: str = CacheTableOption,
    jobs_table: str = JobsTableOption,
    keys_table: str = KeysTableOption,
    as_json: bool = JsonOption,
) -> None:
    """Error rates, latency, cache hit rate, cold starts, PII rate and yesterday's cost."""
    targets = _targets(region, stack, api_id, function, cache_table, jobs_table, keys_table)
    _print(_service(region, targets, cost=not no_cost).daily_check(hours), as_json)


@ops_app.command()
def capacity(
    days: int = typer.Option(30, min=7, max=455, help="Days of history to fit growth to."),
    concurrency_limit: int | None = typer.Option(
        None, help="Concurrency ceiling (default: reserved concurrency, else the account's)."
    ),
    throttle_rps: float = typer.Option(API_THROTTLE_RPS, help="The API's throttle rate."),
    comprehend_quota_rps: float = typer.Option(
        COMPREHEND_QUOTA_RPS, help="Comprehend's request quota for the batch sentiment API."
    ),
    region: str | None = RegionOption,
    stack: str | None = StackOption,
    api_id: str | None = ApiIdOption,
    function: str = FunctionOption,
    cache_table: str = CacheTableOption,
    jobs_table: str = JobsTableOption,
    keys_table: str = KeysTableOption,
    as_json: bool = JsonOption,
) -> None:
    """Peaks against limits, measured growth, and the same three months ahead."""
    targets = _targets(region, stack, api_id, function, cache_table, jobs_table, keys_table)
    report = _service(region, targets).capacity(
        days,
        concurrency_limit=concurrency_limit,
        throttle_rps=throttle_rps,
        comprehend_quota_rps=comprehend_quota_rps,
    )
    _print(report, as_json)


@ops_app.command()
def cost(
    month: str | None = typer.Option(None, help="YYYY-MM (default: this month to date)."),
    region: str | None = RegionOption,
    stack: str | None = StackOption,
    function: str = FunctionOption,
    as_json: bool = JsonOption,
) -> None:
    """Cost by service for a month, cost per analysis, and the API function's duration."""
    first = None
    if month:
        try:
            first = date.fromisoformat(f"{month}-01")
        except ValueError:
            raise typer.BadParameter("use YYYY-MM", param_hint="--month") from None
    targets = _targets(region, stack, None, function, "", "", "")
    _print(_service(region, targets, cost=True).cost(first), as_json)


def _switch(
    enabled: bool, region: str | None, stack: str | None, function: str, as_json: bool
) -> None:
    targets = _targets(region, stack, None, function, "", "", "")
    result = _service(region, targets).set_enabled(enabled)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    state = "enabled" if enabled else "disabled (maintenance: requests answer 503)"
    console.print(
        f"{result['function']}:{result['alias']} -> version {result['version']}: {state}; "
        f"kept {len(result['variables_kept'])} other variables."
    )


@ops_app.command()
def disable(
    region: str | None = RegionOption,
    stack: str | None = StackOption,
    function: str = FunctionOption,
    as_json: bool = JsonOption,
) -> None:
    """Maintenance switch on: AURASTREAM_ENABLED=false on the `live` alias, other variables kept."""
    _switch(False, region, stack, function, as_json)


@ops_app.command()
def enable(
    region: str | None = RegionOption,
    stack: str | None = StackOption,
    function: str = FunctionOption,
    as_json: bool = JsonOption,
) -> None:
    """Maintenance switch off: AURASTREAM_ENABLED=true on the `live` alias."""
    _switch(True, region, stack, function, as_json)


@ops_app.command("clear-cache")
def clear_cache(
    batch_size: int = typer.Option(500, min=1, max=1_000, help="Keys scanned per page."),
    limit: int | None = typer.Option(None, min=1, help="Stop after this many entries."),
    region: str | None = RegionOption,
    stack: str | None = StackOption,
    cache_table: str = CacheTableOption,
    as_json: bool = JsonOption,
) -> None:
    """Delete cached results from the cache table, a page at a time (25 per delete batch)."""
    targets = _targets(region, stack, None, "SyncHandler", cache_table, "", "")
    deleted = _service(region, targets).clear_cache(batch_size, limit)
    if as_json:
        typer.echo(json.dumps({"table": targets.cache_table, "deleted": deleted}))
    else:
        console.print(f"Deleted {deleted:,} entries from {targets.cache_table}.")


@ops_app.command("copy-table")
def copy_table_command(
    source_table: str = typer.Option(..., help="Table to read (e.g. the restored one)."),
    target_table: str = typer.Option(..., help="Table to write (e.g. the DR stack's)."),
    source_region: str | None = typer.Option(None, help="Region of the source table."),
    target_region: str | None = typer.Option(None, help="Region of the target table."),
    as_json: bool = JsonOption,
) -> None:
    """Copy every item of a table into another, in any regions, and verify each one."""
    from dataclasses import asdict

    from graphql_api.ops.dr import copy_table

    result = copy_table(
        _client("dynamodb", source_region),
        source_table,
        _client("dynamodb", target_region),
        target_table,
    )
    if as_json:
        typer.echo(json.dumps(asdict(result), indent=2))
    else:
        console.print(
            f"Copied {result.copied:,} items {source_table} -> {target_table} in "
            f"{result.seconds:.1f} s: {result.verified:,} verified, {result.missing} missing, "
            f"{result.different} different."
        )
    if result.missing or result.different:
        raise typer.Exit(1)


@ops_app.command("dr-drill")
def dr_drill(
    primary_region: str = typer.Option("us-east-1", help="The primary stack's region."),
    dr_region: str = typer.Option("us-west-2", help="The DR stack's region."),
    keys_table: str = KeysTableOption,
    jobs_table: str = JobsTableOption,
    seed: int = typer.Option(
        0, min=0, help="Create both regions' tables and seed this many items in each (emulators)."
    ),
    late_writes: int = typer.Option(
        0, min=0, help="Items written to each table after the backup: the data the drill loses."
    ),
    as_json: bool = JsonOption,
) -> None:
    """The monthly DR test: back up, restore into new tables, switch the DR region over, verify."""
    from graphql_api.ops.dr import create_table, run_drill, seed_items, write_items

    primary, dr = _client("dynamodb", primary_region), _client("dynamodb", dr_region)
    kinds = {keys_table: "keys", jobs_table: "jobs"}
    if seed:
        for table, kind in kinds.items():
            create_table(primary, table, kind)
            create_table(dr, table, kind)
            write_items(primary, table, seed_items(kind, seed))
    report = run_drill(
        primary,
        dr,
        {table: table for table in kinds},
        primary_region=primary_region,
        dr_region=dr_region,
        late_writes=(lambda table: seed_items(kinds[table], late_writes, start=seed))
        if late_writes
        else None,
    )
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        grid = Table(
            title=f"DR drill {primary_region} -> {dr_region} ({report.started_at})",
            title_justify="left",
        )
        for column in (
            "Table",
            "Items at backup",
            "Restored to DR",
            "Verified",
            "Missing",
            "Different",
            "Written after backup",
            "Lost",
        ):
            grid.add_column(column, overflow="fold")
        for row in report.tables:
            grid.add_row(
                row.table,
                f"{row.items_at_backup:,}",
                f"{row.restored:,}",
                f"{row.verified:,}",
                str(row.missing),
                str(row.different),
                str(row.written_after_backup),
                str(row.lost_after_backup),
            )
        console.print(grid)
        for phase, seconds in report.phases.items():
            console.print(f"- {phase}: {seconds:.3f} s")
        console.print(
            f"- recovery took {report.recovery_seconds:.3f} s "
            f"(RTO {report.rto_seconds // 3600} h); "
            f"data-loss window seen {report.data_loss_window_seconds:.3f} s "
            f"(RPO {report.rpo_seconds // 3600} h: hourly backups)"
        )
        console.print("- not proven here: " + "; ".join(report.cannot_prove))
        console.print("PASSED" if report.passed else "[bold red]FAILED[/]")
    if not report.passed:
        raise typer.Exit(1)
