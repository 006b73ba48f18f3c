"""The run lease: one backup run per account and region, on file:// and on moto's S3, in-process and through
two concurrent `ansible-playbook` runs of the backup role (dynalite)."""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import (
    Process,
    controller_chain,
    is_alive,
    process_of,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store import private_files
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    join,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night import run_lease
from tests.conftest import REGION, client
from tests.support.ansible_run import BIN, REPO, ansible_env, ensure_collection_link
from tests.support.inventory import inventory
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


def test_a_lease_taken_over_under_its_run_is_named_and_giving_it_back_fails(store: BackupStore) -> None:
    """The keeper could not renew past the margin (controller suspended): the next run takes the lease over.
    The first run learns who took it and when; it can neither renew nor give back the other's lease."""
    mine = _take(store, "night-1", until=NOW + timedelta(minutes=10))
    assert run_lease.lost_to(store, ACCOUNT, REGION, mine.lease.nonce) is None
    later = NOW + timedelta(minutes=11)
    theirs = _take(store, "night-2", now=later, until=later + timedelta(minutes=10))
    assert theirs.how == "expired"
    assert run_lease.lost_to(store, ACCOUNT, REGION, mine.lease.nonce) == (
        f"lease lost to host-of-night-2 (run night-2 on {socket.gethostname()}) at {later.isoformat()}")
    assert run_lease.renew(store, ACCOUNT, REGION, mine.lease.nonce, later) is None
    assert not run_lease.release(store, ACCOUNT, REGION, mine.lease.nonce)
    assert run_lease.newest(store, run_lease.lease_folder(ACCOUNT, REGION))[1] == theirs.lease  # theirs untouched
    assert run_lease.release(store, ACCOUNT, REGION, theirs.lease.nonce)
    assert run_lease.lost_to(store, ACCOUNT, REGION, mine.lease.nonce) == (
        "lease lost: taken over by another run, which has given it back since")


def test_a_night_whose_lease_is_taken_over_mid_run_starts_no_more_tables_and_fails_saying_so(
        dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """Through the backup playbook: as soon as the run's lease is written, another run takes it over (as after a
    suspended controller). The local lanes start no table, giving the lease back fails, and the printed summary
    and the webhook's summary name the new holder and say tables may have been backed up twice."""
    ddb = client("dynamodb", dynalite_server.url)
    names = [f"{unique_name}-{n}" for n in range(2)]
    for name in names:
        create_table(ddb, name, rcu=50)
        put_items(ddb, name, simple_items(20))
    backups, webhook = tmp_path / "backups", tmp_path / "summary.json"
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{backups}",
                    hippolyte_include=names, hippolyte_notify={"webhook_file": str(webhook)})
    store = open_store(f"file://{backups}")
    folder = run_lease.lease_folder("000000000000", REGION)
    taken: list[run_lease.Taken] = []

    def intruder() -> None:
        ends = time.monotonic() + 300
        while not taken and time.monotonic() < ends:
            if run_lease.newest(store, folder)[1] is not None:
                taken.append(run_lease.take(store, "000000000000", REGION, "other-run", "intruder",
                                            datetime.now(UTC) + timedelta(hours=1), datetime.now(UTC),
                                            break_lease=True))
            time.sleep(0.05)

    thread = threading.Thread(target=intruder, daemon=True)
    thread.start()
    run = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/backup.yml", "-i", str(inv)],
                         capture_output=True, text=True, env=ansible_env(), cwd=REPO, timeout=600, check=False)
    thread.join(5)

    assert taken and run.returncode != 0, run.stdout[-3000:]
    lost = f"lease lost to intruder (run other-run on {socket.gethostname()}) at {taken[0].lease.taken_at}"
    summary = json.loads(webhook.read_text())
    assert summary["status"] == "failed"
    assert lost in summary["stopped_at"]["msg"] and "may have been backed up twice" in summary["stopped_at"]["msg"]
    assert lost in run.stdout
    assert not list(backups.rglob("hippolyte-manifest.json"))  # no table started after the takeover
    assert run_lease.newest(store, folder)[1] == taken[0].lease  # the other run's lease is left to it


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


