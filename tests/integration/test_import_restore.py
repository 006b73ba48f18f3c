"""Restore by DynamoDB's ImportTable, against moto server (which runs ImportTable and DescribeImport for gzip
DynamoDB JSON read from its own S3, GSIs included).

moto lacks ListImports (it answers 500) and ignores ClientToken, and marks an import with rejected items
FAILED where AWS says COMPLETED with an ErrorCount and a CloudWatch log group: those answers are given
by botocore event hooks on the test's client, and each test that uses one says so. moto's JSON parser
also silently drops a line holding an empty map or a list of containers, and keeps \\uXXXX escapes
as text: the items imported here avoid both (`importable_item`); the load tests cover every type.
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.prices import BYTES_PER_GB
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import HashingWriter, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.import_restore import (
    ImportSettings,
    choose_engine,
    restore_by_import,
    restore_with_engine,
    staging_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RESTORED_FROM_TAG,
    RestoreSettings,
    TargetState,
    load_manifest,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module, run_playbook
from tests.support.foreign_backups import ACCOUNT, write_native_export
from tests.support.inventory import inventory
from tests.support.items import every_type_item
from tests.support.scan_tables import indexed_table_and_bucket
from tests.support.tables import canonical, create_table, put_items, scan_all, simple_items, table_names

GSI = {"IndexName": "by-city", "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"}],
       "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
       "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 3}}
NO_SETTLING = ImportSettings(engine="import", poll_s=0.05)
MOTO_UNPARSED = ("s", "l", "empty_m")  # non-ASCII text (escaped in the backup), {"M": {}} and [{"L": []}, ...]


def importable_item(pk: str) -> dict[str, Any]:
    """Every attribute type, less the values moto's import parser cannot read (see the module docstring)."""
    return {k: v for k, v in every_type_item(pk).items() if k not in MOTO_UNPARSED}


def gsi_table_and_bucket(moto: Any, name: str, count: int) -> tuple[Any, Any]:
    """On moto: a bucket, and a provisioned table with a GSI, TTL, a tag, a stream and PITR, holding `count`
    every-type items."""
    ddb, s3 = client("dynamodb", moto.url), client("s3", moto.url)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(ddb, name, rcu=20, wcu=5, GlobalSecondaryIndexes=[GSI],
                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                       {"AttributeName": "city", "AttributeType": "S"}],
                 Tags=[{"Key": "team", "Value": "payments"}],
                 StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    put_items(ddb, name, [dict(importable_item(f"k{n}"), city={"S": f"c{n % 3}"}, total={"N": str(n)})
                          for n in range(count)])
    return ddb, s3


def local_backup(ddb: Any, store: Any, name: str) -> str:
    return str(backup_table(ddb, store, name, REGION, ScanSettings(read_units_per_second=0)).folder)


def module_args(moto: Any, name: str, **extra: Any) -> dict[str, Any]:
    return {"destination": f"s3://{name}/dynamodb", "table": name, "region": REGION, "endpoint_url": moto.url,
            "s3_endpoint_url": moto.url, "bucket_owner": ACCOUNT, **extra}


def calls_counted(ddb: Any, operation: str) -> list[int]:
    """A list that grows by one at every call of `operation` the client sends."""
    seen: list[int] = []
    ddb.meta.events.register(f"before-call.dynamodb.{operation}", lambda **kwargs: seen.append(1))
    return seen


def test_import_rebuilds_items_gsis_ttl_tags_and_settings(moto_server: Any, unique_name: str) -> None:
    ddb, _s3 = gsi_table_and_bucket(moto_server, unique_name, 40)
    local_backup(ddb, open_store(f"s3://{unique_name}/dynamodb", _s3), unique_name)
    target = f"{unique_name}-imported"
    args = module_args(moto_server, unique_name, target=target, engine="import")

    run = run_module("backup_restore", args)

    assert not run.failed, run.output[-3000:]
    assert run.result["engine"] == "import" and "asked for" in run.result["engine_choice"]["reason"]
    report = run.result["import_report"]
    assert report["status"] == "COMPLETED" and report["imported_items"] == 40 and report["rejected_items"] == 0
    assert report["source"].endswith("/data/") and report["staged_to"] is None
    assert run.result["counted_items"] == run.result["expected_items"] == 40
    assert canonical(scan_all(ddb, target)) == canonical(scan_all(ddb, unique_name))
    copy = ddb.describe_table(TableName=target)["Table"]
    assert copy["GlobalSecondaryIndexes"][0]["IndexName"] == "by-city"
    assert copy["GlobalSecondaryIndexes"][0]["Projection"] == GSI["Projection"]
    assert copy["ProvisionedThroughput"]["ReadCapacityUnits"] == 20
    assert copy["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert ddb.describe_time_to_live(TableName=target)["TimeToLiveDescription"]["AttributeName"] == "ttl"
    pitr = ddb.describe_continuous_backups(TableName=target)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=copy["TableArn"])["Tags"]}
    assert tags["team"] == "payments" and tags[RESTORED_FROM_TAG].endswith(run.result["backup_url"][-19:])

    again = run_module("backup_restore", args)
    assert not again.failed and not again.result["changed"] and again.result["import_report"] is None


