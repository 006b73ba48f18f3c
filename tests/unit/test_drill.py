"""restoring/drill: drill_request (the checks and the choice backup_drill makes before any call, with a fixed
clock) and a whole drill on a moto table backed up by the local engine into a file:// destination."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.drill import (
    DrillRequest,
    drill_request,
    run_drill,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import RestoreSettings
from tests.conftest import REGION, client
from tests.support.tables import create_table, put_items, simple_items, table_names

NOW = datetime(2026, 2, 3, 1, 30, tzinfo=UTC)  # day 34 of the year


def test_the_night_s_day_of_the_year_picks_the_table_and_names_the_scratch_table() -> None:
    drill = drill_request(DrillRequest(tables=["ccc", "aaa", "bbb", "aaa"]), now=NOW)
    assert drill.table == "bbb"  # sorted, de-duplicated: 34 % 3 == 1
    assert drill.scratch_table == "bbb-drill-20260203"


def test_night_given_wins_over_the_clock_and_table_over_the_rotation() -> None:
    # Day 35 picks bbb; the clock (day 34) would pick aaa.
    assert drill_request(DrillRequest(tables=["aaa", "bbb"], night="2026-02-04T00:10:00Z"), now=NOW).table == "bbb"
    named = drill_request(DrillRequest(tables=["aaa", "bbb"], table="orders", night="2026-02-04T00:10:00Z"), now=NOW)
    assert (named.table, named.scratch_table) == ("orders", "orders-drill-20260204")


def test_a_long_table_name_is_shortened_for_the_scratch_table() -> None:
    drill = drill_request(DrillRequest(table="x" * 255), now=NOW)
    assert len(drill.scratch_table) == 255 and drill.scratch_table.endswith("-drill-20260203")


@pytest.mark.parametrize(("request_", "field"), [
    (DrillRequest(tables=[]), "tables"),
    (DrillRequest(tables=["bad name!"]), "tables"),
    (DrillRequest(table="a/b"), "table"),
    (DrillRequest(table="aaa", account_id="12345"), "account_id"),
    (DrillRequest(table="aaa", night="last tuesday"), "night"),
    (DrillRequest(table="aaa", settings=RestoreSettings(workers=0)), "workers"),
    (DrillRequest(table="aaa", settings=RestoreSettings(readers=0)), "readers"),
])
def test_bad_input_names_the_field(request_: DrillRequest, field: str) -> None:
    with pytest.raises(InputError) as raised:
        drill_request(request_, now=NOW)
    assert raised.value.field == field


def test_a_drill_restores_counts_compares_and_drops_its_scratch_table(moto_url: str, unique_name: str,
                                                                      tmp_path: Path) -> None:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(12))
    store = open_store(f"file://{tmp_path}/backups")
    backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0, workers=1), NOW)
    request = DrillRequest(tables=[unique_name], settings=RestoreSettings(workers=2, readers=1))
    drill = drill_request(request, now=NOW)
    run_drill(drill, ddb, store, REGION, None, request.settings)
    assert (drill.expected_items, drill.counted_items, drill.scratch_deleted) == (12, 12, True)
    assert drill.comparison is not None and drill.comparison["equal"] is True
    assert drill.scratch_table not in table_names(ddb)