def test_a_renewed_lease_outlives_its_first_expiry_and_the_next_run_is_still_refused(store: BackupStore) -> None:
    """A run lasting hours keeps its lease: each renewal moves the expiry to the renewal plus the margin."""
    margin = timedelta(seconds=run_lease.EXPIRY_MARGIN_S)
    first = _take(store, "night-1", until=NOW + margin)
    at = NOW
    for _renewal in range(3 * 60):  # three hours of renewals, a minute apart
        at += timedelta(seconds=run_lease.RENEW_EVERY_S)
        renewed = run_lease.renew(store, ACCOUNT, REGION, first.lease.nonce, at)
        assert renewed is not None and renewed.expires_at == (at + margin).isoformat()
    assert at > NOW + margin  # long past the expiry it was taken with
    with pytest.raises(run_lease.LeaseHeld, match=re.escape(f"renewed {at.isoformat()}, until")):
        _take(store, "night-1-second", now=at + margin - timedelta(seconds=1))
    # The keeper stopped (its run died elsewhere): the lease expires a margin after the last renewal.
    second = _take(store, "night-2", now=at + margin)
    assert second.how == "expired" and second.taken_over is not None
    assert second.taken_over.renewed_at == at.isoformat()
    # The first run's keeper now finds its lease lost, and writes nothing back.
    assert run_lease.renew(store, ACCOUNT, REGION, first.lease.nonce, at + margin) is None
    assert run_lease.newest(store, run_lease.lease_folder(ACCOUNT, REGION))[1] == second.lease


def test_the_keeper_renews_while_the_controller_lives_and_stops_when_it_is_gone_or_the_lease_is_lost() -> None:
    """`keep` on a controlled clock: a renewal at once, then one every interval; it stops with its controller
    (the lease is then left to expire) or when a renewal finds the lease no longer this run's."""
    ticks = [0.0]
    renewals: list[float] = []
    lease = run_lease._placeholder(1)

    def sleep(seconds: float) -> None:
        ticks[0] += seconds

    def clock() -> float:
        return ticks[0]

    stopped = run_lease.keep(lambda: renewals.append(clock()) or lease, lambda: clock() < 200.5, every_s=60,
                             sleep=sleep, clock=clock)
    assert stopped == "controller gone" and renewals == [0.0, 60.0, 120.0, 180.0]
    ticks[0], renewals[:] = 0.0, []
    stopped = run_lease.keep(lambda: (renewals.append(clock()) or lease) if len(renewals) < 2 else None,
                             lambda: True, every_s=60, sleep=sleep, clock=clock)
    assert stopped == "lease lost" and renewals == [0.0, 60.0]
    # A renewal that fails (the store throttled, say) is tried again at the next interval, not the end of it.
    ticks[0], renewals[:] = 0.0, []

    def flaky() -> run_lease.Lease | None:
        renewals.append(clock())
        if len(renewals) == 2:
            raise OSError("the store failed once")
        return lease if len(renewals) < 4 else None

    assert run_lease.keep(flaky, lambda: True, every_s=60, sleep=sleep, clock=clock) == "lease lost"
    assert renewals == [0.0, 60.0, 120.0, 180.0]


def _full_disk_lease(store: BackupStore, tmp_path: Path) -> str:
    """What an older version left on a full disk: lease.json created, nothing written in it."""
    folder = run_lease.lease_folder(ACCOUNT, REGION)
    key = join(folder, "00000001", run_lease.LEASE_FILE)
    if store.url.startswith("file://"):
        path = tmp_path / "backups" / key
        path.parent.mkdir(parents=True)
        path.touch()
    else:
        store.put_bytes(key, b"")
    return key


