"""The read limiter against dynalite, which reports real consumed capacity for every Scan page.

A proxy between the backup and dynalite records each response's ConsumedCapacity with its time, so
the check does not rely on the limiter's own accounting.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import (
    DEFAULT_TAG_KEY,
    CapacityRecord,
    Dimension,
    iso,
    record_tags,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.read_allowance import BOOST_POLL_S
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from tests.conftest import REGION, client
from tests.support.dynamodb_proxy import DynamoDBProxy
from tests.support.tables import create_table, put_items, simple_items

WINDOW_S = 10.0


@pytest.mark.parametrize(("rcu", "read_percentage", "workers"), [(40, 0.5, 4), (100, 0.3, 2)])
def test_consumed_capacity_stays_at_the_target(dynalite_server: Any, unique_name: str, tmp_path: Path,
                                               rcu: int, read_percentage: float, workers: int) -> None:
    target = rcu * read_percentage  # read units per second
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=rcu)
    # Enough ~1 KB items for about 14 s of reading at the target (an eventually consistent unit reads 8 KB).
    count = int(target * 14 * 8)
    put_items(ddb, unique_name, simple_items(count, pad=1000))

    with DynamoDBProxy(dynalite_server.url) as proxy:
        result = backup_table(client("dynamodb", proxy.url), open_store(f"file://{tmp_path}"), unique_name, REGION,
                              ScanSettings(workers=workers, read_percentage=read_percentage))

    assert result.manifest["item_count"] == count
    times = [t for t, _units in proxy.samples]
    consumed = sum(units for _at, units in proxy.samples)
    elapsed = max(times) - min(times)
    worst = proxy.worst_window(WINDOW_S)
    assert elapsed > WINDOW_S, "the run must be long enough to judge a 10 s window"
    assert worst <= target * WINDOW_S * 1.05, f"{worst:.1f} units in a 10 s window, limit {target * WINDOW_S:.0f}"
    assert consumed / elapsed >= 0.85 * target, f"only {consumed / elapsed:.1f} units/s of {target}"
    assert result.read_units_consumed == pytest.approx(consumed)
    print(f"target {target}/s: {consumed / elapsed:.2f}/s overall, worst 10 s window {worst / WINDOW_S:.2f}/s")


def test_a_boost_that_arrives_late_is_read_on_only_once_it_is_there(dynalite_server: Any, unique_name: str,
                                                                    tmp_path: Path) -> None:
    """A table of 10 RCU whose boost to 100 (this run's record) reaches the table 6 s after the scan starts,
    as autoscaling raises a new minimum minutes later. dynalite (like moto) does not model that lag, so the
    scan is given a capacity reader that reports it; the proxy measures what the scan really consumed.
    Until the capacity is there the scan reads at most the host's share of the original (5 units/s, not the
    plan's 90 % of it), then at the plan's share of the boosted capacity (90 units/s)."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=100)
    record = CapacityRecord("PROVISIONED", iso(datetime.now(UTC)), "night", {None: {"read": Dimension(10)}},
                            hold_until=iso(datetime.now(UTC) + timedelta(hours=1)),
                            boosted={None: {"read": Dimension(100)}})
    arn = ddb.describe_table(TableName=unique_name)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=record_tags(record, DEFAULT_TAG_KEY))
    count = 3200  # ~1 KB items: about 400 units, 80 s at the original share, under 15 s once boosted
    put_items(ddb, unique_name, simple_items(count, pad=1000))
    lag_s = 6.0
    started = time.monotonic()

    def lagging_capacity() -> int:
        return 100 if time.monotonic() >= started + lag_s else 10

    settings = ScanSettings(workers=4, read_percentage=0.9, original_share=0.5, run_id="night")
    with DynamoDBProxy(dynalite_server.url) as proxy:
        result = backup_table(client("dynamodb", proxy.url), open_store(f"file://{tmp_path}"), unique_name, REGION,
                              settings, read_capacity=lagging_capacity)

    assert result.manifest["item_count"] == count
    first = min(t for t, _units in proxy.samples)
    # Until the boost is there, the original share: 5 units/s, plus the bucket's burst and the pages in flight
    # (reading at the plan's 90 % of the original capacity would have taken 9 units/s, some 50 units).
    before = sum(units for t, units in proxy.samples if t < started + lag_s)
    assert before <= 5.0 * (lag_s - (first - started)) + 10.0, f"{before:.1f} units read before the boost arrived"
    assert max(t for t, _units in proxy.samples) - started < lag_s + BOOST_POLL_S + 15, "the boost was never read on"
    assert result.read_units_limit == 90.0
    print(f"{before:.1f} units in the {lag_s:.0f} s before the boost arrived, "
          f"done {max(t for t, _units in proxy.samples) - started:.1f} s after the start")
