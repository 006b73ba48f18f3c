"""The export engine against moto server, through the module where moto can play the part.

moto 5.2 runs ExportTableToPointInTime and writes the data file to its S3, but finishes at once,
ignores ExportTime and ClientToken, and writes no manifest-summary.json / manifest-files.json.
So: the "no native manifest" path runs end to end through the module; the native manifests are
written into moto's S3 by the test as AWS lays them out; and the IN_PROGRESS -> COMPLETED / FAILED
transitions moto never shows are played by a botocore Stubber on the DynamoDB client only
(S3 stays the real moto server).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import encode_line
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines import native_export
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import watch
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.items import every_type_item
from tests.support.tables import canonical, create_table, put_items, scan_all, simple_items


def _now() -> datetime:
    """An export time inside the PITR window of tables made just before (the module checks the window)."""
    return datetime.now(UTC).replace(microsecond=0)


def _table(ddb: Any, name: str, items: list[dict[str, Any]], pitr: bool = True) -> None:
    create_table(ddb, name, rcu=None)
    put_items(ddb, name, items)
    if pitr:
        ddb.update_continuous_backups(TableName=name,
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


def _setup(moto_server: Any, name: str) -> tuple[Any, Any]:
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return ddb, s3


def _keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def _args(moto_server: Any, bucket: str, tables: list[str], at: datetime, **extra: Any) -> dict[str, Any]:
    return {"tables": tables, "destination": f"s3://{bucket}/dynamodb", "run_id": "night-1",
            "export_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION, "endpoint_url": moto_server.url,
            "poll_interval": 1, "wait_timeout": 30, **extra}


def test_exports_every_table_at_one_time_into_its_backup_folder(moto_server: Any, dynalite_server: Any,
                                                                unique_name: str) -> None:
    ddb, s3 = _setup(moto_server, unique_name)
    orders, users = f"{unique_name}-orders", f"{unique_name}-users"
    expected = [every_type_item("k1"), every_type_item("k2"), *simple_items(30)]
    _table(ddb, orders, expected)
    _table(ddb, users, list(simple_items(5)))
    at = _now()
    folder_time = at.strftime("%Y-%m-%d-%H-%M-%S")

    run = run_module("dynamodb_export", _args(moto_server, unique_name, [orders, users], at))

    assert not run.failed, run.output
    assert run.result["changed"] is True and run.result["export_time"] == at.isoformat()
    by_table = {e["table"]: e for e in run.result["exports"]}
    assert [by_table[t]["status"] for t in (orders, users)] == ["COMPLETED", "COMPLETED"]
    assert [by_table[t]["item_count"] for t in (orders, users)] == [32, 5]
    for table in (orders, users):
        folder = f"dynamodb/123456789012/{REGION}/{table}/{folder_time}"
        assert by_table[table]["backup_url"] == f"s3://{unique_name}/{folder}"
        described = ddb.describe_export(ExportArn=by_table[table]["export_arn"])["ExportDescription"]
        assert described["S3Prefix"] == f"{folder}/data" and described["ExportStatus"] == "COMPLETED"
        keys = [k for k in _keys(s3, unique_name) if k.startswith(folder + "/")]
        data = [k for k in keys if k.endswith(".gz")]
        assert keys == sorted([*data, f"{folder}/hippolyte-manifest.json"])
        assert all(k.startswith(f"{folder}/data/AWSDynamoDB/") and "/data/" in k[len(folder) + 5:] for k in data)
        doc = json.loads(s3.get_object(Bucket=unique_name, Key=f"{folder}/hippolyte-manifest.json")["Body"].read())
        assert (doc["engine"], doc["data_format"], doc["consistency"]) == ("export", "native-export", "point-in-time")
        assert doc["native_manifest"] is False and doc["export_arn"] == by_table[table]["export_arn"]
        assert doc["schema"]["TableName"] == table and doc["schema"]["PointInTimeRecovery"] == "ENABLED"
        for entry in doc["files"]:
            raw = s3.get_object(Bucket=unique_name, Key=f"{folder}/{entry['path']}")["Body"].read()
            assert entry["bytes"] == len(raw) and entry["sha256"] == hashlib.sha256(raw).hexdigest()

    # The export restores, byte for byte, into another DynamoDB (dynalite) from moto's S3.
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    target = client("dynamodb", dynalite_server.url)
    result = restore_backup(target, store, f"123456789012/{REGION}/{orders}/{folder_time}", orders,
                            RestoreSettings(workers=2))
    assert result.counted_items == 32
    assert canonical(scan_all(target, orders)) == canonical(expected)

    again = run_module("dynamodb_export", _args(moto_server, unique_name, [orders, users], at))
    assert not again.failed, again.output
    assert again.result["changed"] is False
    assert [e["started"] for e in again.result["exports"]] == [False, False]
    assert len(ddb.list_exports(TableArn=ddb.describe_table(TableName=orders)["Table"]["TableArn"])
               ["ExportSummaries"]) == 1


def test_check_mode_starts_nothing(moto_server: Any, unique_name: str) -> None:
    ddb, s3 = _setup(moto_server, unique_name)
    _table(ddb, unique_name, list(simple_items(3)))
    run = run_module("dynamodb_export", _args(moto_server, unique_name, [unique_name], _now()), check=True)
    assert not run.failed, run.output
    assert run.result["exports"][0]["status"] == "PENDING" and run.result["exports"][0]["export_arn"] is None
    assert _keys(s3, unique_name) == []
    arn = ddb.describe_table(TableName=unique_name)["Table"]["TableArn"]
    assert ddb.list_exports(TableArn=arn)["ExportSummaries"] == []


def test_the_older_option_names_still_work_with_a_deprecation(moto_server: Any, unique_name: str) -> None:
    """`retries` and `s3_bucket_owner` are aliases of `maximum_retries` and `bucket_owner` for one more release."""
    ddb, _s3 = _setup(moto_server, unique_name)
    _table(ddb, unique_name, list(simple_items(3)))
    old = _args(moto_server, unique_name, [unique_name], _now(), retries=0, s3_bucket_owner="123456789012")
    run = run_module("dynamodb_export", old, check=True)
    assert not run.failed, run.output
    deprecated = " ".join(d["msg"] for d in run.result.get("deprecations", []))
    assert "s3_bucket_owner" in deprecated and "retries" in deprecated, run.output
    assert run.result["exports"][0]["status"] == "PENDING"


def test_a_table_without_pitr_fails_before_any_export(moto_server: Any, unique_name: str) -> None:
    ddb, s3 = _setup(moto_server, unique_name)
    good, bad = f"{unique_name}-good", f"{unique_name}-nopitr"
    _table(ddb, good, list(simple_items(3)))
    _table(ddb, bad, list(simple_items(3)), pitr=False)
    run = run_module("dynamodb_export", _args(moto_server, unique_name, [good, bad], _now()))
    assert run.failed and run.result["field"] == "tables"
    assert bad in run.result["msg"] and "point-in-time recovery off" in run.result["msg"]
    assert _keys(s3, unique_name) == []
    for table in (good, bad):
        arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
        assert ddb.list_exports(TableArn=arn)["ExportSummaries"] == []


@pytest.mark.parametrize("destination, field", [("file:///tmp/exports", "destination"),
                                                ("s3://{bucket}-missing/x", "destination")])
def test_bad_destination_fails_before_any_export(moto_server: Any, unique_name: str, destination: str,
                                                 field: str) -> None:
    ddb, s3 = _setup(moto_server, unique_name)
    _table(ddb, unique_name, list(simple_items(3)))
    args = _args(moto_server, unique_name, [unique_name], _now(), destination=destination.format(bucket=unique_name))
    run = run_module("dynamodb_export", args)
    assert run.failed and run.result["field"] == field, run.output
    arn = ddb.describe_table(TableName=unique_name)["Table"]["TableArn"]
    assert ddb.list_exports(TableArn=arn)["ExportSummaries"] == []
    assert _keys(s3, unique_name) == []


# ------------------------------------------------------------ native manifests, and states moto never shows

def _native_export(s3: Any, bucket: str, prefix: str, export_id: str, items: list[dict[str, Any]],
                   parts: int, arn: str) -> list[str]:
    """Write an export as AWS lays it out under `prefix` (data files, manifest-files.json, manifest-summary.json)."""
    base = f"{prefix}/AWSDynamoDB/{export_id}"
    entries, keys = [], []
    for part in range(parts):
        chunk = items[part::parts]
        raw = gzip.compress("".join(encode_line(i) + "\n" for i in chunk).encode())
        key = f"{base}/data/{hashlib.md5(raw).hexdigest()[:26]}.json.gz"  # an AWS-like file name
        s3.put_object(Bucket=bucket, Key=key, Body=raw)
        entries.append({"itemCount": len(chunk), "md5Checksum": base64.b64encode(hashlib.md5(raw).digest()).decode(),
                        "etag": hashlib.md5(raw).hexdigest(), "dataFileS3Key": key})
        keys.append(key)
    s3.put_object(Bucket=bucket, Key=f"{base}/manifest-files.json",
                  Body="".join(json.dumps(e) + "\n" for e in entries).encode())
    summary = {"version": "2020-06-30", "exportArn": arn, "startTime": "2026-11-22T01:00:05.000Z",
               "endTime": "2026-11-22T01:07:41.000Z", "tableArn": arn.split("/export/")[0], "tableId": "0c1b",
               "exportTime": "2026-11-22T01:00:00.000Z", "s3Bucket": bucket, "s3Prefix": prefix,
               "s3SseAlgorithm": "AES256", "s3SseKmsKeyId": None,
               "manifestFilesS3Key": f"{base}/manifest-files.json", "billedSizeBytes": 4096,
               "itemCount": len(items), "outputFormat": "DYNAMODB_JSON", "exportType": "FULL_EXPORT"}
    s3.put_object(Bucket=bucket, Key=f"{base}/manifest-summary.json", Body=json.dumps(summary).encode())
    s3.put_object(Bucket=bucket, Key=f"{base}/_started", Body=b"")
    return keys


def _description(arn: str, status: str, table_arn: str, **extra: Any) -> dict[str, Any]:
    return {"ExportDescription": {"ExportArn": arn, "ExportStatus": status, "TableArn": table_arn,
                                  "ExportTime": datetime(2026, 11, 22, 1, tzinfo=UTC), **extra}}


def _watch(ddb: Any, store: Any, plans: list[Any], settings: Any, sleep: Any, poll_s: int = 30) -> None:
    """What the module does once its exports are known: the shared watch over the export engine."""
    watch(native_export.ExportRun(ddb, store, plans, settings), wait=True, timeout_s=3600, poll_s=poll_s, sleep=sleep)


def test_monitoring_until_completed_and_failed_with_native_manifests(moto_server: Any, unique_name: str) -> None:
    """DescribeExport answers are stubbed (moto finishes at once and never fails); S3 is moto's."""
    real, s3 = _setup(moto_server, unique_name)
    ok, broken = f"{unique_name}-ok", f"{unique_name}-broken"
    items = [every_type_item(f"k{n}") for n in range(7)]
    for table in (ok, broken):
        _table(real, table, items)
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    settings = native_export.ExportSettings(run_id="night-2", export_time=_now())
    plans = native_export.prepare(real, store, [ok, broken], REGION, settings)
    arns = {}
    for plan in plans:
        arns[plan.table] = f"{plan.schema['TableArn']}/export/01763773200000-{plan.table[-6:]}"
        plan.export_arn, plan.status = arns[plan.table], "IN_PROGRESS"
    ok_plan = plans[0]
    data_keys = _native_export(s3, unique_name, f"dynamodb/{ok_plan.folder}/data", "01763773200000-a1b2c3d4",
                               items, parts=3, arn=arns[ok])

    ddb = client("dynamodb", moto_server.url)
    stub = Stubber(ddb)
    ok_arn, broken_arn = ok_plan.schema["TableArn"], plans[1].schema["TableArn"]
    stub.add_response("describe_export", _description(arns[ok], "IN_PROGRESS", ok_arn), {"ExportArn": arns[ok]})
    stub.add_response("describe_export", _description(arns[broken], "IN_PROGRESS", broken_arn),
                      {"ExportArn": arns[broken]})
    done = _description(arns[ok], "COMPLETED", ok_arn, StartTime=datetime(2026, 11, 22, 1, 0, 5, tzinfo=UTC),
                        EndTime=datetime(2026, 11, 22, 1, 7, 41, tzinfo=UTC), ItemCount=7)
    stub.add_response("describe_export", done, {"ExportArn": arns[ok]})
    stub.add_response("describe_export", done, {"ExportArn": arns[ok]})  # finish() reads the times
    stub.add_response("describe_export", _description(arns[broken], "FAILED", broken_arn, FailureCode="S3AccessDenied",
                                                      FailureMessage="Access Denied"), {"ExportArn": arns[broken]})
    slept: list[float] = []
    with stub:
        _watch(ddb, store, plans, settings, sleep=slept.append, poll_s=5)
        stub.assert_no_pending_responses()

    assert slept == [5]  # one poll interval between the two rounds
    assert [p.status for p in plans] == ["COMPLETED", "FAILED"]
    assert plans[1].failure == "S3AccessDenied: Access Denied" and plans[1].manifest is None
    assert not store.exists(f"{plans[1].folder}/hippolyte-manifest.json")
    doc = json.loads(store.read_bytes(f"{ok_plan.folder}/hippolyte-manifest.json"))
    assert doc["native_manifest"] is True and doc["item_count"] == 7
    assert doc["started"] == "2026-11-22T01:00:05+00:00" and doc["finished"] == "2026-11-22T01:07:41+00:00"
    prefix = f"dynamodb/{ok_plan.folder}/"
    assert sorted(f["path"] for f in doc["files"]) == sorted(k[len(prefix):] for k in data_keys)
    assert sum(f["items"] for f in doc["files"]) == 7 and all(f["items"] in (2, 3) for f in doc["files"])

    # The native-export backup restores exactly (through moto's DynamoDB, from moto's S3).
    restored = restore_backup(real, store, ok_plan.folder, f"{ok}-restored", RestoreSettings(workers=2))
    assert restored.counted_items == 7
    assert canonical(scan_all(real, f"{ok}-restored")) == canonical(items)


