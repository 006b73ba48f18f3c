"""A verified second copy (backup_copy) on moto S3: two buckets in two regions, backups made by the local engine.

The copy is checked against the manifest on its way and read back; a source file that no longer matches, or a
copy that reads back different, leaves no copy behind and fails the task. The copy is a destination like any
other: the catalog lists it, a restore reads it, retention prunes it.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import MANIFEST_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    join,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import (
    Selection,
    backup_folder,
    scan_catalog,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.second_copy import (
    COPIED,
    FAILED,
    copy_backups,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module, run_playbook
from tests.support.inventory import inventory
from tests.support.tables import create_table, put_items, simple_items

ACCOUNT = "123456789012"  # moto's
COPY_REGION = "eu-central-1"
NIGHTS = [datetime(2026, 1, day, 1, 0, 0, tzinfo=UTC) for day in (5, 6)]  # in the past: restorable


@dataclass
class Stores:
    source: BackupStore
    target: BackupStore
    source_url: str
    target_url: str
    tables: list[str]
    url: str  # moto's endpoint
    ddb: Any

    def module_args(self, **extra: Any) -> dict[str, Any]:
        return {"destination": self.source_url, "region": REGION, "endpoint_url": self.url,
                "copy_to": {"destination": self.target_url, "region": COPY_REGION, "s3_endpoint_url": self.url},
                "accounts": [ACCOUNT], **extra}

    def objects(self, store: BackupStore) -> dict[str, bytes]:
        return {o.key: store.read_bytes(o.key) for o in store.list_objects("")}


@pytest.fixture
def stores(moto_server: Any, unique_name: str) -> Stores:
    ddb = client("dynamodb", moto_server.url)
    s3 = client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    vault = f"{unique_name}-vault"
    copy_s3 = boto3.client("s3", region_name=COPY_REGION, endpoint_url=moto_server.url)
    copy_s3.create_bucket(Bucket=vault, CreateBucketConfiguration={"LocationConstraint": COPY_REGION})
    source_url, target_url = f"s3://{unique_name}/dynamodb", f"s3://{vault}/copy"
    source, target = open_store(source_url, s3), open_store(target_url, copy_s3)
    tables = [f"{unique_name}-{suffix}" for suffix in ("a", "b")]
    for n, table in enumerate(tables):
        create_table(ddb, table, rcu=None)
        put_items(ddb, table, simple_items(30 + n, pad=50))
        for index, night in enumerate(NIGHTS):
            settings = ScanSettings(read_units_per_second=0, workers=1, night_id=f"night-{index}",
                                    part_max_bytes=1024**2)
            backup_table(ddb, source, table, REGION, settings, night)
    return Stores(source, target, source_url, target_url, tables, moto_server.url, ddb)


def test_a_copy_is_byte_for_byte_and_a_second_run_copies_nothing(stores: Stores) -> None:
    done = run_module("backup_copy", stores.module_args())
    assert not done.failed and done.result["changed"], done.output
    assert len(done.result["copied"]) == 4 and done.result["not_copied"] == []
    assert stores.objects(stores.target) == stores.objects(stores.source)
    first = done.result["copied"][0]
    assert first["copy_url"].startswith(stores.target_url) and first["files"] >= 3 and first["bytes"] > 0

    again = run_module("backup_copy", stores.module_args())
    assert not again.failed and not again.result["changed"], again.output
    assert again.result["copied"] == [] and len(again.result["already_copied"]) == 4


def test_the_copy_is_a_destination_like_any_other(stores: Stores) -> None:
    assert not run_module("backup_copy", stores.module_args()).failed
    on_copy = {"destination": stores.target_url, "s3_endpoint_url": stores.url, "region": REGION,
               "endpoint_url": stores.url}
    verified = run_module("backup_info", {**on_copy, "state": "verified"})
    assert not verified.failed, verified.output
    assert len(verified.result["backups"]) == 4 and all(b["intact"] for b in verified.result["backups"])
    target = f"{stores.tables[1]}-from-copy"
    restored = run_module("backup_restore", {**on_copy, "table": stores.tables[1], "target": target})
    assert not restored.failed, restored.output
    assert stores.ddb.describe_table(TableName=target)["Table"]["ItemCount"] in (0, 31)  # moto counts lazily
    assert len(stores.ddb.scan(TableName=target)["Items"]) == 31
    # Retention per destination: pruning the copy leaves the first destination as it was.
    before = stores.objects(stores.source)
    pruned = run_module("backup_prune", {**on_copy, "keep_last": 1})
    assert not pruned.failed and len(pruned.result["deleted"]) == 2, pruned.output
    assert stores.objects(stores.source) == before


def test_a_source_file_that_no_longer_matches_leaves_no_copy_and_fails(stores: Stores) -> None:
    folder = backup_folder(ACCOUNT, REGION, stores.tables[0], NIGHTS[1])
    part = join(folder, "data/part-00000.json.gz")
    stores.source.put_bytes(part, gzip.compress(b'{"Item": {"pk": {"S": "tampered"}}}\n'))
    done = run_module("backup_copy", stores.module_args())
    assert done.failed, done.output
    [failed] = done.result["not_copied"]
    assert failed["folder"] == folder and "no longer matches its manifest" in failed["error"]
    assert "NOT copied" in done.result["msg"]
    # Nothing of the damaged folder at the copy; the three good ones are there and whole.
    assert not [k for k in stores.objects(stores.target) if k.startswith(folder)]
    assert len(done.result["copied"]) == 3


def test_a_copy_that_reads_back_different_is_removed(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    # A store that corrupts what it writes (a stand-in for a broken disk or proxy): no S3 emulator does this.
    folder = backup_folder(ACCOUNT, REGION, stores.tables[0], NIGHTS[0])
    target = stores.target
    real_open_writer = target.open_writer

    class Flipping:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def write(self, data: bytes) -> int:
            self.inner.write(bytes([data[0] ^ 1]) + data[1:] if data else data)
            return len(data)

        def close(self) -> None:
            self.inner.close()

        def abort(self) -> None:
            self.inner.abort()

    monkeypatch.setattr(target, "open_writer",
                        lambda key: Flipping(real_open_writer(key)) if key.endswith(".json.gz") else
                        real_open_writer(key))
    [outcome] = [o for o in copy_backups(stores.source, target, Selection(tables=[stores.tables[0]]), workers=2)
                 if o.folder == folder]
    assert outcome.status == FAILED and "does not match the manifest" in (outcome.error or "")
    assert not target.exists(join(folder, MANIFEST_NAME)) and target.list_objects(folder) == []


def test_check_mode_writes_nothing_and_night_selects(stores: Stores) -> None:
    preview = run_module("backup_copy", stores.module_args(night="night-1"), check=True)
    assert not preview.failed and preview.result["changed"], preview.output
    assert {c["status"] for c in preview.result["copied"]} == {"would copy"} and len(preview.result["copied"]) == 2
    assert stores.objects(stores.target) == {}
    only_night = copy_backups(stores.source, stores.target, Selection(), night="night-0")
    assert [o.status for o in only_night] == [COPIED, COPIED]
    assert {o.folder for o in only_night} == {backup_folder(ACCOUNT, REGION, t, NIGHTS[0]) for t in stores.tables}


def test_to_a_file_destination_and_bad_input(stores: Stores, tmp_path: Path) -> None:
    to_disk = copy_backups(stores.source, open_store(f"file://{tmp_path}/copy"), Selection(tables=["*-b"]))
    assert [o.status for o in to_disk] == [COPIED, COPIED]
    assert (tmp_path / "copy" / backup_folder(ACCOUNT, REGION, stores.tables[1], NIGHTS[0]) / MANIFEST_NAME).exists()
    bad = run_module("backup_copy", stores.module_args(workers=0))
    assert bad.failed and "workers" in bad.result["msg"]
    kms = run_module("backup_copy", {**stores.module_args(),
                                     "copy_to": {"destination": stores.target_url, "kms_key_id": "alias/x"}})
    assert kms.failed and "copy_to.kms_key_id" in kms.result["msg"], kms.result["msg"]
    assert stores.objects(stores.target) == {}


def test_the_night_copies_its_backups_and_prunes_both_destinations(moto_server: Any, unique_name: str,
                                                                   tmp_path: Path) -> None:
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    vault_s3 = boto3.client("s3", region_name=COPY_REGION, endpoint_url=moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    vault_s3.create_bucket(Bucket=f"{unique_name}-vault", CreateBucketConfiguration={"LocationConstraint": COPY_REGION})
    table = f"{unique_name}-orders"
    create_table(ddb, table, rcu=50)
    put_items(ddb, table, simple_items(25))
    url, vault = f"s3://{unique_name}/nightly", f"s3://{unique_name}-vault/copy"
    source = open_store(url, s3)
    for day in (3, 4):  # two older nights, at both destinations
        backup_table(ddb, source, table, REGION, ScanSettings(read_units_per_second=0, workers=1),
                     datetime.now(UTC).replace(microsecond=0) - timedelta(days=day))
    copy_to = {"destination": vault, "region": COPY_REGION, "s3_endpoint_url": moto_server.url}
    assert copy_backups(source, open_store(vault, vault_s3), Selection())  # the older nights' copies
    webhook = tmp_path / "summary.json"
    inv = inventory(tmp_path / "inventory.json", moto_server.url, url, hippolyte_include=[table],
                    hippolyte_retention={"keep_last": 2}, hippolyte_copy_to=copy_to,
                    hippolyte_notify={"webhook_file": str(webhook)})
    run = run_playbook("playbooks/backup.yml", inv)
    assert run.returncode == 0, run.stdout[-4000:]
    summary = json.loads(webhook.read_text())
    assert summary["status"] == "ok" and summary["copy"]["copied"] == 1 and summary["copy"]["not_copied"] == []
    on_source = {e.ref.folder for e in scan_catalog(source, Selection())}
    on_copy = {e.ref.folder for e in scan_catalog(open_store(vault, vault_s3), Selection()) if e.intact}
    assert len(on_source) == 2 and on_copy == on_source  # tonight's and the newer old one, at both
    assert "## Second copy" in Path(summary["report"]).read_text()


def test_a_bad_copy_setting_fails_before_aws(moto_server: Any, tmp_path: Path) -> None:
    url = f"file://{tmp_path}/b"
    for copy_to, says in (({"region": COPY_REGION}, "hippolyte_copy_to.destination is not set"),
                          ({"destination": url}, "hippolyte_copy_to.destination is hippolyte_destination itself"),
                          ({"destination": "s3://v/p", "bucket": "x"}, "copy_to.bucket is not a key it takes"),
                          ({"destination": "s3://v/p", "role_arn": "admin"}, "not an IAM role ARN")):
        inv = inventory(tmp_path / "inventory.json", moto_server.url, url, hippolyte_copy_to=copy_to)
        run = run_playbook("playbooks/backup.yml", inv)
        assert run.returncode != 0 and says in run.stdout, (says, run.stdout[-3000:])
        assert not (tmp_path / "b").exists()
