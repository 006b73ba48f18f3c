"""The run lease: one backup run per account and region, on file:// and on moto's S3, in-process and through
two concurrent `ansible-playbook` runs of the backup role (dynalite)."""

from __future__ import annotations

import socket
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.controller_watch import controller_chain
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night import run_lease
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.storage.backup_store import (
    BackupStore,
    join,
    open_store,
)
from tests.conftest import REGION, client
from tests.integration.test_playbooks import inventory
from tests.support.ansible_run import BIN, REPO, ansible_env
from tests.support.tables import create_table, put_items, simple_items

ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 23, 0, 0, 5, tzinfo=UTC)
UNTIL = NOW + timedelta(hours=8)


@pytest.fixture(params=["file", "s3"])
def store(request: Any, tmp_path: Path, unique_name: str) -> BackupStore:
    if request.param == "file":
        return open_store(f"file://{tmp_path}/backups")
    moto = request.getfixturevalue("moto_server")
    s3 = client("s3", moto.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return open_store(f"s3://{unique_name}/nightly", s3, ACCOUNT)


def _take(store: BackupStore, run_id: str, now: datetime = NOW, until: datetime = UNTIL,
          **kwargs: Any) -> run_lease.Taken:
    return run_lease.take(store, ACCOUNT, REGION, run_id, f"host-of-{run_id}", until, now, **kwargs)


def test_a_held_lease_stops_the_next_run_until_given_back(store: BackupStore) -> None:
    first = _take(store, "night-1")
    assert first.how == "free" and first.taken_over is None and first.lease.generation == 1
    with pytest.raises(run_lease.LeaseHeld, match="being backed up by run night-1 of host-of-night-1") as held:
        _take(store, "night-1-cron")
    assert held.value.holder.nonce == first.lease.nonce
    assert run_lease.release(store, ACCOUNT, REGION, first.lease.nonce)
    assert not run_lease.release(store, ACCOUNT, REGION, first.lease.nonce)  # twice: nothing more to give back
    second = _take(store, "night-2")
    assert second.how == "free"
    # The lease is no backup: the catalog's listing of the account never shows it as a table.
    assert all("@hippolyte-lease" in key for key in store.list_files(ACCOUNT))


def test_of_runs_asking_at_once_exactly_one_gets_the_lease(store: BackupStore) -> None:
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def ask(n: int) -> None:
        barrier.wait()
        try:
            outcomes.append(_take(store, f"run-{n}").lease.run_id)
        except run_lease.LeaseHeld:
            outcomes.append("refused")

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o != "refused"]
    assert len(outcomes) == 8 and len(winners) == 1
    generation, holder = run_lease.newest(store, run_lease.lease_folder(ACCOUNT, REGION))
    assert holder is not None and holder.run_id == winners[0] and generation == 1


def test_an_expired_or_broken_lease_is_taken_over_and_said_so(store: BackupStore) -> None:
    first = _take(store, "night-1", until=NOW + timedelta(minutes=5))
    later = NOW + timedelta(minutes=6)
    second = _take(store, "night-2", now=later, until=later + timedelta(hours=8))
    assert second.how == "expired" and second.taken_over == first.lease and second.lease.generation == 2
    # Only the newest generation is left; the old holder giving back its lease changes nothing.
    folder = run_lease.lease_folder(ACCOUNT, REGION)
    assert [k.split("/")[-2] for k in store.list_files(folder)] == ["00000002"]
    assert not run_lease.release(store, ACCOUNT, REGION, first.lease.nonce)
    third = _take(store, "night-2-forced", now=later, until=later + timedelta(hours=8), break_lease=True)
    assert third.how == "broken" and third.taken_over == second.lease


def test_a_lease_whose_controller_died_on_this_machine_is_taken_over(store: BackupStore) -> None:
    """A killed run cannot give its lease back; its controller's pid and start time show it is gone."""
    child = subprocess.Popen(["sleep", "30"])
    start = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    child.kill()
    child.wait()
    lease = run_lease.Lease(run_id="night-1", holder="cron", taken_at=NOW.isoformat(), expires_at=UNTIL.isoformat(),
                            generation=1, nonce="dead", host=socket.gethostname(), boot_id=run_lease._boot_id(),
                            controller_pid=child.pid, controller_start=start)
    folder = run_lease.lease_folder(ACCOUNT, REGION)
    assert store.claim(join(folder, "00000001", run_lease.LEASE_FILE), lease.to_bytes())
    taken = _take(store, "night-1")
    assert taken.how == "controller gone" and taken.taken_over == lease
    # A live controller's lease (this test's own process) is not taken over that way.
    with pytest.raises(run_lease.LeaseHeld):
        _take(store, "night-1-again")
    assert taken.lease.controller_pid == controller_chain()[-1].pid


def test_bad_input_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/backups")
    with pytest.raises(run_lease.InputError) as err:
        _take(store, "night-1", until=NOW)
    assert err.value.field == "expires_at"
    with pytest.raises(run_lease.InputError) as err:
        run_lease.take(store, "12", REGION, "night-1", "h", UNTIL, NOW)
    assert err.value.field == "account_id"
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").rglob("*.json"))


def test_two_concurrent_backup_runs_exactly_one_backs_up(dynalite_server: Any, unique_name: str,
                                                         tmp_path: Path) -> None:
    """Two `ansible-playbook` runs of one host started together: one takes the lease and backs up every table,
    the other stops before it changes anything, naming the holder; then the lease is free again."""
    ddb = client("dynamodb", dynalite_server.url)
    names = [f"{unique_name}-{n}" for n in range(3)]
    for name in names:
        create_table(ddb, name, rcu=2)  # read at 1 RCU/s: the holder holds the lease for seconds
        put_items(ddb, name, simple_items(100))
    backups = tmp_path / "backups"
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{backups}",
                    hippolyte_include=names, hippolyte_window={"start": "00:00", "end": "23:59", "timezone": "UTC"})
    cmd = [str(BIN / "ansible-playbook"), "playbooks/backup.yml", "-i", str(inv)]
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ansible_env(),
                             cwd=REPO) for _run in range(2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]

    codes = sorted(run.returncode for run in runs)
    assert codes[0] == 0 and codes[1] != 0, outputs
    loser = outputs[[run.returncode for run in runs].index(codes[1])]
    assert "is being backed up by run hippolyte-night-" in loser or "took the lease at the same moment" in loser
    # It stopped at the lease: it never reconciled, boosted or backed up anything.
    assert "Back up every local lane in one call" not in loser.split("Take this account and region's lease")[1]
    manifests = sorted(backups.rglob("hippolyte-manifest.json"))
    assert sorted(m.parent.parent.name for m in manifests) == names  # one backup of each table
    folder = backups / "000000000000" / REGION / run_lease.LEASE_FOLDER
    assert not folder.exists() or not any(folder.rglob("lease.json"))  # the winner gave it back