def test_a_data_file_that_does_not_match_the_native_md5_fails_the_table(moto_server: Any, unique_name: str) -> None:
    real, s3 = _setup(moto_server, unique_name)
    _table(real, unique_name, list(simple_items(4)))
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    settings = native_export.ExportSettings(run_id="night-3", export_time=_now())
    plan, = native_export.prepare(real, store, [unique_name], REGION, settings)
    arn = f"{plan.schema['TableArn']}/export/01763773200000-ffff0000"
    keys = _native_export(s3, unique_name, f"dynamodb/{plan.folder}/data", "01763773200000-ffff0000",
                          list(simple_items(4)), parts=1, arn=arn)
    s3.put_object(Bucket=unique_name, Key=keys[0], Body=gzip.compress(b'{"Item":{"pk":{"S":"tampered"}}}\n'))
    plan.export_arn, plan.status = arn, "COMPLETED"
    ddb = client("dynamodb", moto_server.url)
    with Stubber(ddb) as stub:
        stub.add_response("describe_export", _description(arn, "COMPLETED", plan.schema["TableArn"]),
                          {"ExportArn": arn})
        _watch(ddb, store, [plan], settings, sleep=lambda _: None)
    assert plan.status == "FAILED" and "md5 differs" in (plan.failure or "")
    assert not store.exists(f"{plan.folder}/hippolyte-manifest.json")