def test_the_restore_playbook_passes_the_engine_and_says_why(moto_server: Any, unique_name: str,
                                                             tmp_path: Path) -> None:
    ddb, s3 = gsi_table_and_bucket(moto_server, unique_name, 6)
    local_backup(ddb, open_store(f"s3://{unique_name}/dynamodb", s3), unique_name)
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"s3://{unique_name}/dynamodb")

    run = run_playbook("playbooks/restore.yml", inv, {"table": unique_name, "target": f"{unique_name}-pb",
                                                      "engine": "import"})

    assert run.returncode == 0, run.stdout[-4000:]
    assert "engine: import (engine: import was asked for)" in run.stdout
    assert canonical(scan_all(ddb, f"{unique_name}-pb")) == canonical(scan_all(ddb, unique_name))


def test_a_table_with_an_lsi_is_loaded_by_auto_and_refused_by_import(moto_server: Any, unique_name: str) -> None:
    ddb, s3 = indexed_table_and_bucket(moto_server, unique_name, 20)
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    folder = local_backup(ddb, store, unique_name)
    imports = calls_counted(ddb, "ImportTable")

    with pytest.raises(InputError, match="by-when") as err:
        restore_with_engine(ddb, store, folder, f"{unique_name}-i", RestoreSettings(), NO_SETTLING)
    assert err.value.field == "engine"
    assert f"{unique_name}-i" not in table_names(ddb) and not imports

    auto = restore_with_engine(ddb, store, folder, f"{unique_name}-a", RestoreSettings(),
                               ImportSettings(import_threshold_gb=0))
    assert auto.choice.engine == "load" and "local secondary indexes (by-when)" in auto.choice.reason
    assert auto.report is None and auto.result.counted_items == 21 and not imports


def test_a_native_export_backup_is_restored_by_import(moto_server: Any, unique_name: str) -> None:
    """The adopted export keeps its AWSDynamoDB/<id>/ tree below data/: the import reads its data/ folder only."""
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    items = [importable_item(f"k{n}") for n in range(6)] + list(simple_items(20, pad=20))
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{unique_name}"
    write_native_export(s3, unique_name, "console-exports/orders", arn, items)
    args = module_args(moto_server, unique_name, target=f"{unique_name}-nx", engine="import",
                       adopt_from=f"s3://{unique_name}/console-exports/orders",
                       key_attributes=[{"name": "pk", "type": "S"}])

    run = run_module("backup_restore", args)

    assert not run.failed, run.output[-3000:]
    assert run.result["engine"] == "import" and run.result["import_report"]["imported_items"] == len(items)
    assert "/AWSDynamoDB/" in run.result["import_report"]["source"]
    assert canonical(scan_all(ddb, f"{unique_name}-nx")) == canonical(items)


