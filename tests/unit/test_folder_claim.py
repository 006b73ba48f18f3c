"""folder_claim: one writer per backup folder; a writer that loses a folder takes the following second's."""

from __future__ import annotations

import json
import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import join, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.folder_claim import (
    CLAIM_NAME,
    CLAIM_TRIES,
    ClaimedFolder,
    claim_folder,
)
from tests.support.stored_backups import ACCOUNT, REGION, TAKEN


def folder(seconds: int = 0) -> str:
    return backup_folder(ACCOUNT, REGION, "orders", TAKEN + timedelta(seconds=seconds))


def test_the_first_writer_takes_the_start_and_its_claim_names_it(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    claimed = claim_folder(store, ACCOUNT, REGION, "orders", TAKEN)
    assert claimed == ClaimedFolder(folder(0), TAKEN)
    holder = json.loads(store.read_bytes(join(folder(0), CLAIM_NAME)))
    assert holder["pid"] == os.getpid() and holder["started"] == TAKEN.isoformat()
    assert len(holder["nonce"]) == 32 and holder["host"]


def test_a_second_writer_of_the_same_second_takes_the_next_and_claims_differ(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    first = claim_folder(store, ACCOUNT, REGION, "orders", TAKEN)
    second = claim_folder(store, ACCOUNT, REGION, "orders", TAKEN)
    assert (first.folder, second.folder) == (folder(0), folder(1))
    assert second.taken_at == TAKEN + timedelta(seconds=1)
    assert store.read_bytes(join(folder(0), CLAIM_NAME)) != store.read_bytes(join(folder(1), CLAIM_NAME))
    # Another table's writer is not in the way.
    assert claim_folder(store, ACCOUNT, REGION, "orders-2", TAKEN).taken_at == TAKEN


def test_a_folder_from_before_claims_is_never_written_into(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    store.put_bytes(join(folder(0), "data", "part-00000.json.gz"), b"an older backup's part")
    claimed = claim_folder(store, ACCOUNT, REGION, "orders", TAKEN)
    assert claimed.folder == folder(1)
    assert store.list_files(folder(0)) == [join(folder(0), "data", "part-00000.json.gz")]


def test_when_every_try_is_held_the_error_names_the_first_holder(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    for offset in range(CLAIM_TRIES):
        store.put_bytes(join(folder(offset), CLAIM_NAME), b"{}")
    with pytest.raises(HippolyteError, match=f"the {CLAIM_TRIES} backup folders of 'orders'") as raised:
        claim_folder(store, ACCOUNT, REGION, "orders", TAKEN)
    assert f"file://{tmp_path}/{folder(0)}/{CLAIM_NAME}" in str(raised.value)
    assert not (tmp_path / folder(CLAIM_TRIES)).exists()  # one past the tries is not taken either


def test_writers_started_together_each_get_a_folder_of_their_own(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    start = threading.Barrier(6)
    claimed: list[ClaimedFolder] = []

    def writer() -> None:
        start.wait()
        claimed.append(claim_folder(store, ACCOUNT, REGION, "orders", TAKEN))

    threads = [threading.Thread(target=writer) for _writer in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(c.folder for c in claimed) == [folder(n) for n in range(6)]


@pytest.mark.parametrize(("account", "table", "field"), [("12345", "orders", "account_id"),
                                                         (ACCOUNT, "../escape", "table")])
def test_a_bad_name_is_refused_before_anything_is_written(tmp_path: Path, account: str, table: str,
                                                          field: str) -> None:
    store = open_store(f"file://{tmp_path}")
    with pytest.raises(InputError) as raised:
        claim_folder(store, account, REGION, table, TAKEN)
    assert raised.value.field == field
    assert store.list_files("") == []