def test_an_empty_lease_file_is_broken_it_expires_by_its_age_and_break_lease_clears_it(
        store: BackupStore, tmp_path: Path) -> None:
    key = _full_disk_lease(store, tmp_path)
    written = max(o.modified for o in store.list_objects(key.rsplit("/", 1)[0]))
    # Right after it was written it may be another run's lease being written: refused, saying until when.
    with pytest.raises(run_lease.LeaseHeld, match="is empty or unreadable") as held:
        _take(store, "night-1", now=written + timedelta(seconds=5), until=written + timedelta(hours=1))
    assert "expires at" in str(held.value) and "break_lease" in str(held.value)
    # break_lease clears it at once.
    broken = _take(store, "night-1", now=written + timedelta(seconds=5), until=written + timedelta(hours=1),
                   break_lease=True)
    assert broken.how == "broken" and broken.lease.generation == 2
    assert not store.exists(key)
    assert run_lease.release(store, ACCOUNT, REGION, broken.lease.nonce)
    # Left alone, it blocks no night for ever: it expires a margin after it was written.
    key = _full_disk_lease(store, tmp_path)
    written = max(o.modified for o in store.list_objects(key.rsplit("/", 1)[0]))
    later = written + timedelta(seconds=run_lease.EXPIRY_MARGIN_S)
    taken = _take(store, "night-2", now=later, until=later + timedelta(hours=1))
    assert taken.how == "expired" and taken.taken_over is not None and taken.taken_over.generation == 1


