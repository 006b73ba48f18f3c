"""Restore against real stand-ins; unprocessed items and stalls are injected (no emulator returns them)."""

from __future__ import annotations

import json
import threading
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.raw_batch_write import RawBatchWrites
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_at
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import find_backup, list_backups
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.batch_writer import BATCH_SIZE, BatchWriter
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    TargetDrifted,
    load_manifest,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.dynamodb_proxy import DynamoDBProxy
from tests.support.forwarding_proxy import Answer, ForwardingProxy, Reply, Request
from tests.support.scan_tables import INDEXED, indexed_table_and_bucket
from tests.support.tables import canonical, create_table, put_items, scan_all, simple_items, table_names, wait_active

NIGHT_1 = datetime(2026, 11, 20, 1, 0, 0, tzinfo=UTC)
NIGHT_2 = datetime(2026, 11, 21, 1, 0, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)  # the controlled clock of the selection tests


@pytest.fixture
def dynalite_backup(dynalite_server: Any, unique_name: str, tmp_path: Path) -> tuple[Any, Any, str]:
    """A 2,000-item on-demand table on dynalite with a complete backup in a local folder."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(2000))
    store = open_store(f"file://{tmp_path}/backups")
    folder = backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0), NIGHT_1).folder
    return ddb, store, folder


def test_restore_from_s3_rebuilds_schema_and_items(moto_server: Any, unique_name: str) -> None:
    ddb, s3 = indexed_table_and_bucket(moto_server, unique_name, 80)
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    folder = backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0)).folder
    target = f"{unique_name}-copy"

    result = restore_backup(ddb, store, folder, target, RestoreSettings(workers=4))

    assert result.changed and result.created and result.written_items == result.counted_items == 81
    assert canonical(scan_all(ddb, target)) == canonical(scan_all(ddb, unique_name))
    source, copy = (ddb.describe_table(TableName=n)["Table"] for n in (unique_name, target))
    for key in ("KeySchema", "AttributeDefinitions"):
        assert sorted(map(str, copy[key])) == sorted(map(str, source[key]))
    assert copy["ProvisionedThroughput"]["ReadCapacityUnits"] == 40
    assert copy["LocalSecondaryIndexes"][0]["IndexName"] == "by-when"
    assert copy["GlobalSecondaryIndexes"][0]["Projection"] == INDEXED["GlobalSecondaryIndexes"][0]["Projection"]
    assert copy["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert ddb.describe_time_to_live(TableName=target)["TimeToLiveDescription"]["AttributeName"] == "ttl"
    tags = ddb.list_tags_of_resource(ResourceArn=copy["TableArn"])["Tags"]
    assert {"Key": "team", "Value": "payments"} in tags


def test_same_restore_twice_changes_nothing(dynalite_backup: tuple[Any, Any, str], unique_name: str) -> None:
    ddb, store, folder = dynalite_backup
    first = restore_backup(ddb, store, folder, f"{unique_name}-r", RestoreSettings())
    again = restore_backup(ddb, store, folder, f"{unique_name}-r", RestoreSettings())
    assert first.changed and first.counted_items == 2000
    assert not again.changed and again.written_items == 0 and "already holds" in again.msg


def test_a_rerun_over_a_drifted_table_fails_naming_the_drift_and_force_reloads_it(
        dynalite_backup: tuple[Any, Any, str], unique_name: str) -> None:
    """The table is tagged as the restore of the backup, but 5 items were deleted and 1 changed since: a rerun
    says so (no "already holds"), and with force: true ends holding exactly the backup."""
    ddb, store, folder = dynalite_backup
    target = f"{unique_name}-v2"
    restore_backup(ddb, store, folder, target, RestoreSettings())
    for n in range(5):
        ddb.delete_item(TableName=target, Key={"pk": {"S": f"item-{n:08d}"}})
    put_items(ddb, target, [{"pk": {"S": "item-00000100"}, "n": {"N": "-1"}}])

    with pytest.raises(TargetDrifted, match=r"no longer holds it: .*missing 5 .*changed 1") as err:
        restore_backup(ddb, store, folder, target, RestoreSettings())
    assert "force: true" in str(err.value) and "new target" in str(err.value)
    assert err.value.comparison.report()["missing_count"] == 5 and len(scan_all(ddb, target)) == 1995
    dry = restore_backup(ddb, store, folder, target, RestoreSettings(force=True), check_mode=True)
    assert dry.changed and "would empty and reload" in dry.msg and len(scan_all(ddb, target)) == 1995

    forced = restore_backup(ddb, store, folder, target, RestoreSettings(force=True))

    assert forced.changed and forced.written_items == 2000 and forced.counted_items == 2000
    assert canonical(scan_all(ddb, target)) == canonical(scan_all(ddb, unique_name))
    again = restore_backup(ddb, store, folder, target, RestoreSettings(force=True))
    assert not again.changed and "item for item" in again.msg


def test_a_rerun_over_a_table_with_an_added_item_is_not_a_no_op(dynalite_backup: tuple[Any, Any, str],
                                                                unique_name: str) -> None:
    ddb, store, folder = dynalite_backup
    target = f"{unique_name}-v3"
    restore_backup(ddb, store, folder, target, RestoreSettings())
    put_items(ddb, target, [{"pk": {"S": "written-after"}}])
    with pytest.raises(TargetDrifted, match=r"extra 1 \(first: \{\"pk\": \"written-after\"\}\)"):
        restore_backup(ddb, store, folder, target, RestoreSettings())
    restore_backup(ddb, store, folder, target, RestoreSettings(force=True))
    assert len(scan_all(ddb, target)) == 2000  # emptied, not loaded over the extra item


def test_refuses_a_non_empty_target_unless_forced(dynalite_backup: tuple[Any, Any, str], unique_name: str) -> None:
    ddb, store, folder = dynalite_backup
    target = f"{unique_name}-busy"
    create_table(ddb, target, rcu=None)
    put_items(ddb, target, [{"pk": {"S": "someone-elses"}}])
    with pytest.raises(InputError, match="already exists and holds items") as err:
        restore_backup(ddb, store, folder, target, RestoreSettings())
    assert err.value.field == "target"
    assert [i["pk"]["S"] for i in scan_all(ddb, target)] == ["someone-elses"]  # nothing was written

    forced = restore_backup(ddb, store, folder, target, RestoreSettings(force=True))
    assert forced.written_items == 2000 and len(scan_all(ddb, target)) == 2001


def test_check_mode_writes_nothing(dynalite_backup: tuple[Any, Any, str], unique_name: str) -> None:
    ddb, store, folder = dynalite_backup
    result = restore_backup(ddb, store, folder, f"{unique_name}-dry", RestoreSettings(), check_mode=True)
    assert result.changed and "would create" in result.msg
    assert f"{unique_name}-dry" not in table_names(ddb)


def test_at_picks_the_newest_backup_at_or_before(dynalite_backup: tuple[Any, Any, str], unique_name: str) -> None:
    ddb, store, _folder = dynalite_backup
    put_items(ddb, unique_name, [{"pk": {"S": "added-on-day-2"}}])
    backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0), NIGHT_2)
    assert find_backup(store, unique_name, REGION, now=NOW).taken_at == NIGHT_2
    for day in ("2026-11-20", "20261120", "2026-W47-5", "2026-324"):  # one day, however it is spelt
        assert find_backup(store, unique_name, REGION, at=parse_at(day, NOW), now=NOW).taken_at == NIGHT_1
    assert find_backup(store, unique_name, REGION, at=parse_at("2026-11-21T00:59:59Z", NOW),
                       now=NOW).taken_at == NIGHT_1
    with pytest.raises(HippolyteError, match="no intact backup"):
        find_backup(store, unique_name, REGION, at=parse_at("2026-11-19", NOW), now=NOW)
    # A clock behind the backups' (now before NIGHT_2 beyond the skew): the future-dated one is never chosen.
    assert find_backup(store, unique_name, REGION, now=NIGHT_2 - timedelta(minutes=6)).taken_at == NIGHT_1


def test_incomplete_backup_is_never_chosen(dynalite_backup: tuple[Any, Any, str], unique_name: str,
                                           tmp_path: Path) -> None:
    _ddb, store, folder = dynalite_backup
    later = tmp_path / "backups" / folder.replace("2026-11-20-01-00-00", "2026-11-23-01-00-00") / "data"
    later.mkdir(parents=True)
    (later / "part-00000.json.gz").write_bytes(b"half a file")
    refs = list_backups(store, unique_name, REGION)
    assert [r.complete for r in refs] == [True, False]
    assert find_backup(store, unique_name, REGION, now=NOW).taken_at == NIGHT_1


def test_damaged_data_file_fails_the_restore(dynalite_backup: tuple[Any, Any, str], unique_name: str,
                                             tmp_path: Path) -> None:
    """Without the check before writing, the damage is still found while loading."""
    ddb, store, folder = dynalite_backup
    part = next((tmp_path / "backups" / folder / "data").glob("part-*.json.gz"))
    part.write_bytes(part.read_bytes()[:-9] + b"\x00" * 9)  # corrupt the gzip trailer
    with pytest.raises(HippolyteError, match="not written"):
        restore_backup(ddb, store, folder, f"{unique_name}-bad", RestoreSettings(verify_before_write=False))


def test_restore_of_a_damaged_backup_creates_no_table(dynalite_backup: tuple[Any, Any, str], unique_name: str,
                                                      tmp_path: Path) -> None:
    ddb, store, folder = dynalite_backup
    part = next((tmp_path / "backups" / folder / "data").glob("part-*.json.gz"))
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped byte in the middle of the deflate stream
    part.write_bytes(bytes(data))
    target = f"{unique_name}-bad"
    with pytest.raises(HippolyteError, match="nothing was created") as err:
        restore_backup(ddb, store, folder, target, RestoreSettings())
    assert f"{store.url}/{folder}/data/{part.name}" in str(err.value) and "sha256" in str(err.value)
    assert target not in table_names(ddb)


def test_unprocessed_items_are_retried_until_written(dynalite_backup: tuple[Any, Any, str], dynalite_server: Any,
                                                     unique_name: str) -> None:
    """A proxy answers part of each of the first 60 BatchWriteItem calls as UnprocessedItems, as DynamoDB does
    under throttling (no emulator does)."""
    ddb, store, folder = dynalite_backup
    with DynamoDBProxy(dynalite_server.url, unprocessed=(60, 10)) as proxy:
        result = restore_backup(client("dynamodb", proxy.url), store, folder, f"{unique_name}-flaky",
                                RestoreSettings(workers=4))
    assert proxy.held_back > 0 and result.retried_items == proxy.held_back
    assert result.written_items == result.counted_items == 2000
    assert canonical(scan_all(ddb, f"{unique_name}-flaky")) == canonical(scan_all(ddb, unique_name))


def test_a_stalled_restore_says_how_many_items_are_missing(dynalite_backup: tuple[Any, Any, str],
                                                           dynalite_server: Any, unique_name: str) -> None:
    """The proxy plays a DynamoDB that accepts nothing at all."""
    _ddb, store, folder = dynalite_backup
    with DynamoDBProxy(dynalite_server.url, unprocessed=(10**9, 0)) as proxy, \
            pytest.raises(HippolyteError, match=r"failed with 2000 of 2000 items not written"):
        restore_backup(client("dynamodb", proxy.url), store, folder, f"{unique_name}-stuck",
                       RestoreSettings(workers=2, stall_timeout_s=1))


def test_load_time_write_boost_is_put_back(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """dynalite tracks UpdateTable and decreases: the new table loads at 300 WCU and ends at its backed-up 5."""
    ddb = client("dynamodb", dynalite_server.url)
    ddb.create_table(TableName=unique_name, ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": 5},
                     **INDEXED)
    wait_active(ddb, unique_name)
    put_items(ddb, unique_name, [{"pk": {"S": f"p{n}"}, "sk": {"N": str(n)}, "city": {"S": "York"}}
                                 for n in range(300)])
    store = open_store(f"file://{tmp_path}")
    folder = backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0)).folder
    target = f"{unique_name}-fast"

    result = restore_backup(ddb, store, folder, target, RestoreSettings(write_capacity=300, run_id="t"))

    assert result.counted_items == 300 and "not back yet" not in result.msg
    table = ddb.describe_table(TableName=target)["Table"]
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 5
    assert table["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 1  # it was raised, then put back
    assert table["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
    assert [t["Key"] for t in tags if t["Key"].startswith("hippolyte:")] == ["hippolyte:restored-from"]


def put(pk: str, value: str) -> bytes:
    return f'{{"PutRequest":{{"Item":{{"pk":{{"S":"{pk}"}},"v":{{"S":"{value}"}}}}}}}}'.encode()


def test_two_puts_of_one_key_in_a_batch_are_both_written_the_later_winning(dynalite_server: Any,
                                                                           unique_name: str) -> None:
    """DynamoDB (and dynalite) refuse a whole batch holding two puts of one key, as a backup made by another
    tool can: the batch is written in halves, in order, so no other item is lost and the later put wins."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    requests = [put(f"k{n:02d}", "first") for n in range(20)] + [put("k03", "second")]
    with RawBatchWrites(ddb) as raw, BatchWriter(raw.send, unique_name, workers=1) as writer:
        writer.put_requests(requests)
    items = {i["pk"]["S"]: i["v"]["S"] for i in scan_all(ddb, unique_name)}
    assert len(items) == 20
    assert items["k03"] == "second" and items["k04"] == "first"


