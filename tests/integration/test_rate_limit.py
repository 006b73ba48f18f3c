"""The read limiter against dynalite, which reports real consumed capacity for every Scan page.

A proxy between the backup and dynalite records each response's ConsumedCapacity with its time, so
the check does not rely on the limiter's own accounting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.storage.backup_store import open_store
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