def test_a_file_backup_is_imported_only_through_stage_to(moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb, s3 = gsi_table_and_bucket(moto_server, unique_name, 12)
    store = open_store(f"file://{tmp_path}/backups")
    folder = local_backup(ddb, store, unique_name)

    with pytest.raises(InputError, match="reads from S3 only") as err:
        restore_with_engine(ddb, store, folder, f"{unique_name}-f", RestoreSettings(), NO_SETTLING)
    assert "stage_to" in err.value.fix and f"{unique_name}-f" not in table_names(ddb)
    auto = restore_with_engine(ddb, store, folder, f"{unique_name}-auto", RestoreSettings(),
                               ImportSettings(import_threshold_gb=0))
    assert auto.choice.engine == "load" and "reads from S3 only" in auto.choice.reason

    staging = staging_store(f"s3://{unique_name}/staging", s3)
    staged = restore_with_engine(ddb, store, folder, f"{unique_name}-f", RestoreSettings(), NO_SETTLING, staging)

    assert staged.report is not None and staged.report.staged_to == f"s3://{unique_name}/staging/{folder}"
    assert canonical(scan_all(ddb, f"{unique_name}-f")) == canonical(scan_all(ddb, unique_name))
    assert json.loads(s3.get_object(Bucket=unique_name, Key=f"staging/{folder}/hippolyte-staged.json")["Body"]
                      .read())["item_count"] == 12
    with pytest.raises(InputError, match="S3 only") as bad:
        staging_store(f"file://{tmp_path}/stage", s3)
    assert bad.value.field == "stage_to"


def s3_calls(s3: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every S3 call the client makes from now on: (operation, its parameters)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    s3.meta.events.register("provide-client-params.s3.*",
                            lambda params, model, **_: calls.append((model.name, dict(params))))
    return calls


def test_staging_names_the_expected_bucket_owner_in_every_call_and_the_import(moto_server: Any, unique_name: str,
                                                                              tmp_path: Path) -> None:
    """moto does not check bucket owners: the calls are recorded and each must carry the owner (AWS refuses a
    call naming an owner that does not own the bucket)."""
    ddb, s3 = gsi_table_and_bucket(moto_server, unique_name, 5)
    store = open_store(f"file://{tmp_path}/backups")
    folder = local_backup(ddb, store, unique_name)
    staging = staging_store(f"s3://{unique_name}/staging", s3, bucket_owner=ACCOUNT)
    calls = s3_calls(s3)
    sources: list[dict[str, Any]] = []
    ddb.meta.events.register("provide-client-params.dynamodb.ImportTable",
                             lambda params, **_: sources.append(params["S3BucketSource"]))

    restore_with_engine(ddb, store, folder, f"{unique_name}-o", RestoreSettings(), NO_SETTLING, staging)

    assert {name for name, _params in calls} >= {"PutObject", "ListObjectsV2", "HeadObject"}
    assert all(params.get("ExpectedBucketOwner") == ACCOUNT for _name, params in calls), calls
    assert sources == [{"S3Bucket": unique_name, "S3KeyPrefix": f"staging/{folder}/data/", "S3BucketOwner": ACCOUNT}]
    with pytest.raises(InputError) as bad:
        staging_store(f"s3://{unique_name}/staging", s3, bucket_owner="someone")
    assert bad.value.field == "stage_bucket_owner"


@pytest.mark.parametrize("stage_to", ["s3://{b}/dynamodb", "s3://{b}", "s3://{b}/", "s3://{b}/dynamodb/staging",
                                      "s3://{b}/dynamodb/{folder}"])
def test_staging_over_a_backup_location_is_refused_before_anything_changes(moto_server: Any, unique_name: str,
                                                                           stage_to: str) -> None:
    """Staging writes `<stage_to>/<backup folder>/data/`: with stage_to the destination, that is the backup's own
    data/ (as for an emr-connector backup, which must be staged)."""
    ddb, s3 = gsi_table_and_bucket(moto_server, unique_name, 5)
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    folder = local_backup(ddb, store, unique_name)
    before = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=unique_name)["Contents"]}
    staging = staging_store(stage_to.format(b=unique_name, folder=folder), s3, bucket_owner=ACCOUNT)
    calls = s3_calls(s3)

    with pytest.raises(InputError, match="holds backups") as err:
        restore_with_engine(ddb, store, folder, f"{unique_name}-s", RestoreSettings(), NO_SETTLING, staging)

    assert err.value.field == "stage_to" and "outside every backup location" in err.value.fix
    assert not [name for name, _params in calls if name.startswith(("Put", "Delete", "Create", "Upload", "Copy"))]
    assert {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=unique_name)["Contents"]} == before
    assert f"{unique_name}-s" not in table_names(ddb)


def test_the_module_refuses_staging_into_its_destination_even_in_check_mode(moto_server: Any,
                                                                            unique_name: str) -> None:
    ddb, s3 = gsi_table_and_bucket(moto_server, unique_name, 3)
    local_backup(ddb, open_store(f"s3://{unique_name}/dynamodb", s3), unique_name)
    before = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=unique_name)["Contents"]}
    args = module_args(moto_server, unique_name, engine="import", stage_to=f"s3://{unique_name}/dynamodb/")

    for check in (True, False):
        run = run_module("backup_restore", args, check=check)
        assert run.failed and run.result["field"] == "stage_to" and "holds backups" in run.result["msg"], run.output
    assert {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=unique_name)["Contents"]} == before


