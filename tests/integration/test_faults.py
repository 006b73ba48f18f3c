"""Faults between the modules and the servers, injected by a loopback proxy (tests/support/fault_proxy.py)
in front of moto server and dynalite: no emulator throttles, drops connections or cuts answers by itself.

Each single, realistic fault is absorbed and the restore is exact; random faults at 2% and 5% never lead
to success on a wrong result; an altered manifest is refused before anything is created.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ChecksumError, ClientError, FlexibleChecksumError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb_tables import recreate_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import MANIFEST_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import schema_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import ResumingS3Reader, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.fault_proxy import FaultProxy
from tests.support.items import every_type_item
from tests.support.scan_tables import indexed_table_and_bucket
from tests.support.tables import canonical, create_table, put_items, scan_all, table_names, wait_active

ACCOUNT = "123456789012"
FAST = ScanSettings(read_units_per_second=0)


def few_retries(service: str, url: str) -> Any:
    """A client that gives up after 3 attempts, so a fault that outlives the retries is quick to reach."""
    import boto3

    return boto3.client(service, region_name=REGION, endpoint_url=url,
                        config=Config(retries={"mode": "standard", "total_max_attempts": 3}))


def every_type_table(ddb: Any, name: str, count: int) -> None:
    create_table(ddb, name, rcu=None)
    put_items(ddb, name, [every_type_item(f"k{n:05d}") for n in range(count)])


def cause(exc: BaseException, kind: type[BaseException]) -> bool:
    while exc is not None:
        if isinstance(exc, kind):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


# ---------------------------------------------------------------- single faults


def test_create_table_answer_lost_is_absorbed(moto_server: Any, unique_name: str) -> None:
    """CreateTable acts, its answer is lost; botocore's retry meets ResourceInUseException: the restore
    recognises the empty table of the planned shape (LSI and GSI included) as its own and goes on."""
    ddb, s3 = indexed_table_and_bucket(moto_server, unique_name, 40)
    store = open_store(f"s3://{unique_name}/b", s3)
    folder = backup_table(ddb, store, unique_name, REGION, FAST).folder
    with FaultProxy(moto_server.url).aim("drop_after", "^CreateTable$") as proxy:
        result = restore_backup(client("dynamodb", proxy.url), store, folder, f"{unique_name}-r", RestoreSettings())
    assert proxy.injected == {"drop_after": 1}
    assert result.created and result.counted_items == 41
    assert canonical(scan_all(ddb, f"{unique_name}-r")) == canonical(scan_all(ddb, unique_name))


def test_lost_answers_to_conditional_writes_are_recognised(moto_server: Any, unique_name: str) -> None:
    """The claim's and the manifest's conditional PutObject act, their answers are lost; botocore's retry
    meets 412 PreconditionFailed: the writer recognises its own bytes and goes on, one backup, one folder."""
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    every_type_table(ddb, unique_name, 50)
    conditional_puts = r"^PUT /[^?]*hippolyte-(claim|manifest)\.json"
    with FaultProxy(moto_server.url).aim("drop_after", conditional_puts, times=2) as proxy:
        result = backup_table(ddb, open_store(f"s3://{unique_name}/b", client("s3", proxy.url)), unique_name,
                              REGION, FAST)
    assert proxy.injected == {"drop_after": 2}
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=unique_name)["Contents"]]
    assert sorted(k.rsplit("/", 1)[-1] for k in keys if k.split("/")[-2] != "data") == [
        "hippolyte-claim.json", "hippolyte-manifest.json"]
    assert {k.split("/")[4] for k in keys} == {result.folder.split("/")[-1]}
    assert result.manifest["item_count"] == 50


def test_create_table_in_use_by_another_table_still_fails(dynalite_server: Any, unique_name: str) -> None:
    """ResourceInUseException for a table that is not the planned one (here: it holds an item) is an error."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, [{"pk": {"S": "someone-elses"}}])
    schema = schema_of(ddb.describe_table(TableName=unique_name)["Table"])
    with pytest.raises(ClientError, match="ResourceInUseException"):
        recreate_table(ddb, schema, unique_name, 30)


def test_data_part_cut_mid_body_resumes(moto_server: Any, unique_name: str) -> None:
    """The first two downloads of the data part stop halfway (full Content-Length announced): the reader
    resumes with ranged GETs and the restore is exact."""
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    every_type_table(ddb, unique_name, 300)
    folder = backup_table(ddb, open_store(f"s3://{unique_name}/b", s3), unique_name, REGION, FAST).folder
    with FaultProxy(moto_server.url).aim("truncate", r"^GET /[^?]*/data/part-", times=2) as proxy:
        store = open_store(f"s3://{unique_name}/b", client("s3", proxy.url))
        result = restore_backup(ddb, store, folder, f"{unique_name}-r", RestoreSettings())
    assert proxy.injected == {"truncate": 2}
    assert result.counted_items == 300
    assert canonical(scan_all(ddb, f"{unique_name}-r")) == canonical(scan_all(ddb, unique_name))


