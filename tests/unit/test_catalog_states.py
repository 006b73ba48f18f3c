"""catalog_states: a catalog listed, verified and pruned by a retention policy, on a controlled clock; a folder
the store refuses to delete is reported, never counted as gone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.increment_windows import Window
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
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.increment_folders import increment_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.catalog_states import (
    describe,
    list_catalog,
    prune_catalog,
    verify_catalog,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import Policy
from tests.conftest import REGION, client
from tests.support.s3_refusals import RefusingDeletes, RefusingLockReads
from tests.support.stored_backups import ACCOUNT, TAKEN, gzipped_lines, write_backup

NOW = TAKEN + timedelta(days=3, hours=1)
PART = "data/part-00000.json.gz"


def nightly(store: BackupStore, days_ago: int, table: str = "orders", consistency: str = "fuzzy-scan") -> str:
    folder, _doc = write_backup(store, {PART: gzipped_lines([{"pk": {"S": f"{table}-{days_ago}"}}])}, table=table,
                                taken=NOW - timedelta(days=days_ago, hours=1), consistency=consistency)
    return folder


def increments_after(store: BackupStore, days_ago: int, count: int, complete: bool = True) -> list[str]:
    """`count` 15-minute increment folders of orders from its backup of `days_ago` on (data, then manifest)."""
    start = NOW - timedelta(days=days_ago, hours=1)
    folders = []
    for n in range(count):
        window = Window(start + timedelta(minutes=15 * n), start + timedelta(minutes=15 * (n + 1)))
        folder = increment_folder(ACCOUNT, REGION, "orders", window)
        store.put_bytes(join(folder, "data/changes.json.gz"), b"changes")
        if complete:
            store.put_bytes(join(folder, manifest_file.MANIFEST_NAME), b"{}")
        folders.append(folder)
    return folders


def incomplete(store: BackupStore, hours_ago: int) -> str:
    folder = backup_folder(ACCOUNT, REGION, "orders", NOW - timedelta(hours=hours_ago))
    store.put_bytes(join(folder, PART), b"half a backup")
    return folder


def test_describe_a_complete_an_incomplete_and_a_future_dated_backup(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    nightly(store, 1)
    incomplete(store, 2)
    write_backup(store, {PART: gzipped_lines([{"pk": {"S": "x"}}])}, taken=NOW + timedelta(hours=1))
    complete, half, future = (describe(store, e, NOW) for e in scan_catalog(store, Selection()))
    assert complete["complete"] and complete["intact"] and complete["engine"] == "local"
    assert (complete["items"], complete["age_s"], complete["future_dated"]) == (1, 25 * 3600, False)
    assert complete["url"] == f"file://{tmp_path}/{complete['folder']}"
    assert complete["origin"]["kind"] == "night"
    assert (half["complete"], half["engine"], half["items"], half["bytes"]) == (False, None, None, 13)
    assert future["future_dated"] and future["age_s"] < 0
    assert "manifest_error" not in complete


def test_list_counts_incomplete_damaged_and_future_folders(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    nightly(store, 1)
    damaged = nightly(store, 2)
    key = join(damaged, manifest_file.MANIFEST_NAME)
    store.put_bytes(key, store.read_bytes(key).replace(b'"engine": "local"', b'"engine": "emr"'))
    incomplete(store, 2)
    future, _doc = write_backup(store, {PART: gzipped_lines([{"pk": {"S": "x"}}])}, taken=NOW + timedelta(hours=1))
    outcome = list_catalog(store, Selection(), workers=2, now=NOW)
    assert outcome.msg == (f"4 backup(s), 1 of them incomplete, 1 with a damaged manifest; 1 dated after now, never "
                           f"trusted: {future}")
    assert outcome.damaged == 1 and not outcome.changed
    bad = next(b for b in outcome.backups if b["folder"] == damaged)
    assert not bad["intact"] and "does not match its own digest" in bad["manifest_error"]


def test_list_follows_the_selection(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    nightly(store, 1)
    nightly(store, 1, table="users")
    outcome = list_catalog(store, Selection(tables=("user*",)), workers=1, now=NOW)
    assert [b["table"] for b in outcome.backups] == ["users"]
    with pytest.raises(InputError, match="tables"):
        list_catalog(store, Selection(tables=()), workers=1, now=NOW)


def test_verify_reads_complete_backups_only_and_names_the_first_damage(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    good = nightly(store, 2)
    bad = nightly(store, 1)
    incomplete(store, 2)
    (tmp_path / bad / PART).write_bytes(b"x")
    outcome = verify_catalog(store, Selection(), workers=2, now=NOW)
    assert [(b["folder"], b["status"]) for b in outcome.backups] == [(good, "ok"), (bad, "damaged")]
    assert outcome.backups[0]["files_checked"] == 1 and outcome.backups[0]["bytes_read"] > 0
    assert outcome.backups[0]["damage"] == []
    damage = outcome.backups[1]["damage"]
    assert damage[0]["file"] == f"file://{tmp_path}/{bad}/{PART}" and damage[0]["reason"].startswith("size is 1 ")
    assert outcome.damaged == 1
    assert outcome.msg == f"2 complete backup(s) verified, 1 damaged; first: {damage[0]['file']}: {damage[0]['reason']}"


def test_prune_in_check_mode_deletes_nothing_and_shows_the_diff(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    folders = [nightly(store, days) for days in (0, 1, 2)]
    outcome = prune_catalog(store, Selection(), Policy(keep_last=2), workers=2, check_mode=True, now=NOW)
    assert outcome.msg == "would delete 1 of 3 backup folder(s)" and outcome.changed
    assert outcome.deleted == [folders[2]]
    assert all(store.list_files(f) for f in folders)
    (diff,) = outcome.diff
    assert diff["before_header"] == diff["after_header"] == f"{ACCOUNT}/{REGION}/orders"
    assert diff["before"].count("\n") == 3 and diff["after"].count("\n") == 2
    assert f"{folders[2].rsplit('/', 1)[-1]}  kept by no rule\n" in diff["before"]
    assert folders[2].rsplit("/", 1)[-1] not in diff["after"]
    assert [b["action"] for b in outcome.backups] == ["keep", "keep", "delete"][::-1]


def test_prune_deletes_what_the_policy_does_not_keep_and_leaves_other_tables(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    kept = nightly(store, 0)
    old = nightly(store, 2)
    other = nightly(store, 2, table="users")
    young = incomplete(store, 2)
    outcome = prune_catalog(store, Selection(tables=("orders",)), Policy(keep_last=1), workers=2, check_mode=False,
                            now=NOW)
    assert outcome.deleted == [old] and outcome.changed and outcome.refused == {}
    assert outcome.msg == "deleted 1 of 3 backup folder(s)"
    assert store.list_files(old) == [] and store.list_files(kept) and store.list_files(other)
    assert store.list_files(young)  # within its grace: it may still be running
    assert len(outcome.diff) == 1


def test_increments_no_kept_full_backup_carries_forward_are_pruned_with_it(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    nightly(store, 2, consistency="point-in-time")
    nightly(store, 0, consistency="point-in-time")
    older, newer = increments_after(store, 2, 3), increments_after(store, 0, 2)

    preview = prune_catalog(store, Selection(), Policy(keep_last=1), workers=2, check_mode=True, now=NOW)

    assert preview.increments_deleted == older and all(store.list_files(f) for f in older)
    assert preview.msg == ("would delete 1 of 2 backup folder(s), and 3 increment folder(s) no kept full backup "
                           "carries forward")
    outcome = prune_catalog(store, Selection(), Policy(keep_last=1), workers=2, check_mode=False, now=NOW)
    assert outcome.increments_deleted == older and outcome.changed
    assert [store.list_files(f) for f in older] == [[], [], []]
    assert all(store.list_files(f) for f in newer)  # the kept backup's chain is whole


def test_increments_of_a_table_without_a_point_in_time_backup_left_are_pruned(tmp_path: Path) -> None:
    """A scan's time is no instant: a local backup carries no increment forward, so they all go; but one without
    its manifest whose window ended within the grace may still be written by its export."""
    store = open_store(f"file://{tmp_path}")
    nightly(store, 3, consistency="point-in-time")
    nightly(store, 0)
    done = increments_after(store, 3, 2)
    recent = Window(NOW - timedelta(minutes=20), NOW - timedelta(minutes=5))
    writing = increment_folder(ACCOUNT, REGION, "orders", recent)
    store.put_bytes(join(writing, "data/changes.json.gz"), b"half")

    outcome = prune_catalog(store, Selection(), Policy(keep_last=1), workers=2, check_mode=False, now=NOW)

    assert outcome.increments_deleted == done and store.list_files(writing)
    later = prune_catalog(store, Selection(), Policy(keep_last=1), workers=2, check_mode=False,
                          now=NOW + timedelta(days=2))
    assert later.increments_deleted == [writing] and store.list_files(writing) == []


def test_prune_with_nothing_to_delete_changes_nothing(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    nightly(store, 0)
    outcome = prune_catalog(store, Selection(), Policy(keep_last=3), workers=1, check_mode=False, now=NOW)
    assert (outcome.changed, outcome.deleted, outcome.diff) == (False, [], [])


def test_a_bad_policy_deletes_nothing(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    folder = nightly(store, 9)
    nightly(store, 0)
    with pytest.raises(InputError) as raised:
        prune_catalog(store, Selection(), Policy(), workers=1, check_mode=False, now=NOW)
    assert raised.value.field == "keep_last"
    assert store.list_files(folder)


def test_a_folder_the_store_refuses_to_delete_is_reported_not_counted(moto_url: str, unique_name: str) -> None:
    s3 = client("s3", moto_url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    writer = open_store(f"s3://{unique_name}/backups", s3_client=s3)
    older = nightly(writer, 2)
    oldest = nightly(writer, 3)
    nightly(writer, 0)
    # S3 answers a role without s3:DeleteObject inside a 200; moto deletes anything (tests/support/s3_refusals).
    refusing: Any = RefusingDeletes(s3, refuse=f"{older}/{PART}")
    store = open_store(f"s3://{unique_name}/backups", s3_client=refusing)
    outcome = prune_catalog(store, Selection(), Policy(keep_last=1), workers=2, check_mode=False, now=NOW)
    assert outcome.deleted == [oldest] and outcome.refused == {older: [PART]}  # as backup_prune's RETURN says
    assert outcome.msg.startswith(f"deleted 1 of 3 backup folder(s); 1 folder(s) the store refused to delete "
                                  f"(first: {older}/{PART})")
    assert "s3:DeleteObject" in outcome.msg


def test_a_role_that_may_not_read_the_bucket_s_lock_prunes_as_before_and_says_so(moto_url: str,
                                                                                 unique_name: str) -> None:
    """An install set up before Object Lock support lacks s3:GetBucketObjectLockConfiguration: its retention keeps
    working (on a bucket without the lock that is all there is to it) and warns, naming the grant."""
    s3 = client("s3", moto_url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    writer = open_store(f"s3://{unique_name}/backups", s3_client=s3)
    old = nightly(writer, 2)
    nightly(writer, 0)
    denied: Any = RefusingLockReads(s3)
    store = open_store(f"s3://{unique_name}/backups", s3_client=denied)
    outcome = prune_catalog(store, Selection(), Policy(keep_last=1), workers=2, check_mode=False, now=NOW)
    assert outcome.deleted == [old] and writer.list_files(old) == []
    (warning,) = outcome.warnings
    assert "may not read whether bucket" in warning and "deleted as if it had none" in warning
    assert "s3:GetBucketObjectLockConfiguration" in warning