def test_settings_are_checked() -> None:
    with pytest.raises(InputError, match="in the future") as err:
        native_export.ExportSettings(run_id="r", export_time=datetime(2999, 1, 1, tzinfo=UTC)).validate(
            datetime(2026, 11, 22, tzinfo=UTC))
    assert err.value.field == "export_time"
    assert native_export.client_token("r1", "orders") == native_export.client_token("r1", "orders")
    assert native_export.client_token("r1", "orders") != native_export.client_token("r2", "orders")


def test_an_export_time_before_the_pitr_window_is_refused(moto_server: Any, unique_name: str) -> None:
    ddb, s3 = _setup(moto_server, unique_name)
    _table(ddb, unique_name, list(simple_items(2)))
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    settings = native_export.ExportSettings(run_id="r", export_time=datetime(2020, 1, 1, tzinfo=UTC))
    with pytest.raises(InputError, match="earliest restorable time") as err:
        native_export.prepare(ddb, store, [unique_name], REGION, settings)
    assert err.value.field == "export_time"
    arn = ddb.describe_table(TableName=unique_name)["Table"]["TableArn"]
    assert ddb.list_exports(TableArn=arn)["ExportSummaries"] == [] and _keys(s3, unique_name) == []


def test_clamped_export_time_moves_to_each_tables_earliest_restorable_second(moto_server: Any,
                                                                             unique_name: str) -> None:
    """clamp_export_time (the role's: the night's opening may precede a new table's PITR window, or be still to
    come): the table is exported from its earliest restorable second, named so, and its export asks for it."""
    ddb, s3 = _setup(moto_server, unique_name)
    _table(ddb, unique_name, list(simple_items(2)))
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    earliest = ddb.describe_continuous_backups(TableName=unique_name)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"].astimezone(UTC)
    settings = native_export.ExportSettings(run_id="night-1", export_time=datetime(2020, 1, 1, tzinfo=UTC),
                                            clamp_export_time=True)
    before = datetime.now(UTC).replace(microsecond=0)
    plan, = native_export.prepare(ddb, store, [unique_name], REGION, settings)
    after = datetime.now(UTC).replace(microsecond=0)
    # Its earliest restorable second, unless that is still to come (a table made this very second): then the
    # second prepare() read the clock in, between `before` and `after`.
    first = (earliest + timedelta(seconds=1)).replace(microsecond=0)
    assert plan.export_time == first or before <= plan.export_time <= min(first, after)
    assert plan.folder.endswith(plan.export_time.strftime("%Y-%m-%d-%H-%M-%S"))
    asked: list[datetime] = []  # moto's DescribeExport has no ExportTime: read the request instead
    ddb.meta.events.register("provide-client-params.dynamodb.ExportTableToPointInTime",
                             lambda params, **_: asked.append(params["ExportTime"]))
    native_export.start(ddb, store, [plan], settings)
    assert plan.started and asked == [plan.export_time]
    # A time still to come is clamped to now rather than refused.
    future = native_export.ExportSettings(run_id="night-2", export_time=datetime(2999, 1, 1, tzinfo=UTC),
                                          clamp_export_time=True)
    later, = native_export.prepare(ddb, store, [unique_name], REGION, future)
    assert plan.export_time <= later.export_time <= datetime.now(UTC)
    assert later.folder.endswith(later.export_time.strftime("%Y-%m-%d-%H-%M-%S"))