def test_a_resumed_read_never_stitches_a_replaced_object(moto_server: Any, unique_name: str) -> None:
    """The object is replaced between the cut and the resume: IfMatch on the first ETag refuses it."""
    s3 = client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=unique_name, Key="part", Body=b"a" * 100_000)
    with FaultProxy(moto_server.url).aim("truncate", "^GET /") as proxy:
        s3_proxied = client("s3", proxy.url)

        def get(**extra: Any) -> dict[str, Any]:
            if extra:  # the resume: someone replaced the object meanwhile
                s3.put_object(Bucket=unique_name, Key="part", Body=b"b" * 100_000)
            return s3_proxied.get_object(Bucket=unique_name, Key="part", **extra)

        reader = ResumingS3Reader(get, backoff_s=0)
        with pytest.raises(ClientError, match=r"PreconditionFailed|412"):
            reader.read()
    assert proxy.injected == {"truncate": 1}


def test_s3_reads_validate_the_object_checksum(moto_server: Any, unique_name: str) -> None:
    """A flipped byte in a downloaded data part is caught by botocore's flexible checksum (the stream is read
    through the validating body, not its raw stream). The check before writing reads it again and the restore
    is exact; a load that meets it (no check before writing) fails cleanly instead of writing wrong items."""
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    every_type_table(ddb, unique_name, 50)
    folder = backup_table(ddb, open_store(f"s3://{unique_name}/b", s3), unique_name, REGION, FAST).folder
    with FaultProxy(moto_server.url).aim("corrupt", r"^GET /[^?]*/data/part-") as proxy:
        store = open_store(f"s3://{unique_name}/b", client("s3", proxy.url))
        result = restore_backup(ddb, store, folder, f"{unique_name}-r", RestoreSettings())
    assert proxy.injected == {"corrupt": 1}
    assert result.counted_items == 50
    assert canonical(scan_all(ddb, f"{unique_name}-r")) == canonical(scan_all(ddb, unique_name))
    with FaultProxy(moto_server.url).aim("corrupt", r"^GET /[^?]*/data/part-") as proxy:
        store = open_store(f"s3://{unique_name}/b", client("s3", proxy.url))
        with pytest.raises(HippolyteError, match="not written") as err:
            restore_backup(ddb, store, folder, f"{unique_name}-r2", RestoreSettings(verify_before_write=False))
    assert proxy.injected == {"corrupt": 1}
    assert cause(err.value, FlexibleChecksumError)


@pytest.mark.parametrize("server", ["moto_server", "dynalite_server"])
def test_flipped_byte_in_scan_and_batch_write_answers_is_retried(server: str, request: pytest.FixtureRequest,
                                                                 unique_name: str, tmp_path: Path) -> None:
    """Two Scan answers and two BatchWriteItem answers arrive with one flipped byte (CRC32 header kept):
    the raw handlers leave them to botocore, which retries; backup and restore are exact."""
    upstream = request.getfixturevalue(server).url
    ddb = client("dynamodb", upstream)
    every_type_table(ddb, unique_name, 200)
    store = open_store(f"file://{tmp_path}/b")
    with FaultProxy(upstream).aim("corrupt", "^Scan$", times=2).aim("corrupt", "^BatchWriteItem$", times=2) as proxy:
        proxied = client("dynamodb", proxy.url)
        folder = backup_table(proxied, store, unique_name, REGION, FAST).folder
        result = restore_backup(proxied, store, folder, f"{unique_name}-r", RestoreSettings())
    assert proxy.injected == {"corrupt": 4}
    assert result.counted_items == 200
    assert canonical(scan_all(ddb, f"{unique_name}-r")) == canonical(scan_all(ddb, unique_name))


