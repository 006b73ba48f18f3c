"""Server-side encryption of every object a backup writes (moto S3 keeps and reports each object's encryption)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    Encryption,
    S3Store,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines import native_export
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_job_flow import (
    JobFlowSettings,
    build_job_flow,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.tables import create_table, put_items, simple_items

ACCOUNT = "123456789012"


def _bucket(moto: Any, name: str) -> Any:
    s3 = client("s3", moto.url)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return s3


@pytest.mark.parametrize(("sse", "key", "expected"), [
    ("AES256", None, ("AES256", None)),
    ("aws:kms", "alias/backups", ("aws:kms", "alias/backups")),
])
def test_every_object_of_a_backup_carries_the_asked_encryption(moto_server: Any, unique_name: str, sse: str,
                                                               key: str | None, expected: tuple[str, Any]) -> None:
    """Through the module: the data part, the claim and the manifest."""
    s3 = _bucket(moto_server, unique_name)
    ddb = client("dynamodb", moto_server.url)
    create_table(ddb, unique_name, rcu=1000)
    put_items(ddb, unique_name, simple_items(300))
    args = {"table": unique_name, "destination": f"s3://{unique_name}/nightly", "endpoint_url": moto_server.url,
            "region": REGION, "sse": sse, "part_size_mb": 5}
    if key:
        args["kms_key_id"] = key
    run = run_module("dynamodb_scan_backup", args)
    assert not run.failed, run.output
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=unique_name)["Contents"]]
    assert any(k.endswith("hippolyte-manifest.json") for k in keys) and any("/data/" in k for k in keys)
    uploads = s3.list_multipart_uploads(Bucket=unique_name).get("Uploads", [])
    assert uploads == [] and len(keys) >= 3
    for object_key in keys:
        head = s3.head_object(Bucket=unique_name, Key=object_key)
        assert (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")) == expected, object_key


def test_a_multipart_upload_is_encrypted_too(moto_server: Any, unique_name: str) -> None:
    """A data file larger than one S3 part (8 MiB) goes up in parts: CreateMultipartUpload asks for the encryption."""
    s3 = _bucket(moto_server, unique_name)
    store = open_store(f"s3://{unique_name}/nightly", s3, ACCOUNT, Encryption("aws:kms", "alias/backups"))
    writer = store.open_writer("big/data/part-00000.json.gz")
    writer.write(os.urandom(9 * 1024 * 1024))
    writer.close()
    head = s3.head_object(Bucket=unique_name, Key="nightly/big/data/part-00000.json.gz")
    assert head["ContentLength"] == 9 * 1024 * 1024 and "-" in head["ETag"]  # a multipart ETag: <md5>-<parts>
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", "alias/backups")


def test_a_kms_key_without_kms_is_refused_before_anything_is_written(moto_server: Any, unique_name: str) -> None:
    s3 = _bucket(moto_server, unique_name)
    ddb = client("dynamodb", moto_server.url)
    create_table(ddb, unique_name, rcu=5)
    run = run_module("dynamodb_scan_backup", {
        "table": unique_name, "destination": f"s3://{unique_name}/nightly", "endpoint_url": moto_server.url,
        "region": REGION, "sse": "AES256", "kms_key_id": "alias/backups"})
    assert run.failed and run.result["field"] == "kms_key_id"
    assert s3.list_objects_v2(Bucket=unique_name).get("KeyCount") == 0


def test_exports_and_emr_steps_are_asked_for_the_same_encryption(moto_server: Any, unique_name: str) -> None:
    """The export request names S3SseAlgorithm/S3SseKmsKeyId (read from the request: moto's DescribeExport does
    not echo them); EMR's job flow turns on EMRFS encryption for what its steps write."""
    s3 = _bucket(moto_server, unique_name)
    ddb = client("dynamodb", moto_server.url)
    create_table(ddb, unique_name, rcu=5)
    ddb.update_continuous_backups(TableName=unique_name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    store = open_store(f"s3://{unique_name}/nightly", s3, ACCOUNT, Encryption("aws:kms", "alias/backups"))
    asked: list[dict[str, Any]] = []
    ddb.meta.events.register("provide-client-params.dynamodb.ExportTableToPointInTime",
                             lambda params, **_kwargs: asked.append(dict(params)))
    settings = native_export.ExportSettings(run_id="night-1")
    plans = native_export.prepare(ddb, store, [unique_name], REGION, settings)
    native_export.start(ddb, store, plans, settings)
    assert (asked[0]["S3SseAlgorithm"], asked[0]["S3SseKmsKeyId"]) == ("KMS", "alias/backups")
    request, _steps = build_job_flow(
        {"id": "c01", "engine": "emr", "tables": [{"name": unique_name, "read_percentage": 0.5}]},
        JobFlowSettings(run_id="night-1", destination=f"s3://{unique_name}/nightly", account=ACCOUNT, region=REGION,
                        subnet_id="subnet-0abc", taken_at=datetime(2026, 11, 23, tzinfo=UTC), sse="aws:kms",
                        kms_key_id="alias/backups"))
    assert request["Configurations"] == [{"Classification": "emrfs-site", "Properties": {
        "fs.s3.enableServerSideEncryption": "true", "fs.s3.serverSideEncryption.kms.keyId": "alias/backups"}}]


def test_data_pipeline_needs_the_buckets_default_to_be_the_asked_encryption(moto_server: Any,
                                                                            unique_name: str) -> None:
    """Data Pipeline's export activities cannot be asked for an encryption, so the bucket's default must be it."""
    s3 = _bucket(moto_server, unique_name)
    store = open_store(f"s3://{unique_name}/nightly", s3, ACCOUNT, Encryption("aws:kms", "alias/backups"))
    assert isinstance(store, S3Store)
    s3.put_bucket_encryption(Bucket=unique_name, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    with pytest.raises(InputError) as err:
        store.require_default_encryption()
    assert err.value.field == "sse" and "AES256" in str(err.value)
    s3.put_bucket_encryption(Bucket=unique_name, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/backups"}}]})
    store.require_default_encryption()