def test_a_run_id_reused_with_another_export_time_is_a_clear_error(moto_server: Any, unique_name: str) -> None:
    """AWS's IdempotentParameterMismatchException (same ClientToken, other parameters) is stubbed: moto ignores
    ClientToken. Older exports of the table (id = start time in ms) are skipped without a DescribeExport."""
    real, s3 = _setup(moto_server, unique_name)
    _table(real, unique_name, list(simple_items(2)))
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    settings = native_export.ExportSettings(run_id="night-4", export_time=_now())
    plan, = native_export.prepare(real, store, [unique_name], REGION, settings)
    old_export = f"{plan.schema['TableArn']}/export/01600000000000-0a0b0c0d"
    ddb = client("dynamodb", moto_server.url)
    with Stubber(ddb) as stub:
        stub.add_response("list_exports", {"ExportSummaries": [{"ExportArn": old_export, "ExportStatus": "COMPLETED"}]},
                          {"TableArn": plan.schema["TableArn"]})
        stub.add_client_error("export_table_to_point_in_time", "IdempotentParameterMismatchException",
                              "The request uses the same client token as a previous, but non-identical request.")
        with pytest.raises(InputError, match="already started an export") as err:
            native_export.start(ddb, store, [plan], settings)
        stub.assert_no_pending_responses()
    assert err.value.field == "export_time" and not plan.started


