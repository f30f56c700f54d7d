"""`aurastream keys`: create, list and revoke API keys, and show a key's usage, in the
store the settings name. Each command says on stderr which store it used, so a key is
never created in one store while the server reads another."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from graphql_api.access import AccessService, ApiKey, Limits, parse_scopes
from graphql_api.access.limits import utc_day
from graphql_api.access.model import KEY_PREFIX, public_key_id
from graphql_api.settings import Settings

T = TypeVar("T")

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


def _run(work: Callable[[AccessService], Coroutine[Any, Any, T]]) -> T:
    """Run one operation against the store the settings name (SQLite locally, DynamoDB on
    AWS), saying which on stderr."""
    from graphql_api.adapters.memory import InMemoryMetrics, SystemClock
    from graphql_api.bootstrap import build_access_service, build_access_store

    settings = Settings()
    typer.echo(f"Key store: {describe_store(settings)}", err=True)
    service = build_access_service(
        settings, build_access_store(settings), InMemoryMetrics(), SystemClock()
    )
    try:
        return asyncio.run(work(service))
    finally:
        service.close()


def describe_store(settings: Settings) -> str:
    if settings.backend == "aws":
        return f"DynamoDB table {settings.keys_table}"
    return f"SQLite file {settings.keys_path.resolve()}"


@app.command()
def create(
    tenant: str = typer.Option(..., "--tenant", help="Tenant the key belongs to."),
    scopes: str = typer.Option("analyze", "--scopes", help="Comma-separated: analyze,jobs,ops."),
    name: str = typer.Option("", "--name", help="A label for people, e.g. 'billing export'."),
    rate: float | None = typer.Option(None, "--rate", help="Requests per second."),
    burst: int | None = typer.Option(None, "--burst", help="Requests allowed at once."),
    daily_quota: int | None = typer.Option(None, "--daily-quota", help="Documents per day."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (includes the key)."),
) -> None:
    """Create a key. The key is printed once and cannot be shown again."""
    try:
        wanted = parse_scopes(scopes)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--scopes") from None

    async def create_one(service: AccessService) -> tuple[str, ApiKey]:
        defaults = service.default_limits
        limits = Limits(
            rate if rate is not None else defaults.rate_per_second,
            burst if burst is not None else defaults.burst,
            daily_quota if daily_quota is not None else defaults.daily_document_quota,
        )
        created = await service.create_key(tenant, wanted, name=name, limits=limits)
        return created.key, created.record

    try:
        key, record = _run(create_one)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if as_json:
        typer.echo(json.dumps({"key": key, **_as_json(record)}, indent=2))
        return
    console = Console()
    console.print(f"Created key [bold]{record.prefix}[/] for tenant [bold]{record.tenant_id}[/].")
    console.print("Store it now; it is shown only this once:\n")
    console.print(key, style="bold green", soft_wrap=True, highlight=False)
    console.print(f"\nSend it as the X-API-Key header. Scopes: {', '.join(_scopes(record))}.")


@app.command("list")
def list_keys(
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's keys."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List keys (never their secrets or hashes)."""
    keys = _run(lambda service: service.list_keys(tenant))
    if as_json:
        typer.echo(json.dumps([_as_json(key) for key in keys], indent=2))
        return
    table = Table(title="AuraStream API keys")
    table.add_column("Key", no_wrap=True)  # what `keys revoke` takes: never cut short
    for column in ("Tenant", "Name", "Scopes", "Limits", "Created (UTC)", "Status"):
        table.add_column(column, overflow="fold")  # wrap rather than hide values
    for key in keys:
        limits = key.limits
        table.add_row(
            key.prefix,
            key.tenant_id,
            key.name,
            ", ".join(_scopes(key)),
            f"{limits.rate_per_second:g}/s, burst {limits.burst}, "
            f"{limits.daily_document_quota:,} docs/day",
            _time(key.created_at, short=True),
            f"revoked {_time(key.revoked_at, short=True)}" if key.revoked_at else "active",
            style="dim" if key.revoked else None,
        )
    Console().print(table)


@app.command()
def revoke(key_id: str = typer.Argument(..., help="The key id, with or without 'aura_'.")) -> None:
    """Revoke a key; running services refuse it within the key cache TTL (5 s by default)."""
    wanted = _key_id(key_id)
    revoked = _run(lambda service: service.revoke_key(wanted))
    if revoked is None:
        typer.echo(f"No key {KEY_PREFIX}{wanted}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Revoked {revoked.prefix} (tenant {revoked.tenant_id}).")


@app.command()
def usage(
    key_id: str = typer.Argument(..., help="The key id, with or without 'aura_'."),
    days: int = typer.Option(30, "--days", min=1, max=366, help="How many days back."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A key's documents, cache hits and Comprehend units per day (e.g. after a compromise)."""
    from graphql_api.adapters.memory import SystemClock

    wanted = _key_id(key_id)
    to_day = utc_day(SystemClock().now())
    from_day = to_day - timedelta(days=days - 1)

    async def read(service: AccessService) -> tuple[ApiKey | None, list[Any]]:
        key = await service.get_key(wanted)
        return key, (await service.key_usage(wanted, from_day, to_day) if key else [])

    key, found = _run(read)
    if key is None:
        typer.echo(f"No key {KEY_PREFIX}{wanted}.", err=True)
        raise typer.Exit(1)
    rows = [
        {
            "day": day.day.isoformat(),
            "documents": day.documents,
            "cache_hits": day.cache_hits,
            "billable_units": day.billable_units,
            "estimated_cost_usd": str(day.estimated_cost_usd),
        }
        for day in found
    ]
    if as_json:
        typer.echo(json.dumps({"key": _as_json(key), "usage": rows}, indent=2))
        return
    table = Table(
        title=f"Usage of {key.prefix} (tenant {key.tenant_id}), {_span(from_day, to_day)}"
    )
    for column in ("Day", "Documents", "Cache hits", "Units", "Est. cost (USD)"):
        table.add_column(column, justify="left" if column == "Day" else "right")
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    Console().print(table if rows else f"No usage of {key.prefix} in {_span(from_day, to_day)}.")


def _key_id(raw: str) -> str:
    wanted = public_key_id(raw)
    if wanted is None:
        raise typer.BadParameter(
            "a key id is 12 hexadecimal digits, with or without 'aura_' (see `keys list`)",
            param_hint="KEY_ID",
        )
    return wanted


def _span(from_day: date, to_day: date) -> str:
    return f"{from_day.isoformat()} to {to_day.isoformat()}"


def _scopes(key: ApiKey) -> list[str]:
    return sorted(scope.value for scope in key.scopes)


def _time(timestamp: float | None, *, short: bool = False) -> str:
    if timestamp is None:
        return ""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%d %H:%M") if short else moment.isoformat(timespec="seconds")


def _as_json(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "prefix": key.prefix,
        "tenant_id": key.tenant_id,
        "name": key.name,
        "scopes": _scopes(key),
        "limits": {
            "rate_per_second": key.limits.rate_per_second,
            "burst": key.limits.burst,
            "daily_document_quota": key.limits.daily_document_quota,
        },
        "created_at": _time(key.created_at),
        "revoked_at": _time(key.revoked_at) or None,
    }
