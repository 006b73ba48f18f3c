"""A backup stops with its controller: SIGKILL of ansible-playbook mid-backup, as a user's kill -9 would.

The backup table is on dynalite (which charges real read capacity per page, so the rate limit makes the
backup last), the destination a local folder or an S3 bucket on moto server. Items are near 400 KB of
random bytes and one worker writes one part, so on S3 a multipart upload is in progress when the kill
comes. The restore case runs in process, with the stop event set at its first write.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import Cancelled
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import MANIFEST_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import BIN, REPO, ansible_env
from tests.support.scan_tables import INDEXED
from tests.support.tables import create_table, put_items, scan_all, wait_active

MODULE = "dynamodb_scan_backup"
ITEMS = 90
ITEM_BYTES = 380 * 1024  # about 47 read units a page of one item; gzip cannot shrink random bytes
READ_UNITS_PER_SECOND = 100  # about 2 items a second: some 40 s for the table, 10 s to the first 8 MiB part
STOPPED_WITHIN_S = 15


@pytest.fixture(scope="module")
def slow_table(dynalite_server: Any) -> str:
    name = f"t-slow-{os.getpid()}"
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, name, rcu=READ_UNITS_PER_SECOND)
    put_items(ddb, name, ({"pk": {"S": f"item-{n:04d}"}, "blob": {"B": os.urandom(ITEM_BYTES)}}
                          for n in range(ITEMS)))
    return name


def live_processes() -> Iterator[tuple[int, int, str]]:
    """(pid, session id, command line) of every live (not zombie) process but this one."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] not in ("Z", "X"):
            yield int(entry), int(fields[3]), cmdline


def processes_running(needle: str) -> list[int]:
    return [pid for pid, _sid, cmdline in live_processes() if needle in cmdline]


def session_processes(session: int) -> list[str]:
    return [cmdline for _pid, sid, cmdline in live_processes() if sid == session]


def wait_until(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s} s: {what}")


@pytest.fixture
def playbook(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], subprocess.Popen[bytes]]]:
    """Starts ansible-playbook on one scan backup task, in its own session so leftovers can be cleaned up."""
    started: list[subprocess.Popen[bytes]] = []

    def start(args: dict[str, Any]) -> subprocess.Popen[bytes]:
        book = tmp_path / "playbook.yml"
        book.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "connection": "local",
                                     "tasks": [{f"hippolyte.dynamodb.{MODULE}": args}]}]))
        log = (tmp_path / "ansible.log").open("wb")
        proc = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", "localhost,", str(book)], stdout=log,
                                stderr=subprocess.STDOUT, env=ansible_env(), cwd=REPO, start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever the check left behind
        proc.wait()


def kill_controller_and_check_module_stops(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)  # only ansible-playbook itself: its workers get no signal
    killed = time.monotonic()
    wait_until(lambda: not processes_running(f"AnsiballZ_{MODULE}"), STOPPED_WITHIN_S,
               "the module's processes (python and its /bin/sh wrapper) to end")
    # Ansible's worker, waiting on the module, ends with it: nothing of the run is left.
    wait_until(lambda: not session_processes(proc.pid), 5, "the controller's worker processes to end")
    print(f"module gone {time.monotonic() - killed:.1f} s after the controller's SIGKILL")


def backup_args(dynalite: Any, table: str, destination: str, **extra: Any) -> dict[str, Any]:
    return {"table": table, "destination": destination, "region": REGION, "endpoint_url": dynalite.url,
            "read_units_per_second": READ_UNITS_PER_SECOND, "workers": 1, **extra}


def test_file_backup_stops_and_leaves_nothing(dynalite_server: Any, slow_table: str, tmp_path: Path,
                                              playbook: Callable[[dict[str, Any]], subprocess.Popen[bytes]]) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    proc = playbook(backup_args(dynalite_server, slow_table, f"file://{dest}"))
    wait_until(lambda: processes_running(f"AnsiballZ_{MODULE}"), 60, "the module to start")
    part = wait_until(lambda: list(dest.rglob("part-*.json.gz")), 60, "the first data part to be written")
    wait_until(lambda: part[0].stat().st_size > 0, 30, "data in the first part")

    kill_controller_and_check_module_stops(proc)

    assert not list(dest.rglob(MANIFEST_NAME))
    assert not [p for p in dest.rglob("*") if p.is_file()], "the partial folder must be removed"
    table_folders = list(dest.rglob(slow_table))
    assert all(not any(folder.iterdir()) for folder in table_folders), "no backup folder may remain"


def test_s3_backup_aborts_its_multipart_upload(dynalite_server: Any, moto_server: Any, slow_table: str,
                                               playbook: Callable[[dict[str, Any]], subprocess.Popen[bytes]]) -> None:
    s3 = client("s3", moto_server.url)
    bucket = f"b-{base64.b32encode(os.urandom(5)).decode().lower()}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    # moto owns its buckets as 123456789012; dynalite answers no STS call to say whose credentials these are.
    proc = playbook(backup_args(dynalite_server, slow_table, f"s3://{bucket}/nightly",
                                s3_endpoint_url=moto_server.url, bucket_owner="123456789012"))
    wait_until(lambda: processes_running(f"AnsiballZ_{MODULE}"), 60, "the module to start")
    wait_until(lambda: s3.list_multipart_uploads(Bucket=bucket).get("Uploads"), 60,
               "a multipart upload of the first data part to be under way")

    kill_controller_and_check_module_stops(proc)

    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"), "the multipart upload must be aborted"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert not [k for k in keys if k.endswith(MANIFEST_NAME)]
    assert not [k for k in keys if "/data/" in k], f"no data part may remain: {keys}"


def test_stopped_restore_puts_its_write_boost_back(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """The stop comes with the first BatchWriteItem (set from botocore's before-sign event, which the restore's
    direct POSTs emit too, so the moment is certain); dynalite tracks UpdateTable, so the capacity put back
    is real."""
    ddb = client("dynamodb", dynalite_server.url)
    ddb.create_table(TableName=unique_name, ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": 5},
                     **INDEXED)
    wait_active(ddb, unique_name)
    put_items(ddb, unique_name, [{"pk": {"S": f"p{n}"}, "sk": {"N": str(n)}, "city": {"S": "York"}}
                                 for n in range(1000)])
    store = open_store(f"file://{tmp_path}")
    folder = backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0)).folder
    target = f"{unique_name}-stopped"
    stop = threading.Event()
    ddb.meta.events.register("before-sign.dynamodb.BatchWriteItem", lambda **_: stop.set())

    with pytest.raises(HippolyteError, match="items not written") as failed:
        restore_backup(ddb, store, folder, target, RestoreSettings(write_capacity=300, run_id="t", workers=2),
                       stop=stop)

    assert isinstance(failed.value.__cause__, Cancelled)
    assert len(scan_all(ddb, target)) < 1000
    table = ddb.describe_table(TableName=target)["Table"]
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 5
    assert table["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 1  # raised for the load, then put back
    assert table["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
    assert not [t for t in tags if t["Key"].startswith("hippolyte:")], "neither restored-from nor a boost record"
