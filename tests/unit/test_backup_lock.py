"""The lock a store asks S3 for (ObjectLock.put_arguments, built by backup_lock): only objects in a backup folder,
until the retention policy's bound for that folder's time, never a date already past (on a controlled clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import ObjectLock
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.backup_lock import backup_lock
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import Policy, lock_until

FOLDER = "111111111111/eu-west-1/orders/2026-11-20-01-30-00"
TAKEN = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


def at(moment: datetime, mode: str = "COMPLIANCE") -> ObjectLock:
    lock = backup_lock(mode, {"keep_daily": 7, "keep_last": None})
    assert lock is not None
    return ObjectLock(lock.mode, lock.until, now=lambda: moment)


def test_every_object_of_a_backup_folder_is_locked_until_retention_could_prune_it() -> None:
    lock = at(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    until = lock_until(Policy(keep_daily=7), TAKEN)

    for name in ("hippolyte-claim.json", "data/part-00000.json.gz", "hippolyte-manifest.json"):
        assert lock.put_arguments(f"{FOLDER}/{name}") == {"ObjectLockMode": "COMPLIANCE",
                                                          "ObjectLockRetainUntilDate": until}
    assert until == datetime(2026, 11, 27, tzinfo=UTC)


def test_objects_outside_backup_folders_and_dates_already_past_are_not_locked() -> None:
    lock = at(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    assert lock.put_arguments("111111111111/eu-west-1/@hippolyte-lease/lease.json") == {}
    assert lock.put_arguments("notes/2026-11-20-01-30-00/x/y") == {}  # not an account
    # A manifest written after the lock's end (a cluster engine finishing late) would be refused by S3.
    assert at(datetime(2026, 11, 27, tzinfo=UTC)).put_arguments(f"{FOLDER}/hippolyte-manifest.json") == {}


@pytest.mark.parametrize(("mode", "retention", "field"), [
    ("GOVERNANCE", None, "object_lock_retention"),
    (None, {"keep_daily": 7}, "object_lock_retention"),
    ("GOVERNANCE", {"keep_daily": 0}, "object_lock_retention.keep_last"),
    ("LEGAL", {"keep_daily": 7}, "object_lock_mode"),
])
def test_bad_settings_name_the_option(mode: str | None, retention: dict[str, int] | None, field: str) -> None:
    with pytest.raises(InputError) as raised:
        backup_lock(mode, retention)
    assert raised.value.field == field


def test_no_mode_and_no_policy_is_no_lock() -> None:
    assert backup_lock(None, None) is None and backup_lock("", {}) is None
