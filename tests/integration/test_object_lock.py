"""Backups nobody can delete: S3 Object Lock on moto server, through the modules and the store.

moto models Object Lock on PutObject (mode and retain-until date), legal holds, the refusal to delete a locked
version (DeleteObject and DeleteObjects with a version id) and BypassGovernanceRetention. It does not apply the
lock asked on CreateMultipartUpload (the completed object comes back unlocked), so for multipart writes the test
records the request the store sends instead, and says so. A delete without a version id only adds a delete marker,
locked or not: what survives is checked in the object versions (ListObjectVersions), not in the listing.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import folder_time
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import join, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.backup_lock import backup_lock
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import Policy, lock_until
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module, run_playbook
from tests.support.inventory import inventory
from tests.support.tables import create_table, put_items, simple_items

ACCOUNT = "123456789012"  # moto's account
WEEK_OF_DAILIES = {"keep_daily": 7}


def _versions(s3: Any, bucket: str, prefix: str) -> tuple[dict[str, str], int]:
    """Every object version under `prefix` (key -> version id, the oldest of each key) and the delete markers."""
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    versions: dict[str, str] = {}
    markers = 0
    for page in pages:
        for version in sorted(page.get("Versions", []), key=lambda v: v["LastModified"]):
            versions.setdefault(version["Key"], version["VersionId"])
        markers += len(page.get("DeleteMarkers", []))
    return versions, markers


def _taken(folder: str) -> datetime:
    taken = folder_time(folder.rstrip("/").rsplit("/", 1)[-1])
    assert taken is not None
    return taken


def _listed(s3: Any, bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


@pytest.fixture
def locked_bucket(moto_server: Any, unique_name: str) -> dict[str, Any]:
    s3 = client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, ObjectLockEnabledForBucket=True,
                     CreateBucketConfiguration={"LocationConstraint": REGION})
    ddb = client("dynamodb", moto_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(20))
    return {"s3": s3, "ddb": ddb, "bucket": unique_name, "table": unique_name,
            "url": f"s3://{unique_name}/dynamodb",
            "args": {"destination": f"s3://{unique_name}/dynamodb", "region": REGION,
                     "endpoint_url": moto_server.url}}


def _backup(where: dict[str, Any], mode: str | None, retention: dict[str, int] | None, days_ago: float) -> str:
    """A backup of the table taken `days_ago`, written by the local engine through a store locking as asked."""
    store = open_store(where["url"], where["s3"], lock=backup_lock(mode, retention))
    taken = utc_now() - timedelta(days=days_ago)
    backup_table(where["ddb"], store, where["table"], REGION, ScanSettings(read_units_per_second=0, workers=1), taken)
    return backup_folder(ACCOUNT, REGION, where["table"], taken)


def test_the_scan_engine_locks_every_object_until_retention_could_prune_the_backup(locked_bucket) -> None:
    where = locked_bucket
    lock = {"object_lock_mode": "GOVERNANCE", "object_lock_retention": WEEK_OF_DAILIES}
    run = run_module("dynamodb_scan_backup", {**where["args"], "table": where["table"], **lock})
    assert not run.failed, run.output[-3000:]

    keys = _listed(where["s3"], where["bucket"], "dynamodb/")
    until = lock_until(Policy(**WEEK_OF_DAILIES), _taken(run.result["backup_url"]))
    assert len(keys) >= 3  # claim, a data part, the manifest
    for key in keys:
        head = where["s3"].head_object(Bucket=where["bucket"], Key=key)
        assert head["ObjectLockMode"] == "GOVERNANCE", key
        assert head["ObjectLockRetainUntilDate"] == until, key


def test_every_locked_version_survives_a_delete_attempt(locked_bucket) -> None:
    where, s3, bucket = locked_bucket, locked_bucket["s3"], locked_bucket["bucket"]
    folder = _backup(where, "GOVERNANCE", WEEK_OF_DAILIES, days_ago=1)
    prefix = f"dynamodb/{folder}/"
    versions = _versions(s3, bucket, prefix)[0]

    refused = open_store(where["url"], s3).delete_tree(folder)  # no version ids: S3 only adds delete markers

    assert refused == [] and _listed(s3, bucket, prefix) == []
    after, markers = _versions(s3, bucket, prefix)
    assert after == versions and markers == len(versions)
    for key, version in versions.items():  # a governance lock refuses a version delete without the bypass
        with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k, "VersionId": v}
                                                                  for k, v in versions.items()]})
    assert {e["Key"] for e in answer.get("Errors", [])} == set(versions) and not answer.get("Deleted")
    assert _versions(s3, bucket, prefix)[0] == versions


def test_compliance_mode_refuses_even_the_governance_bypass(locked_bucket) -> None:
    where, s3, bucket = locked_bucket, locked_bucket["s3"], locked_bucket["bucket"]
    folder = _backup(where, "COMPLIANCE", WEEK_OF_DAILIES, days_ago=0)
    versions = _versions(s3, bucket, f"dynamodb/{folder}/")[0]

    key, version = next(iter(versions.items()))
    with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True)
    assert _versions(s3, bucket, f"dynamodb/{folder}/")[0] == versions


def test_a_multipart_data_file_asks_for_the_lock_when_the_upload_starts(locked_bucket) -> None:
    # moto accepts ObjectLockMode on CreateMultipartUpload but does not apply it: the request is what is checked.
    where, s3 = locked_bucket, locked_bucket["s3"]
    asked: list[dict[str, Any]] = []
    s3.meta.events.register("provide-client-params.s3.CreateMultipartUpload",
                            lambda params, **_: asked.append(dict(params)))
    store = open_store(where["url"], s3, lock=backup_lock("GOVERNANCE", WEEK_OF_DAILIES))
    store.part_bytes = 5 * 1024**2  # type: ignore[attr-defined]  # S3's smallest part, so two parts
    taken = utc_now()
    key = join(backup_folder(ACCOUNT, REGION, where["table"], taken), "data", "part-00000.json.gz")

    writer = store.open_writer(key)
    writer.write(os.urandom(6 * 1024**2))
    writer.close()

    assert len(asked) == 1
    assert asked[0]["ObjectLockMode"] == "GOVERNANCE"
    assert asked[0]["ObjectLockRetainUntilDate"] == lock_until(Policy(**WEEK_OF_DAILIES), taken)


def test_prune_skips_and_reports_what_is_still_locked_and_deletes_the_rest(locked_bucket) -> None:
    where, s3, bucket = locked_bucket, locked_bucket["s3"], locked_bucket["bucket"]
    # Retention was shortened from a month of dailies to keep_last 1: the backup of 3 days ago stays locked under
    # the old policy; the one of 40 days ago is past its lock; today's is the newest, always kept.
    month = {"keep_daily": 31}
    old = _backup(where, "GOVERNANCE", month, days_ago=40)
    locked = _backup(where, "GOVERNANCE", month, days_ago=3)
    newest = _backup(where, "GOVERNANCE", month, days_ago=0)
    locked_versions = _versions(s3, bucket, f"dynamodb/{locked}/")[0]

    run = run_module("backup_prune", {**where["args"], "keep_last": 1}, diff=True)

    assert not run.failed, run.output[-3000:]
    assert run.result["deleted"] == [old]
    taken = next(b for b in run.result["backups"] if b["folder"] == locked)
    assert set(run.result["locked"]) == {locked}
    held = run.result["locked"][locked]
    assert held["legal_hold"] is False and held["objects"] == len(locked_versions)
    assert datetime.fromisoformat(held["retain_until"]) == lock_until(Policy(**month), _taken(locked))
    assert taken["action"] == "keep" and "locked until" in taken["reasons"][-1]
    assert "1 still locked" in run.result["msg"]
    # The locked backup is untouched: still listed (no delete marker), every version there.
    assert _versions(s3, bucket, f"dynamodb/{locked}/") == (locked_versions, 0)
    assert _listed(s3, bucket, f"dynamodb/{old}/") == [] and _listed(s3, bucket, f"dynamodb/{newest}/")


def test_a_legal_hold_is_placed_kept_through_a_prune_and_lifted(locked_bucket) -> None:
    where, s3, bucket = locked_bucket, locked_bucket["s3"], locked_bucket["bucket"]
    older = _backup(where, None, None, days_ago=2)  # not locked: only the hold keeps it
    _backup(where, None, None, days_ago=0)
    hold = {**where["args"], "table": where["table"], "at": older.rsplit("/", 1)[-1]}
    versions = _versions(s3, bucket, f"dynamodb/{older}/")[0]

    dry = run_module("backup_hold", hold, check=True, diff=True)
    assert not dry.failed and dry.result["changed"], dry.output[-3000:]
    assert dry.result["backups"] == [{"folder": older, "url": f"{where['url']}/{older}", "objects": len(versions),
                                      "changed": len(versions)}]
    assert all(s3.head_object(Bucket=bucket, Key=k).get("ObjectLockLegalHoldStatus") != "ON" for k in versions)
    n = len(versions)
    assert [(d["before"], d["after"]) for d in dry.result["diff"]] == [
        (f"legal hold on 0 of {n} object(s)\n", f"legal hold on {n} of {n} object(s)\n")]

    placed = run_module("backup_hold", hold)
    again = run_module("backup_hold", hold)
    assert placed.result["changed"] and not again.result["changed"], placed.output[-3000:]
    for key, version in versions.items():
        assert s3.head_object(Bucket=bucket, Key=key)["ObjectLockLegalHoldStatus"] == "ON"
        with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):  # a hold refuses even the bypass
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True)

    pruned = run_module("backup_prune", {**where["args"], "keep_last": 1})
    assert not pruned.failed and pruned.result["deleted"] == [], pruned.output[-3000:]
    assert pruned.result["locked"][older] == {"retain_until": None, "legal_hold": True, "objects": len(versions)}
    assert _versions(s3, bucket, f"dynamodb/{older}/") == (versions, 0)

    lifted = run_module("backup_hold", {**hold, "state": "absent"}, diff=True)
    assert lifted.result["changed"], lifted.output[-3000:]
    assert [(d["before"], d["after"]) for d in lifted.result["diff"]] == [
        (f"legal hold on {n} of {n} object(s)\n", f"legal hold on 0 of {n} object(s)\n")]
    pruned = run_module("backup_prune", {**where["args"], "keep_last": 1})
    assert pruned.result["deleted"] == [older] and pruned.result["locked"] == {}, pruned.output[-3000:]


def test_a_locked_night_through_the_backup_role_locks_tonight_and_prunes_around_the_locks(locked_bucket,
                                                                                          tmp_path) -> None:
    """The backup playbook with hippolyte_object_lock: tonight's backup is locked until hippolyte_retention could
    prune it, and the retention step after the night deletes the backup past its lock, skips the one still locked
    (written under an earlier, longer policy) and does not fail the night."""
    where, s3, bucket = locked_bucket, locked_bucket["s3"], locked_bucket["bucket"]
    retention = {"keep_last": 1, "keep_daily": 2}
    old = _backup(where, "GOVERNANCE", retention, days_ago=40)
    locked = _backup(where, "GOVERNANCE", {"keep_daily": 31}, days_ago=3)
    inv = inventory(tmp_path / "inventory.json", where["args"]["endpoint_url"], where["url"],
                    hippolyte_include=[where["table"]], hippolyte_retention=retention,
                    hippolyte_object_lock={"mode": "GOVERNANCE"})

    run = run_playbook("playbooks/backup.yml", inv)

    assert run.returncode == 0, run.stdout[-4000:]
    folders = {k.split("/")[4] for k in _listed(s3, bucket, "dynamodb/") if "/@" not in k}
    tonight = max(folders)
    assert folders == {tonight, locked.rsplit("/", 1)[-1]}, folders  # the 40-day-old backup was pruned
    assert old.rsplit("/", 1)[-1] not in folders
    prefix = f"dynamodb/{ACCOUNT}/{REGION}/{where['table']}/{tonight}/"
    until = lock_until(Policy(**retention), _taken(tonight))
    for key in _listed(s3, bucket, prefix):
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]) == ("GOVERNANCE", until), key


@pytest.mark.parametrize(("args", "field"), [
    ({"object_lock_mode": "GOVERNANCE"}, "object_lock_retention"),
    ({"object_lock_retention": WEEK_OF_DAILIES}, "object_lock_retention"),
    ({"object_lock_mode": "GOVERNANCE", "object_lock_retention": {"keep_daily": -1}},
     "object_lock_retention.keep_daily"),
])
def test_a_lock_without_its_policy_fails_naming_the_field_before_anything_is_written(locked_bucket, args,
                                                                                     field) -> None:
    where = locked_bucket
    run = run_module("dynamodb_scan_backup", {**where["args"], "table": where["table"], **args})

    assert run.failed and run.result.get("field") == field, run.output[-3000:]
    assert _listed(where["s3"], where["bucket"], "") == []


def test_a_bucket_without_object_lock_or_a_local_folder_is_refused_before_anything_is_written(
        moto_server, unique_name, tmp_path) -> None:
    s3 = client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=unique_name, VersioningConfiguration={"Status": "Enabled"})
    create_table(client("dynamodb", moto_server.url), unique_name, rcu=None)
    lock = {"object_lock_mode": "COMPLIANCE", "object_lock_retention": WEEK_OF_DAILIES}
    connection = {"region": REGION, "endpoint_url": moto_server.url, "table": unique_name, **lock}

    unlocked = run_module("dynamodb_scan_backup", {**connection, "destination": f"s3://{unique_name}/dynamodb"})
    local = run_module("dynamodb_scan_backup", {**connection, "destination": f"file://{tmp_path}/b"})
    hold = run_module("backup_hold", {"region": REGION, "endpoint_url": moto_server.url, "table": unique_name,
                                      "destination": f"file://{tmp_path}/b"})

    assert unlocked.failed and unlocked.result.get("field") == "object_lock_mode", unlocked.output[-3000:]
    assert "has no S3 Object Lock" in unlocked.result["msg"]
    assert local.failed and local.result.get("field") == "object_lock_mode", local.output[-3000:]
    assert _listed(s3, unique_name, "") == [] and not (tmp_path / "b").exists()
    assert hold.failed and hold.result.get("field") == "table", hold.output[-3000:]  # no backup there to hold