def test_staging_deletes_nothing_it_did_not_write(moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb, s3 = gsi_table_and_bucket(moto_server, unique_name, 5)
    store = open_store(f"file://{tmp_path}/backups")
    folder = local_backup(ddb, store, unique_name)
    stranger = f"staging/{folder}/data/someone-elses.json.gz"
    s3.put_object(Bucket=unique_name, Key=stranger, Body=b"not ours")
    staging = staging_store(f"s3://{unique_name}/staging", s3, bucket_owner=ACCOUNT)

    with pytest.raises(InputError, match=r"1 object.* this staging did not write") as err:
        restore_with_engine(ddb, store, folder, f"{unique_name}-d", RestoreSettings(), NO_SETTLING, staging)

    assert err.value.field == "stage_to" and "nothing there is deleted" in err.value.fix
    assert s3.get_object(Bucket=unique_name, Key=stranger)["Body"].read() == b"not ours"
    s3.put_object(Bucket=unique_name, Key=f"staging/{folder}/hippolyte-staged.json",
                  Body=json.dumps({"staged_from": "s3://elsewhere/x", "complete": True}).encode())
    with pytest.raises(InputError, match="staged copy of s3://elsewhere/x"):
        restore_with_engine(ddb, store, folder, f"{unique_name}-d", RestoreSettings(), NO_SETTLING, staging)


def test_an_unfinished_staging_of_the_same_backup_is_written_again_and_imported(moto_server: Any, unique_name: str,
                                                                                tmp_path: Path) -> None:
    """A staging that stopped after its marker and a part file: the rerun overwrites its own part file (nothing
    deleted) and completes."""
    ddb, s3 = gsi_table_and_bucket(moto_server, unique_name, 7)
    store = open_store(f"file://{tmp_path}/backups")
    folder = local_backup(ddb, store, unique_name)
    s3.put_object(Bucket=unique_name, Key=f"staging/{folder}/hippolyte-staged.json",
                  Body=json.dumps({"staged_from": f"{store.url}/{folder}", "complete": False}).encode())
    s3.put_object(Bucket=unique_name, Key=f"staging/{folder}/data/part-00000.json.gz", Body=b"cut short")
    staging = staging_store(f"s3://{unique_name}/staging", s3, bucket_owner=ACCOUNT)

    staged = restore_with_engine(ddb, store, folder, f"{unique_name}-u", RestoreSettings(), NO_SETTLING, staging)

    assert staged.result.counted_items == 7
    assert json.loads(s3.get_object(Bucket=unique_name, Key=f"staging/{folder}/hippolyte-staged.json")["Body"]
                      .read())["complete"] is True


def add_keyless_items(store: Any, folder: str, count: int) -> None:
    """A data file of items without their partition key, listed in the manifest (its digest renewed):
    a backup whose every file checks out, holding items DynamoDB rejects."""
    path = "data/part-09999.json.gz"
    raw = HashingWriter(store.open_writer(f"{folder}/{path}"))
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for n in range(count):
            gz.write(json.dumps({"Item": {"other": {"S": f"x{n}"}}}).encode() + b"\n")
    raw.close()
    doc = load_manifest(store, folder)
    doc["files"].append({"path": path, "items": count, "bytes": raw.size, "sha256": raw.sha256})
    doc["item_count"] += count
    store.put_bytes(f"{folder}/{manifest_file.MANIFEST_NAME}", manifest_file.dumps(doc))


def as_aws_reports_rejections(ddb: Any) -> None:
    """moto marks an import that rejected items FAILED; AWS says COMPLETED with an ErrorCount and the log group
    holding the rejections. This hook rewrites moto's answer into AWS's, also ImportTable's: moto's import runs
    in a thread and, on a busy machine, has ended before ImportTable answers."""
    def rewrite(parsed: dict[str, Any], **kwargs: Any) -> None:
        described = parsed.get("ImportTableDescription", {})
        if described.get("ImportStatus") == "FAILED" and described.get("ErrorCount"):
            described.update(ImportStatus="COMPLETED", FailureCode=None, FailureMessage=None,
                             CloudWatchLogGroupArn="arn:aws:logs:eu-west-1:123456789012:log-group:/aws-dynamodb/imports")

    ddb.meta.events.register("after-call.dynamodb.DescribeImport", rewrite)
    ddb.meta.events.register("after-call.dynamodb.ImportTable", rewrite)


def test_rejected_items_fail_the_restore_unless_allowed(moto_server: Any, unique_name: str) -> None:
    """Simulated in part: moto really rejects the keyless items; the COMPLETED status and the CloudWatch log group
    AWS would report are given by a hook (as_aws_reports_rejections)."""
    ddb, s3 = gsi_table_and_bucket(moto_server, unique_name, 10)
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    folder = local_backup(ddb, store, unique_name)
    add_keyless_items(store, folder, 3)
    as_aws_reports_rejections(ddb)
    target = f"{unique_name}-rej"

    with pytest.raises(HippolyteError, match="rejected 3 of 13 items") as err:
        restore_by_import(ddb, store, folder, target, RestoreSettings(), NO_SETTLING)
    assert "/aws-dynamodb/imports" in str(err.value) and "max_rejected_items: 3" in str(err.value)
    tags = ddb.list_tags_of_resource(ResourceArn=ddb.describe_table(TableName=target)["Table"]["TableArn"])["Tags"]
    assert RESTORED_FROM_TAG not in {t["Key"] for t in tags}  # not marked restored

    other = f"{unique_name}-ok"
    result, report = restore_by_import(ddb, store, folder, other, RestoreSettings(),
                                       ImportSettings(engine="import", poll_s=0.05, max_rejected_items=3))
    assert report is not None and report.rejected_items == 3 and report.log_group
    assert result.counted_items == 10 and "3 rejected" in result.msg


def test_a_failed_import_fails_naming_its_code(moto_server: Any, unique_name: str) -> None:
    """Simulated: moto's imports of a valid backup complete, so a hook turns DescribeImport's answer into
    the FAILED one AWS gives, e.g. when the import's role cannot read the bucket."""
    ddb, s3 = gsi_table_and_bucket(moto_server, unique_name, 5)
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    folder = local_backup(ddb, store, unique_name)

    def failed(parsed: dict[str, Any], **kwargs: Any) -> None:
        parsed["ImportTableDescription"].update(ImportStatus="FAILED", FailureCode="S3AccessDenied",
                                                FailureMessage="Access Denied")

    ddb.meta.events.register("after-call.dynamodb.DescribeImport", failed)
    with pytest.raises(HippolyteError, match="ended FAILED: S3AccessDenied: Access Denied"):
        restore_by_import(ddb, store, folder, f"{unique_name}-x", RestoreSettings(), NO_SETTLING)


def test_a_retry_after_a_failed_import_asks_for_a_new_import(moto_server: Any, unique_name: str) -> None:
    """AWS answers a ClientToken it has seen with that import for 8 hours, failed or not; moto ignores ClientToken
    and its imports of a valid backup complete. So hooks on the client play AWS: ImportTable with a token seen
    before answers that import's description (without reaching moto), and DescribeImport reports the first import
    FAILED, as when the import's role could not read the bucket."""
    ddb, s3 = gsi_table_and_bucket(moto_server, unique_name, 6)
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    folder = local_backup(ddb, store, unique_name)
    target = f"{unique_name}-retry"
    imports: dict[str, dict[str, Any]] = {}  # token -> its import's last description
    failed: set[str] = set()
    asked: list[str] = []

    def seen_token(params: dict[str, Any], **_: Any) -> Any:
        asked.append(json.loads(params["body"])["ClientToken"])
        known = imports.get(asked[-1])
        return (SimpleNamespace(status_code=200, headers={}), {"ImportTableDescription": known}) if known else None

    def remember(parsed: dict[str, Any], **_: Any) -> None:
        imports.setdefault(asked[-1], dict(parsed["ImportTableDescription"]))

    def describe(parsed: dict[str, Any], **_: Any) -> None:
        described = parsed["ImportTableDescription"]
        if not failed or described["ImportArn"] in failed:
            failed.add(described["ImportArn"])
            described.update(ImportStatus="FAILED", FailureCode="S3AccessDenied", FailureMessage="Access Denied")
        for token, known in imports.items():
            if known["ImportArn"] == described["ImportArn"]:
                imports[token] = dict(described)

    ddb.meta.events.register("before-call.dynamodb.ImportTable", seen_token)
    ddb.meta.events.register("after-call.dynamodb.ImportTable", remember)
    ddb.meta.events.register("after-call.dynamodb.DescribeImport", describe)
    with pytest.raises(HippolyteError, match=r"ended FAILED: S3AccessDenied.*starts a new import"):
        restore_by_import(ddb, store, folder, target, RestoreSettings(), NO_SETTLING)
    # AWS deletes the table of a failed import; moto goes on importing (in a thread) and keeps it: wait for moto's
    # own end of that import, through a client without the hooks, then delete its table.
    moto = client("dynamodb", moto_server.url)
    (first,) = failed
    deadline = time.monotonic() + 120
    while moto.describe_import(ImportArn=first)["ImportTableDescription"]["ImportStatus"] == "IN_PROGRESS":
        assert time.monotonic() < deadline, "moto never ended the first import"
        time.sleep(0.1)
    if target in table_names(ddb):
        ddb.delete_table(TableName=target)

    result, report = restore_by_import(ddb, store, folder, target, RestoreSettings(), NO_SETTLING)

    assert len(asked) == 3 and asked[1] == asked[0] != asked[2]  # the failed import's token, then a new one
    assert report is not None and report.status == "COMPLETED" and report.import_arn not in failed
    assert result.counted_items == 6


def test_a_rerun_waits_for_the_import_it_started(moto_server: Any, unique_name: str) -> None:
    """ListImports is stubbed (moto lacks it): it reports the import the first run started. The first run's end
    is undone by removing its restored-from tag, as if it had died after starting the import."""
    ddb, s3 = gsi_table_and_bucket(moto_server, unique_name, 8)
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    folder = local_backup(ddb, store, unique_name)
    target = f"{unique_name}-again"
    _first, report = restore_by_import(ddb, store, folder, target, RestoreSettings(), NO_SETTLING)
    assert report is not None
    arn = ddb.describe_table(TableName=target)["Table"]["TableArn"]
    ddb.untag_resource(ResourceArn=arn, TagKeys=[RESTORED_FROM_TAG])
    listed = {"ImportSummaryList": [{"ImportArn": report.import_arn, "ImportStatus": "COMPLETED", "TableArn": arn,
                                     "S3BucketSource": {"S3Bucket": unique_name,
                                                        "S3KeyPrefix": f"dynamodb/{folder}/data/"}}]}
    ddb.meta.events.register("before-call.dynamodb.ListImports",
                             lambda **kwargs: (SimpleNamespace(status_code=200, headers={}), listed))
    imports = calls_counted(ddb, "ImportTable")

    result, again = restore_by_import(ddb, store, folder, target, RestoreSettings(), NO_SETTLING)

    assert not imports and again is not None and again.import_arn == report.import_arn
    assert result.changed and result.counted_items == 8
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}
    assert tags[RESTORED_FROM_TAG] == folder