def test_checksum_mismatch_outliving_the_retries_is_never_accepted(dynalite_server: Any, unique_name: str,
                                                                   tmp_path: Path) -> None:
    """Every Scan answer (then every BatchWriteItem answer) is corrupt: botocore retries 3 times, then the
    backup (the restore) fails with a checksum error; nothing corrupt is ever taken as a result."""
    ddb = client("dynamodb", dynalite_server.url)
    every_type_table(ddb, unique_name, 20)
    store = open_store(f"file://{tmp_path}/b")
    with FaultProxy(dynalite_server.url).aim("corrupt", "^Scan$", times=10**6) as proxy, \
            pytest.raises((ChecksumError, HippolyteError)) as err:
        backup_table(few_retries("dynamodb", proxy.url), store, unique_name, REGION,
                     ScanSettings(read_units_per_second=0, workers=1, segments=1))
    assert cause(err.value, ChecksumError) and proxy.injected["corrupt"] == 3
    assert not [f for f in store.list_files("") if f.endswith(MANIFEST_NAME)]

    folder = backup_table(ddb, store, unique_name, REGION, FAST).folder
    with FaultProxy(dynalite_server.url).aim("corrupt", "^BatchWriteItem$", times=10**6) as proxy, \
            pytest.raises(HippolyteError, match="not written") as err:
        restore_backup(few_retries("dynamodb", proxy.url), store, folder, f"{unique_name}-r",
                       RestoreSettings(workers=1, readers=1, stall_timeout_s=5))
    assert cause(err.value, ChecksumError)


# ---------------------------------------------------------------- through the modules


def test_altered_manifest_is_refused_before_any_table_is_created(dynalite_server: Any, unique_name: str,
                                                                 tmp_path: Path) -> None:
    """One letter of an index name changed in the manifest, still valid JSON: backup_restore refuses it
    (its digest no longer matches) and the target table is never created."""
    ddb = client("dynamodb", dynalite_server.url)
    ddb.create_table(TableName=unique_name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "city", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     GlobalSecondaryIndexes=[{"IndexName": "by-city",
                                              "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"}],
                                              "Projection": {"ProjectionType": "ALL"}}])
    wait_active(ddb, unique_name)
    put_items(ddb, unique_name, [every_type_item("k1")])
    folder = backup_table(ddb, open_store(f"file://{tmp_path}/b"), unique_name, REGION, FAST).folder
    manifest = tmp_path / "b" / folder / MANIFEST_NAME
    text = manifest.read_text()
    assert text.count('"by-city"') == 1
    manifest.write_text(text.replace('"by-city"', '"by-citz"'))
    json.loads(manifest.read_text())  # still valid JSON

    target = f"{unique_name}-r"
    run = run_module("backup_restore", {"destination": f"file://{tmp_path}/b", "table": unique_name,
                                        "target": target, "region": REGION, "endpoint_url": dynalite_server.url})
    assert run.failed and "does not match its own digest" in run.result["msg"], run.output[-2000:]
    assert target not in table_names(ddb)


@pytest.mark.parametrize("rate", [0.02, 0.05])
@pytest.mark.parametrize("scheme", ["file", "s3"])
@pytest.mark.parametrize("server", ["moto_server", "dynalite_server"])
def test_random_faults_never_give_a_wrong_result(server: str, scheme: str, rate: float, moto_server: Any,
                                                 request: pytest.FixtureRequest, unique_name: str,
                                                 tmp_path: Path) -> None:
    """Backup then restore of 300 every-type items through the modules, every DynamoDB and S3 call through
    a proxy injecting random faults (fixed seed). A reported success is always exact; at 2% both succeed."""
    upstream = request.getfixturevalue(server).url
    ddb = client("dynamodb", upstream)
    every_type_table(ddb, unique_name, 300)
    destination = f"file://{tmp_path}/b"
    if scheme == "s3":
        client("s3", moto_server.url).create_bucket(Bucket=unique_name,
                                                    CreateBucketConfiguration={"LocationConstraint": REGION})
        destination = f"s3://{unique_name}/b"
    with FaultProxy(upstream, rate, seed=15) as ddb_proxy, FaultProxy(moto_server.url, rate, seed=12) as s3_proxy:
        ddb_proxy.aim("throttle", "^DescribeTable$", nth=2)  # at least one fault, whatever the random draws give
        # moto owns its buckets as ACCOUNT; dynalite answers no STS call to say whose credentials these are.
        common = {"destination": destination, "table": unique_name, "account_id": ACCOUNT, "region": REGION,
                  "endpoint_url": ddb_proxy.url, "s3_endpoint_url": s3_proxy.url, "bucket_owner": ACCOUNT}
        backup = run_module("dynamodb_scan_backup", {**common, "read_units_per_second": 0, "segments": 4})
        restore = None if backup.failed else run_module("backup_restore", {**common, "target": f"{unique_name}-r"})
    faults = ddb_proxy.injected + s3_proxy.injected
    assert faults["throttle"] > 0, backup.output[-3000:]
    if restore is not None and not restore.failed:
        assert canonical(scan_all(ddb, f"{unique_name}-r")) == canonical(scan_all(ddb, unique_name)), faults
    if rate <= 0.02:
        assert not backup.failed, backup.output[-3000:]
        assert restore is not None and not restore.failed, restore.output[-3000:]
