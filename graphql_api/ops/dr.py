"""Disaster recovery for the keys and jobs tables: copy a table (across regions), and the
monthly DR drill that backs up, restores into a new table, switches the DR region's table
over to it and checks that every item came back.

On AWS the backups are AWS Backup's hourly recovery points, copied to the DR region's vault;
`scripts/disaster_recovery.sh` restores one into a new table there and calls `copy_table` to
switch over. The drill runs the same steps against any endpoint (moto_server in `make
dr-drill`), with DynamoDB's on-demand backups standing in for AWS Backup's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

Item = dict[str, Any]
#: BatchWriteItem's limit.
WRITE_BATCH = 25

MOTO_CANNOT_PROVE = (
    "AWS Backup's hourly schedule and its copy to the DR vault (moto has no cross-region "
    "backup copy: the drill restores in the primary region and copies the restored table "
    "across regions instead)",
    "S3 replication lag and Replication Time Control's 15 minutes (moto keeps the "
    "replication configuration but replicates no objects)",
    "restore duration: moto restores instantly; AWS takes minutes to hours by table size",
    "Route 53 health-check failover timing (30 s checks, 3 failures)",
)


def scan_items(dynamodb: Any, table: str) -> Iterator[Item]:
    """Every item, strongly consistent, a page at a time."""
    params: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**params)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def key_names(dynamodb: Any, table: str) -> tuple[str, ...]:
    schema = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
    return tuple(part["AttributeName"] for part in sorted(schema, key=lambda k: k["KeyType"]))


def item_key(item: Item, keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(str(item[name]) for name in keys)


def write_items(dynamodb: Any, table: str, items: list[Item], max_attempts: int = 8) -> int:
    """BatchWriteItem in 25s, retrying unprocessed items with backoff."""
    written = 0
    for start in range(0, len(items), WRITE_BATCH):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + WRITE_BATCH]]
        for attempt in range(max_attempts):
            answer = dynamodb.batch_write_item(RequestItems={table: requests})
            requests = answer.get("UnprocessedItems", {}).get(table, [])
            if not requests:
                break
            time.sleep(min(2.0, 0.05 * 2**attempt))
        if requests:
            raise RuntimeError(f"{len(requests)} items to {table} unprocessed after retries")
        written += min(WRITE_BATCH, len(items) - start)
    return written


@dataclass(frozen=True, slots=True)
class CopyResult:
    source: str
    target: str
    copied: int
    verified: int
    missing: int
    different: int
    seconds: float


def copy_table(source: Any, source_table: str, target: Any, target_table: str) -> CopyResult:
    """Copy every item of one table into another (any regions), then read the target back
    and compare item by item."""
    started = time.perf_counter()
    items = list(scan_items(source, source_table))
    copied = write_items(target, target_table, items)
    check = verify(items, target, target_table)
    return CopyResult(
        source_table,
        target_table,
        copied,
        check["verified"],
        check["missing"],
        check["different"],
        round(time.perf_counter() - started, 3),
    )


def verify(expected: list[Item], dynamodb: Any, table: str) -> dict[str, int]:
    """How many of the expected items the table holds exactly, misses, or holds changed."""
    keys = key_names(dynamodb, table)
    found = {item_key(item, keys): item for item in scan_items(dynamodb, table)}
    verified = missing = different = 0
    for item in expected:
        actual = found.get(item_key(item, keys))
        if actual is None:
            missing += 1
        elif actual != item:
            different += 1
        else:
            verified += 1
    return {"verified": verified, "missing": missing, "different": different}


@dataclass
class TableDrill:
    table: str
    backup_arn: str
    restored_table: str
    dr_table: str
    items_at_backup: int
    restored: int
    verified: int
    missing: int
    different: int
    written_after_backup: int
    lost_after_backup: int


@dataclass
class DrillReport:
    primary_region: str
    dr_region: str
    started_at: str
    tables: list[TableDrill] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    #: From the backup to the failover: what a restore from that backup cannot hold.
    data_loss_window_seconds: float = 0.0
    recovery_seconds: float = 0.0
    rto_seconds: int = 4 * 3_600
    rpo_seconds: int = 3_600
    cannot_prove: tuple[str, ...] = MOTO_CANNOT_PROVE

    @property
    def passed(self) -> bool:
        return all(t.missing == 0 and t.different == 0 for t in self.tables) and (
            self.recovery_seconds <= self.rto_seconds
        )

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def restored_name(table: str, stamp: str) -> str:
    return f"{table}-restored-{stamp}"


def _wait_active(dynamodb: Any, table: str, attempts: int = 120) -> None:
    for _ in range(attempts):
        if dynamodb.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE":
            return
        time.sleep(5)
    raise TimeoutError(f"{table} not ACTIVE")


def run_drill(
    primary: Any,
    dr: Any,
    tables: dict[str, str],
    *,
    primary_region: str,
    dr_region: str,
    late_writes: Callable[[str], list[Item]] | None = None,
    clock: Callable[[], float] = time.time,
) -> DrillReport:
    """Back up each primary table, (optionally) keep writing, restore the backup into a new
    table, copy it into the DR region's table (the switch-over), and verify every item.

    `tables` maps each primary table to its DR-region table. `late_writes(table)` returns the
    items traffic writes after the backup: they are the data the drill expects to lose.
    """
    stamp = datetime.fromtimestamp(clock(), UTC).strftime("%Y%m%dT%H%M%S")
    report = DrillReport(
        primary_region, dr_region, datetime.fromtimestamp(clock(), UTC).isoformat()
    )
    began = time.perf_counter()

    snapshots: dict[str, list[Item]] = {}
    backups: dict[str, str] = {}
    phase = time.perf_counter()
    backed_up_at = clock()
    for table in tables:
        snapshots[table] = list(scan_items(primary, table))
        backups[table] = primary.create_backup(TableName=table, BackupName=f"dr-drill-{stamp}")[
            "BackupDetails"
        ]["BackupArn"]
    report.phases["backup"] = round(time.perf_counter() - phase, 3)

    written_after: dict[str, list[Item]] = {}
    for table in tables:
        written_after[table] = late_writes(table) if late_writes else []
        if written_after[table]:
            write_items(primary, table, written_after[table])

    failover_at = clock()
    phase = time.perf_counter()
    for table in tables:
        restored = restored_name(table, stamp)
        primary.restore_table_from_backup(TargetTableName=restored, BackupArn=backups[table])
        _wait_active(primary, restored)
    report.phases["restore into new tables"] = round(time.perf_counter() - phase, 3)

    phase = time.perf_counter()
    for table, dr_table in tables.items():
        restored = restored_name(table, stamp)
        copy = copy_table(primary, restored, dr, dr_table)
        check = verify(snapshots[table], dr, dr_table)
        lost = verify(written_after[table], dr, dr_table)["missing"]
        report.tables.append(
            TableDrill(
                table,
                backups[table],
                restored,
                dr_table,
                len(snapshots[table]),
                copy.copied,
                check["verified"],
                check["missing"],
                check["different"],
                len(written_after[table]),
                lost,
            )
        )
    report.phases["switch over and verify"] = round(time.perf_counter() - phase, 3)
    report.data_loss_window_seconds = round(failover_at - backed_up_at, 3)
    report.recovery_seconds = round(time.perf_counter() - began, 3)
    return report


def create_like(source: Any, table: str, target: Any, name: str) -> None:
    """Create `name` through `target` with `table`'s keys, indexes and on-demand billing
    (the DR stack's tables, for a drill without one); no-op if it exists."""
    if name in target.list_tables().get("TableNames", []):
        return
    described = source.describe_table(TableName=table)["Table"]
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": described["KeySchema"],
        "AttributeDefinitions": described["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = [
        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        for i in described.get("GlobalSecondaryIndexes", [])
    ]
    if indexes:
        params["GlobalSecondaryIndexes"] = indexes
    target.create_table(**params)
    _wait_active(target, name)


def seed_items(kind: str, count: int, start: int = 0) -> list[Item]:
    """Items shaped like the keys or jobs table's (string keys; jobs carry the owner index)."""
    items: list[Item] = []
    for n in range(start, start + count):
        if kind == "keys":
            items.append(
                {
                    "pk": {"S": f"KEY#drill{n:06d}"},
                    "sk": {"S": "KEY"},
                    "tenant": {"S": f"tenant-{n % 7}"},
                    "hash": {"S": f"{n:064x}"},
                    "scopes": {"SS": ["analyze", "jobs"]},
                    "created_at": {"N": str(1_700_000_000 + n)},
                }
            )
        else:
            items.append(
                {
                    "pk": {"S": f"JOB#drill{n:06d}"},
                    "sk": {"S": "JOB"},
                    "owner": {"S": f"tenant-{n % 7}"},
                    "created_at": {"S": f"2026-01-01T00:00:{n % 60:02d}Z#{n:06d}"},
                    "status": {"S": "SUCCEEDED"},
                    "documents": {"N": str(n % 100)},
                }
            )
    return items


def create_table(dynamodb: Any, name: str, kind: str) -> None:
    """A keys or jobs table as the template defines it, for a drill against an emulator."""
    if name in dynamodb.list_tables().get("TableNames", []):
        return
    attributes = ["pk", "sk"] + (["owner", "created_at"] if kind == "jobs" else [])
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if kind == "jobs":
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "owner-created-index",
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    dynamodb.create_table(**params)
    _wait_active(dynamodb, name)