def test_a_lease_file_is_written_whole_or_not_at_all_on_a_full_disk(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails half-way (ENOSPC, injected: no emulator fills a disk) leaves no lease file, so the
    next run takes the lease at once."""
    store = open_store(f"file://{tmp_path}/backups")
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(private_files.os, "fdopen", lambda fd, mode: FullDisk(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="No space left"):
        _take(store, "night-1")
    monkeypatch.undo()
    assert not list((tmp_path / "backups").rglob("lease.json"))
    assert not list((tmp_path / "backups").rglob("*.tmp"))
    assert _take(store, "night-2").how == "free"


def test_giving_the_lease_back_stops_its_keeper_first(tmp_path: Path) -> None:
    """The keeper (a process of its own, as the role runs it) is stopped before the lease is deleted, so no
    late renewal writes the given-back lease again."""
    store = open_store(f"file://{tmp_path}/backups")
    taken = _take(store, "night-1", now=datetime.now(UTC), until=datetime.now(UTC) + timedelta(minutes=10))
    code = ("import sys, time; from datetime import UTC, datetime; sys.path[:0] = sys.argv[1:2]\n"
            "from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night import run_lease\n"
            "from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store\n"
            "store = open_store(sys.argv[2])\n"
            "print(run_lease.keep(lambda: run_lease.renew(store, sys.argv[3], sys.argv[4], sys.argv[5],"
            " datetime.now(UTC)), lambda: True, every_s=0.2), flush=True)\n")
    keeper = subprocess.Popen([sys.executable, "-c", code, str(ensure_collection_link()), store.url, ACCOUNT, REGION,
                               taken.lease.nonce], stdout=subprocess.PIPE, text=True)
    folder = run_lease.lease_folder(ACCOUNT, REGION)
    deadline = time.monotonic() + 30
    while (run_lease.newest(store, folder)[1] or taken.lease).keeper_pid != keeper.pid:
        assert time.monotonic() < deadline and keeper.poll() is None, "the keeper never renewed"
        time.sleep(0.05)
    assert run_lease.release(store, ACCOUNT, REGION, taken.lease.nonce)
    assert keeper.wait(timeout=15) != 0  # stopped (SIGTERM) by the release, not ended by itself
    time.sleep(0.5)  # a renewal would have come by now
    assert run_lease.newest(store, folder) == (0, None)


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
    assert "Back up every local lane and cluster" not in loser.split("Take this account and region's lease")[1]
    manifests = sorted(backups.rglob("hippolyte-manifest.json"))
    assert sorted(m.parent.parent.name for m in manifests) == names  # one backup of each table
    folder = backups / "000000000000" / REGION / run_lease.LEASE_FOLDER
    assert not folder.exists() or not any(folder.rglob("lease.json"))  # the winner gave it back


def test_the_keeper_in_the_background_keeps_a_live_run_lease_past_its_first_expiry(tmp_path: Path) -> None:
    """As the role runs it: the lease taken for 3 s, its keeper started with `async`/`poll: 0` renewing every
    second; 8 s later another run is still refused, naming the renewal; giving it back stops the keeper."""
    backups = tmp_path / "backups"
    common = {"destination": f"file://{backups}", "account_id": ACCOUNT, "region": REGION}
    playbook = tmp_path / "keep.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "take", "register": "lease",
         "hippolyte.dynamodb.backup_lease": {"state": "held", "run_id": "first", "hold_s": 3, **common}},
        {"name": "keep", "async": 600, "poll": 0, "register": "keeper",
         "hippolyte.dynamodb.backup_lease": {"state": "kept", "run_id": "first", "hold_s": 3, "renew_every_s": 1,
                                             "nonce": "{{ lease.lease.nonce }}", **common}},
        {"name": "run long", "ansible.builtin.pause": {"seconds": 8}},
        {"name": "second", "register": "second", "ignore_errors": True,
         "hippolyte.dynamodb.backup_lease": {"state": "held", "run_id": "second", **common}},
        {"name": "show", "ansible.builtin.debug": {"msg": "SECOND {{ second.lease.keeper_pid }} {{ second.msg }}"}},
        {"name": "release", "register": "released",
         "hippolyte.dynamodb.backup_lease": {"state": "released", "run_id": "first",
                                             "nonce": "{{ lease.lease.nonce }}", **common}},
        {"name": "forget", "ansible.builtin.async_status": {"jid": "{{ keeper.ansible_job_id }}", "mode": "cleanup"}},
    ]}]))
    run = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)],
                         capture_output=True, text=True, env=ansible_env(), cwd=REPO, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    ((keeper_pid, second),) = re.findall(r'"SECOND (\d+) (.*)"', run.stdout)
    assert "is being backed up by run first" in second and ", renewed " in second, second
    keeper = process_of(int(keeper_pid))
    assert keeper is None or not is_alive(keeper)  # stopped when the lease was given back
    folder = backups / ACCOUNT / REGION / run_lease.LEASE_FOLDER
    assert not folder.exists() or not any(folder.rglob("lease.json"))  # given back, and not written again
    time.sleep(2)
    assert not folder.exists() or not any(folder.rglob("lease.json"))


def test_the_keeper_ends_with_its_killed_controller_and_the_lease_is_taken_over(tmp_path: Path) -> None:
    """kill -9 of ansible-playbook mid-run: its keeper sees the controller gone and stops renewing, and the next
    run on this machine takes the lease over at once."""
    backups = tmp_path / "backups"
    common = {"destination": f"file://{backups}", "account_id": ACCOUNT, "region": REGION}
    playbook = tmp_path / "killed.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "take", "register": "lease",
         "hippolyte.dynamodb.backup_lease": {"state": "held", "run_id": "killed", **common}},
        {"name": "keep", "async": 600, "poll": 0,
         "hippolyte.dynamodb.backup_lease": {"state": "kept", "run_id": "killed", "renew_every_s": 1,
                                             "nonce": "{{ lease.lease.nonce }}", **common}},
        {"name": "run long", "ansible.builtin.pause": {"seconds": 300}},
    ]}]))
    run = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ansible_env(), cwd=REPO)
    store = open_store(f"file://{backups}")
    folder = run_lease.lease_folder(ACCOUNT, REGION)
    deadline = time.monotonic() + 120
    while (lease := run_lease.newest(store, folder)[1]) is None or lease.keeper_pid is None:
        assert time.monotonic() < deadline and run.poll() is None, "the keeper never renewed"
        time.sleep(0.1)
    run.kill()  # only ansible-playbook: the keeper, detached by async, gets no signal
    run.wait()
    while is_alive(Process(lease.keeper_pid, lease.keeper_start or "")):
        assert time.monotonic() < deadline, "the keeper outlived its controller"
        time.sleep(0.1)
    taken = _take(store, "next", now=datetime.now(UTC), until=datetime.now(UTC) + timedelta(minutes=10))
    assert taken.how == "controller gone" and taken.taken_over is not None
    assert taken.taken_over.run_id == "killed"