def test_auto_loads_a_few_items_and_imports_two_terabytes(moto_server: Any, unique_name: str) -> None:
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(30))
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    folder = local_backup(ddb, store, unique_name)

    small = restore_with_engine(ddb, store, folder, f"{unique_name}-small", RestoreSettings(), ImportSettings())

    assert small.choice.engine == "load" and "below import_threshold_gb" in small.choice.reason
    assert small.report is None and small.result.counted_items == 30
    estimates = small.choice.as_dict()["estimates"]
    assert estimates["load"]["hours"] < estimates["import"]["hours"]

    doc = load_manifest(store, folder)
    doc["schema"]["TableSizeBytes"] = 2 * 1024 * BYTES_PER_GB  # a manifest claiming 2 TB of 1 KB items
    doc["item_count"] = 2 * 1024**3
    new = TargetState(f"{unique_name}-big", exists=False, empty=True, restored_from=None, arn=None)
    big = choose_engine(doc, folder, new, ImportSettings(), None, "", can_stage=False)
    assert big.engine == "import" and "reaches import_threshold_gb" in big.reason
    assert big.source_gb == 2048
    assert big.import_.usd == pytest.approx(2048 * 0.15)
    assert big.load.usd == pytest.approx(2 * 1024**3 * 1.25 / 1e6)
    assert big.load.hours > big.import_.hours
    slow = choose_engine(doc, folder, new, ImportSettings(import_threshold_gb=10_000), None, "", can_stage=False)
    assert slow.engine == "import" and "max_load_hours" in slow.reason
