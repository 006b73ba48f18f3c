"""Two backups of one table started in the same second never share a folder, and each restores what its
manifest lists, while a writer keeps changing the table (moto server)."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import decode_line
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import MANIFEST_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.folder_claim import CLAIM_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.tables import canonical, create_table, put_items, scan_all, simple_items

ACCOUNT = "123456789012"
ROUNDS = 5


def _backup_in_child(endpoint: str, url: str, table: str, started: datetime, barrier: Any, out: Any) -> None:
    store = open_store(url, client("s3", endpoint) if url.startswith("s3://") else None,
                       ACCOUNT if url.startswith("s3://") else None)
    ddb = client("dynamodb", endpoint)
    barrier.wait()
    try:
        out.put(backup_table(ddb, store, table, REGION, ScanSettings(workers=2), started=started).folder)
    except Exception as exc:  # reported to the parent, which fails the test on it
        out.put(f"error: {exc}")


class ChangingTable:
    """A writer changing the table while it is backed up."""

    def __init__(self, ddb: Any, table: str) -> None:
        self.ddb, self.table, self.stop = ddb, table, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            self.ddb.put_item(TableName=self.table, Item={"pk": {"S": f"live-{n % 50}"}, "n": {"N": str(n)}})
            n += 1

    def __enter__(self) -> ChangingTable:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop.set()
        self.thread.join()


def manifest_items(store: BackupStore, folder: str) -> list[dict[str, Any]]:
    doc = json.loads(store.read_bytes(f"{folder}/{MANIFEST_NAME}"))
    items = [decode_line(line) for f in doc["files"]
             for line in gzip.decompress(store.read_bytes(f"{folder}/{f['path']}")).decode().splitlines()]
    assert len(items) == doc["item_count"]
    return items


def check_distinct_and_restorable(ddb: Any, store: BackupStore, folders: list[str], table: str) -> None:
    assert not [f for f in folders if f.startswith("error")], folders
    assert len(set(folders)) == len(folders), f"two writers reported one folder: {folders}"
    for n, folder in enumerate(folders):
        names = {k.rsplit("/", 1)[-1] for k in store.list_files(folder)}
        assert {CLAIM_NAME, MANIFEST_NAME} <= names
        target = f"{table}-r{n}-{folder.rsplit('/', 1)[-1]}"
        restore_backup(ddb, store, folder, target, RestoreSettings(workers=2, readers=2))
        assert canonical(scan_all(ddb, target)) == canonical(manifest_items(store, folder))


@pytest.mark.parametrize("kind", ["file", "s3"])
def test_two_processes_started_in_the_same_second(kind: str, moto_server: Any, unique_name: str,
                                                  tmp_path: Path) -> None:
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    create_table(ddb, unique_name)
    put_items(ddb, unique_name, simple_items(200))
    if kind == "s3":
        s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    url = f"s3://{unique_name}/b" if kind == "s3" else f"file://{tmp_path}/dest"
    store = open_store(url, s3, ACCOUNT)
    fork = multiprocessing.get_context("fork")
    folders: list[str] = []
    with ChangingTable(client("dynamodb", moto_server.url), unique_name):
        for round_ in range(ROUNDS):
            started = datetime(2030, 1, 1, 0, round_, 0, tzinfo=UTC)  # both claim the same folder first
            barrier, out = fork.Barrier(2), fork.Queue()
            children = [fork.Process(target=_backup_in_child,
                                     args=(moto_server.url, url, unique_name, started, barrier, out))
                        for _child in range(2)]
            for child in children:
                child.start()
            pair = [out.get(timeout=300) for _child in children]
            for child in children:
                child.join()
            assert sorted(f.rsplit("/", 1)[-1] for f in pair if not f.startswith("error")) == [
                f"2030-01-01-00-{round_:02d}-00", f"2030-01-01-00-{round_:02d}-01"], pair
            folders += pair
    check_distinct_and_restorable(ddb, store, folders, unique_name)


def test_two_module_runs_released_together(moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    """Real ansible processes, started together (they often land in the same second, not always)."""
    ddb = client("dynamodb", moto_server.url)
    create_table(ddb, unique_name)
    put_items(ddb, unique_name, simple_items(200))
    url = f"file://{tmp_path}/dest"
    args = {"table": unique_name, "destination": url, "region": REGION, "endpoint_url": moto_server.url,
            "workers": 2}
    results: list[Any] = []
    with ChangingTable(client("dynamodb", moto_server.url), unique_name):
        for _round in range(ROUNDS):
            barrier = threading.Barrier(2)

            def run(barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                results.append(run_module("dynamodb_scan_backup", args))

            threads = [threading.Thread(target=run) for _writer in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert not [r.output for r in results if r.failed]
    folders = [r.result["backup_url"].removeprefix(url + "/") for r in results]
    check_distinct_and_restorable(ddb, open_store(url), folders, unique_name)
