"""Undo an accidental delete (backup_undelete) on dynalite: a table backed up, then items deleted and changed.

Check mode compares and writes nothing; a run puts back exactly the missing items, never overwrites a changed
one unless asked, and never overwrites an item the application wrote back between the comparison and the write.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import find_backup, read_manifest
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.rate_limiter import TokenBucket
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.undelete import (
    UndeleteRequest,
    undelete_items,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.tables import create_table

ITEMS = 60


def item(n: int, value: str = "v1") -> dict[str, Any]:
    return {"pk": {"S": f"cust-{n % 3}#order-{n:03d}"}, "n": {"N": str(n)}, "value": {"S": value},
            "blob": {"B": bytes([n % 256]) * 3}}


def all_items(ddb: Any, table: str) -> dict[str, dict[str, Any]]:
    found, kwargs = {}, {"TableName": table, "ConsistentRead": True}
    while True:
        page = ddb.scan(**kwargs)
        found.update({i["pk"]["S"]: i for i in page["Items"]})
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def damaged(dynalite_server: Any, unique_name: str, tmp_path: Path) -> dict[str, Any]:
    """A table backed up an hour ago, then 10 items deleted and 4 changed."""
    ddb = client("dynamodb", dynalite_server.url)
    table = f"{unique_name}-orders"
    create_table(ddb, table, rcu=None)
    for n in range(ITEMS):
        ddb.put_item(TableName=table, Item=item(n))
    url = f"file://{tmp_path}/backups"
    store = open_store(url)
    backup_table(ddb, store, table, REGION, ScanSettings(read_units_per_second=0, workers=1, account_id="123456789012"),
                 datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    deleted = list(range(0, 30, 3))  # 10 items, all of customer 0
    for n in deleted:
        ddb.delete_item(TableName=table, Key={"pk": item(n)["pk"]})
    changed = [1, 2, 4, 5]
    for n in changed:
        ddb.put_item(TableName=table, Item=item(n, "v2"))
    args = {"destination": url, "region": REGION, "endpoint_url": dynalite_server.url, "table": table,
            "account_id": "123456789012"}
    return {"ddb": ddb, "table": table, "store": store, "deleted": deleted, "changed": changed, "args": args}


def test_check_mode_says_what_would_go_back_and_writes_nothing(damaged: dict[str, Any]) -> None:
    before = all_items(damaged["ddb"], damaged["table"])
    preview = run_module("backup_undelete", damaged["args"], check=True, diff=True)
    assert not preview.failed, preview.output
    result = preview.result
    assert (result["missing"], result["differing"], result["written"]) == (10, 4, 0)
    assert result["changed"] and "would put back 10 item(s)" in result["msg"]
    assert [k["pk"]["S"] for k in result["missing_keys"]] == sorted(item(n)["pk"]["S"] for n in damaged["deleted"])
    assert result["compare"]["missing_count"] == 10 and result["compare"]["changed_count"] == 4
    assert all_items(damaged["ddb"], damaged["table"]) == before


def test_a_run_puts_back_the_missing_items_only_and_then_nothing(damaged: dict[str, Any]) -> None:
    ddb, table = damaged["ddb"], damaged["table"]
    done = run_module("backup_undelete", damaged["args"])
    assert not done.failed and done.result["changed"], done.output
    assert (done.result["written"], done.result["overwritten"], done.result["appeared"]) == (10, 0, 0)
    now = all_items(ddb, table)
    assert len(now) == ITEMS
    for n in damaged["deleted"]:
        assert now[item(n)["pk"]["S"]] == item(n)  # byte for byte, binary included
    for n in damaged["changed"]:
        assert now[item(n)["pk"]["S"]]["value"] == {"S": "v2"}  # the table's newer version stays
    again = run_module("backup_undelete", damaged["args"])
    assert not again.failed and not again.result["changed"] and again.result["written"] == 0, again.output


def test_changed_items_are_overwritten_only_when_asked_and_filters_narrow(damaged: dict[str, Any]) -> None:
    ddb, table = damaged["ddb"], damaged["table"]
    some = [{"pk": item(n)["pk"]} for n in (3, 6)]
    narrowed = run_module("backup_undelete", {**damaged["args"], "keys": some})
    assert not narrowed.failed and narrowed.result["written"] == 2, narrowed.output
    assert narrowed.result["missing"] == 2 and narrowed.result["differing"] == 0
    prefixed = run_module("backup_undelete", {**damaged["args"], "key_prefix": "cust-1#", "overwrite_changed": True})
    assert not prefixed.failed, prefixed.output
    # Customer 1's changed orders (1 and 4) go back to the backup's version; customer 0's missing ones wait.
    assert (prefixed.result["written"], prefixed.result["overwritten"]) == (0, 2)
    now = all_items(ddb, table)
    assert now[item(1)["pk"]["S"]] == item(1) and now[item(4)["pk"]["S"]] == item(4)
    assert now[item(2)["pk"]["S"]]["value"] == {"S": "v2"}
    assert item(9)["pk"]["S"] not in now


def test_an_item_written_back_meanwhile_is_never_overwritten(damaged: dict[str, Any]) -> None:
    # The application writes one deleted item back between the comparison and the write: the write must lose.
    ddb, table, store = damaged["ddb"], damaged["table"], damaged["store"]
    ref = find_backup(store, table, REGION, "123456789012", now=datetime.now(UTC))
    doc, _error = read_manifest(store, ref)
    raced = item(0, "written-by-the-app")

    class RacingBucket(TokenBucket):
        """The first wait for write credit is where the application's write lands."""
        first = threading.Event()

        def wait(self, stop: threading.Event | None = None) -> None:
            if not self.first.is_set():
                self.first.set()
                ddb.put_item(TableName=table, Item=raced)
            super().wait(stop)

    outcome = undelete_items(ddb, store, ref.folder, doc, UndeleteRequest(table, 1000.0, workers=1),
                             bucket=RacingBucket)
    assert (outcome.written, outcome.appeared) == (9, 1)
    assert all_items(ddb, table)[raced["pk"]["S"]] == raced


def test_bad_input_fails_before_any_call(damaged: dict[str, Any]) -> None:
    for extra, says in (({"write_units_per_second": 0}, "write_units_per_second"),
                        ({"keys": [{"pk": "cust-0#order-000"}]}, "keys[0]"),
                        ({"keys": [{"id": {"S": "x"}}]}, "the table's key is ['pk']"),
                        ({"table": "no-such-table"}, "does not exist")):
        bad = run_module("backup_undelete", {**damaged["args"], **extra})
        assert bad.failed and says in bad.result["msg"], (says, bad.result.get("msg"))