def test_a_failed_export_is_retried_and_only_the_good_attempt_is_recorded(moto_server: Any, unique_name: str) -> None:
    """FAILED then a second export COMPLETED, stubbed on DynamoDB; the failed attempt left a partial file in S3."""
    real, s3 = _setup(moto_server, unique_name)
    items = list(simple_items(6))
    _table(real, unique_name, items)
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    settings = native_export.ExportSettings(run_id="night-5", export_time=_now(), maximum_retries=1)
    plan, = native_export.prepare(real, store, [unique_name], REGION, settings)
    table_arn = plan.schema["TableArn"]
    first, second = f"{table_arn}/export/01800000000000-11111111", f"{table_arn}/export/01800000000001-22222222"
    data = f"dynamodb/{plan.folder}/data"
    s3.put_object(Bucket=unique_name, Key=f"{data}/AWSDynamoDB/01800000000000-11111111/data/partial.json.gz",
                  Body=gzip.compress(encode_line(items[0]).encode()))
    _native_export(s3, unique_name, data, "01800000000001-22222222", items, parts=2, arn=second)
    plan.export_arn, plan.status = first, "IN_PROGRESS"
    ddb = client("dynamodb", moto_server.url)
    with Stubber(ddb) as stub:
        stub.add_response("describe_export", _description(first, "FAILED", table_arn, FailureCode="UNKNOWN",
                                                          FailureMessage="internal error"), {"ExportArn": first})
        stub.add_response("export_table_to_point_in_time", _description(second, "IN_PROGRESS", table_arn), {
            "TableArn": table_arn, "ExportTime": settings.export_time, "S3Bucket": unique_name,
            "S3Prefix": data, "ExportFormat": "DYNAMODB_JSON",
            "ClientToken": native_export.client_token("night-5", f"{unique_name}#2")})
        stub.add_response("describe_export", _description(second, "COMPLETED", table_arn), {"ExportArn": second})
        stub.add_response("describe_export", _description(second, "COMPLETED", table_arn), {"ExportArn": second})
        _watch(ddb, store, [plan], settings, sleep=lambda _: None)
        stub.assert_no_pending_responses()
    assert plan.status == "COMPLETED" and plan.attempts == 2 and plan.export_arn == second
    assert plan.result()["retried_failures"] == [f"{first}: UNKNOWN: internal error"]
    doc = json.loads(store.read_bytes(f"{plan.folder}/hippolyte-manifest.json"))
    assert doc["item_count"] == 6 and len(doc["files"]) == 2
    assert all("01800000000001-22222222" in f["path"] for f in doc["files"])