def test_an_item_dynamodb_refuses_is_named_and_the_others_are_written(dynalite_server: Any,
                                                                      unique_name: str) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    bad = b'{"PutRequest":{"Item":{"pk":{"S":"k-bad"},"v":{"N":"not-a-number"}}}}'
    requests = [put(f"k{n:02d}", "ok") for n in range(10)] + [bad] + [put(f"k{n:02d}", "ok") for n in range(10, 20)]
    with (pytest.raises(HippolyteError, match=r"refused an item of the backup.*k-bad"), RawBatchWrites(ddb) as raw,
          BatchWriter(raw.send, unique_name, workers=1) as writer):
        writer.put_requests(requests)
    assert len(scan_all(ddb, unique_name)) == 20


def numbers_item(pk: str, count: int = 120_000) -> dict[str, Any]:
    """About 360 KB as DynamoDB counts it (3 bytes per one-digit number in a list), 1.2 MB as JSON."""
    return {"pk": {"S": pk}, "l": {"L": [{"N": str(n % 10)} for n in range(count)]}}


def test_25_items_of_360_kb_are_sent_in_requests_under_16_mb(dynalite_server: Any, unique_name: str,
                                                             tmp_path: Path) -> None:
    """25 legal items make a 30 MB request if batches are cut by count only; dynalite answers 413 to it."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    for n in range(25):
        ddb.put_item(TableName=unique_name, Item=numbers_item(f"big-{n:02d}"))
    store = open_store(f"file://{tmp_path}/backups")
    # One segment, one data file: the 25 items reach the writer together, as from a backup of one part.
    folder = backup_table(ddb, store, unique_name, REGION,
                          ScanSettings(read_units_per_second=0, workers=1, segments=1), NIGHT_1).folder
    assert len(load_manifest(store, folder)["files"]) == 1

    result = restore_backup(ddb, store, folder, f"{unique_name}-r", RestoreSettings(workers=2))

    assert result.written_items == result.counted_items == 25


@given(st.lists(st.integers(min_value=1, max_value=6_000), max_size=200))
@settings(max_examples=200, deadline=None)
def test_batches_hold_at_most_25_requests_and_the_byte_limit_in_order(sizes: list[int]) -> None:
    """Pure logic, a recording `send`: every request goes once, in order; a batch passes the byte limit only when
    it is one request alone."""
    sent: list[list[bytes]] = []
    requests = [str(n).encode().ljust(size, b" ") for n, size in enumerate(sizes)]
    with BatchWriter(lambda _t, batch: sent.append(batch) or [], "t", workers=1, batch_bytes=10_000) as writer:
        writer.put_requests(requests)
    assert [r for batch in sent for r in batch] == requests
    for batch in sent:
        assert len(batch) <= BATCH_SIZE
        assert len(batch) == 1 or sum(len(r) + 1 for r in batch) <= 10_000


class WriteBoostLag(ForwardingProxy):
    """dynalite in front, playing what it cannot: a raised write capacity that is not on the table yet (for `lag`
    DescribeTable answers after the raise to `boost`, the table reads ACTIVE at its old `own` write capacity), and
    an operator who raises the table to `raise_to` when the load begins. Records every call in order: (operation,
    the table's status and write capacity in a DescribeTable answer)."""

    def __init__(self, upstream: str, own: int, boost: int, lag: int, raise_to: int) -> None:
        super().__init__(upstream)
        self.own, self.boost, self.lag, self.raise_to = own, boost, lag, raise_to
        self.boost_asked = self.operator_raised = False
        self.calls: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    def serve(self, request: Request, send: Answer) -> None:
        operation = request.operation.rsplit(".", 1)[-1]
        asked = json.loads(request.body or b"{}")
        if operation == "BatchWriteItem":
            self._operator_raises(*asked["RequestItems"])
        reply = self.forward(request)
        status, units, body = "", 0, reply.body
        with self._lock:
            if operation == "UpdateTable" and asked.get("ProvisionedThroughput", {}).get("WriteCapacityUnits") == \
                    self.boost:
                self.boost_asked = True
            if operation == "DescribeTable" and reply.status == 200:
                doc = json.loads(body)
                table = doc["Table"]
                if self.boost_asked and self.lag > 0 and table["ProvisionedThroughput"]["WriteCapacityUnits"] == \
                        self.boost:
                    self.lag -= 1
                    table["ProvisionedThroughput"]["WriteCapacityUnits"], table["TableStatus"] = self.own, "ACTIVE"
                status, units = table["TableStatus"], table["ProvisionedThroughput"]["WriteCapacityUnits"]
                body = json.dumps(doc).encode()
            self.calls.append((operation, status, units))
        headers = [(k, v) for k, v in reply.headers if k.lower() != "x-amz-crc32"]
        send(Reply(reply.status, [*headers, ("x-amz-crc32", str(zlib.crc32(body)))], body))

    def _operator_raises(self, table: str) -> None:
        with self._lock:
            if self.operator_raised:
                return
            self.operator_raised = True
        client("dynamodb", self.upstream).update_table(
            TableName=table, ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": self.raise_to})

    def __enter__(self) -> WriteBoostLag:
        super().__enter__()
        return self


def test_a_write_boost_is_loaded_on_only_once_it_is_there_and_goes_back_only_where_it_was_left(
        dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """The restore raises the new table's write capacity 5 -> 300 (dynalite answers UPDATING, then ACTIVE); the
    capacity then lags for 3 DescribeTable answers. No BatchWriteItem goes out before a DescribeTable shows 300
    ACTIVE. During the load an operator raises the table to 400: the put-back leaves the table's 400 (and says
    so) and puts the index, still at the boost, back to 3."""
    ddb = client("dynamodb", dynalite_server.url)
    ddb.create_table(TableName=unique_name, ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": 5},
                     **INDEXED)
    wait_active(ddb, unique_name)
    put_items(ddb, unique_name, [{"pk": {"S": f"p{n}"}, "sk": {"N": str(n)}, "city": {"S": "York"}}
                                 for n in range(300)])
    store = open_store(f"file://{tmp_path}")
    folder = backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0)).folder
    target = f"{unique_name}-lag"

    with WriteBoostLag(dynalite_server.url, own=5, boost=300, lag=3, raise_to=400) as proxy:
        result = restore_backup(client("dynamodb", proxy.url), store, folder, target,
                                RestoreSettings(write_capacity=300, run_id="t"))

    assert result.counted_items == 300
    first_write = next(n for n, call in enumerate(proxy.calls) if call[0] == "BatchWriteItem")
    seen = [(status, units) for op, status, units in proxy.calls[:first_write] if op == "DescribeTable"]
    assert ("ACTIVE", 5) in seen[-4:-1] and seen[-1] == ("ACTIVE", 300), seen  # it waited out the lag
    assert proxy.lag == 0 and proxy.operator_raised
    table = ddb.describe_table(TableName=target)["Table"]
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 400  # the operator's, left as it was
    assert table["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    assert "left at 400" in result.msg, result.msg
    tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
    assert [t["Key"] for t in tags if t["Key"].startswith("hippolyte:")] == ["hippolyte:restored-from"]
