"""What the local engine asks DynamoDB per table, counted through a proxy in front of dynalite: at real latency
every request is a round trip, so the per-table overhead must not creep back up (issue "the night as planned").
The bounds are the figures reached; a new call per table fails this test until it is justified here."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import client
from tests.support.ansible_run import run_module
from tests.support.delaying_proxy import DelayingProxy
from tests.support.tables import create_table, put_items, simple_items

TABLES = 6
# Requests per table of one local night (resume on, as the role runs it; no boost, no autoscaling client).
# DescribeTable: the backup's one description (schema, the scan's first rate) and, once per night and lane at
# most, the account lookup of `resume`. The three optional settings calls are one each: the manifest records them.
MOST_PER_TABLE = {
    "DescribeTable": 1.0 + 1 / TABLES,
    "ListTagsOfResource": 1.0,
    "DescribeContinuousBackups": 1.0,
    "DescribeTimeToLive": 1.0,
    "GetResourcePolicy": 1.0,
    "DescribeContributorInsights": 1.0,
    "DescribeKinesisStreamingDestination": 1.0,
    # A new table's size is unknown (DynamoDB's ItemCount lags by hours, dynalite's stays 0): the first page's
    # Limit follows the 1 KiB per-item guess, which keeps a page within its share of a small table's capacity, so
    # these 100 small items take two pages. With a known size they take one.
    "Scan": 2.0,
}


def test_a_small_table_costs_one_request_per_captured_fact_and_one_scan(dynalite_server: Any, unique_name: str,
                                                                        tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    tables = []
    for n in range(TABLES):
        name = f"{unique_name}-{n}"
        create_table(ddb, name, rcu=100, wcu=100)
        put_items(ddb, name, simple_items(100))
        tables.append({"name": name, "size_bytes": 20_000, "rcu": 100, "boost_rcu": 100, "boosted": False,
                       "read_percentage": 0.5, "read_units_per_second": None, "start_offset_s": n,
                       "duration_s": 1})
    plan = {"window_s": 3600, "window": {"starts_at": datetime.now(UTC).isoformat()}, "night": {"id": unique_name},
            "clusters": [{"id": "c01", "engine": "local", "start_offset_s": 0, "end_offset_s": TABLES,
                          "tables": tables}]}

    proxy = DelayingProxy(dynalite_server.url, 0)  # no delay: it only counts
    with proxy:
        run = run_module("dynamodb_scan_backup", {
            "plan": plan, "destination": f"file://{tmp_path}/dest", "region": "eu-west-1",
            "endpoint_url": proxy.url, "run_id": "night-1", "autoscaling": False, "resume": True})
        counted = Counter(proxy.operations)

    assert not run.failed, run.result
    assert [t["items"] for t in run.result["tables"]] == [100] * TABLES
    per_table = {operation: count / TABLES for operation, count in counted.items()}
    over = {op: n for op, n in per_table.items() if n > MOST_PER_TABLE.get(op, 0)}
    assert not over, f"requests per table over their bound: {over} (all: {per_table})"


def test_the_nightly_reconcile_reads_each_tables_tags_and_describes_one_table(dynalite_server: Any, unique_name: str
                                                                              ) -> None:
    """Reconcile looks at every table of the region for a record an earlier run left: one ARN names them all, so
    it costs one ListTagsOfResource a table (a put-back, when one is due, reads the table again itself)."""
    ddb = client("dynamodb", dynalite_server.url)
    for n in range(3):
        create_table(ddb, f"{unique_name}-{n}", rcu=5, wcu=5)
    proxy = DelayingProxy(dynalite_server.url, 0)
    with proxy:
        run = run_module("dynamodb_throughput", {"state": "reconciled", "region": "eu-west-1",
                                                 "endpoint_url": proxy.url, "run_id": "night-1",
                                                 "autoscaling": False})
        counted = Counter(proxy.operations)
    assert not run.failed, run.result
    listed = run.result["checked"]
    assert listed >= 3
    assert counted["DescribeTable"] == 1
    assert counted["ListTagsOfResource"] == listed
