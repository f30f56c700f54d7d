"""The DR drill against moto_server in two regions: back up the keys and jobs tables, restore
into new tables, switch the DR region's tables over, verify every item, measure the time."""

from __future__ import annotations

import json

import boto3
from typer.testing import CliRunner

from graphql_api.cli import app
from graphql_api.ops.dr import copy_table, create_table, run_drill, seed_items, write_items
from tests.aws_fixtures import fresh_name

runner = CliRunner()


def _clients(moto_url: str):
    return (
        boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1"),
        boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-west-2"),
    )


def test_drill_restores_every_item_and_loses_only_what_came_after_the_backup(aws_env, moto_url):
    primary, dr = _clients(moto_url)
    keys, jobs = fresh_name("AuraStream-ApiKeys"), fresh_name("AuraStream-Jobs")
    for table, kind in ((keys, "keys"), (jobs, "jobs")):
        create_table(primary, table, kind)
        create_table(dr, table, kind)
        write_items(primary, table, seed_items(kind, 60))
    kinds = {keys: "keys", jobs: "jobs"}

    report = run_drill(
        primary,
        dr,
        {keys: keys, jobs: jobs},
        primary_region="us-east-1",
        dr_region="us-west-2",
        late_writes=lambda table: seed_items(kinds[table], 3, start=60),
    )

    assert report.passed
    for row in report.tables:
        assert (row.items_at_backup, row.restored, row.verified) == (60, 60, 60)
        assert (row.missing, row.different) == (0, 0)
        assert (row.written_after_backup, row.lost_after_backup) == (3, 3)
        assert row.restored_table.startswith(f"{row.table}-restored-")  # a new table, never the old
        # the restored table exists in the primary region; the DR table holds the same items
        assert (
            primary.describe_table(TableName=row.restored_table)["Table"]["TableStatus"] == "ACTIVE"
        )
        assert dr.scan(TableName=row.dr_table, Select="COUNT")["Count"] == 60
    assert 0 <= report.data_loss_window_seconds < report.rpo_seconds
    assert 0 < report.recovery_seconds < report.rto_seconds
    assert set(report.phases) == {"backup", "restore into new tables", "switch over and verify"}
    assert any("replication" in caveat for caveat in report.cannot_prove)


def test_the_restored_jobs_table_keeps_the_owner_index(aws_env, moto_url):
    primary, dr = _clients(moto_url)
    jobs = fresh_name("AuraStream-Jobs")
    create_table(primary, jobs, "jobs")
    create_table(dr, jobs, "jobs")
    write_items(primary, jobs, seed_items("jobs", 10))
    run_drill(primary, dr, {jobs: jobs}, primary_region="us-east-1", dr_region="us-west-2")
    found = dr.query(
        TableName=jobs,
        IndexName="owner-created-index",
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": "tenant-3"}},
    )["Items"]
    assert sorted(item["pk"]["S"] for item in found) == ["JOB#drill000003"]


def test_copy_table_across_regions_verifies_every_item(aws_env, moto_url):
    primary, dr = _clients(moto_url)
    source, target = fresh_name("AuraStream-ApiKeys"), fresh_name("AuraStream-ApiKeys")
    create_table(primary, source, "keys")
    create_table(dr, target, "keys")
    write_items(primary, source, seed_items("keys", 30))
    result = copy_table(primary, source, dr, target)
    assert (result.copied, result.verified, result.missing, result.different) == (30, 30, 0, 0)


def test_dr_drill_command_seeds_two_regions_and_reports_json(aws_env, moto_url):
    keys, jobs = fresh_name("AuraStream-ApiKeys"), fresh_name("AuraStream-Jobs")
    result = runner.invoke(
        app,
        [
            "ops",
            "dr-drill",
            "--keys-table",
            keys,
            "--jobs-table",
            jobs,
            "--seed",
            "40",
            "--late-writes",
            "2",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert [row["verified"] for row in report["tables"]] == [40, 40]
    assert [row["lost_after_backup"] for row in report["tables"]] == [2, 2]
