"""restoring/undelete: the items a backup holds and the live table lost, put back (and changed ones overwritten only
when asked), selected by key prefix or by keys, on moto; the request's own checks."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import FileStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.rate_limiter import TokenBucket
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.undelete import (
    UndeleteRequest,
    undelete_items,
)
from tests.conftest import client
from tests.support.stored_backups import gzipped_lines, write_backup
from tests.support.tables import create_table, put_items, scan_all

BACKED_UP = [{"pk": {"S": "a1"}, "v": {"S": "old"}}, {"pk": {"S": "a2"}, "v": {"S": "old"}},
             {"pk": {"S": "b1"}, "v": {"S": "old"}}]


@pytest.fixture
def lost(moto_url: str, unique_name: str, tmp_path: Path) -> tuple[Any, FileStore, str, dict[str, Any], str]:
    """A table that lost a1 and b1 and changed a2 since its backup (ddb, store, folder, manifest, table)."""
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name)
    put_items(ddb, unique_name, [{"pk": {"S": "a2"}, "v": {"S": "new"}}, {"pk": {"S": "c1"}, "v": {"S": "new"}}])
    store = FileStore(tmp_path, f"file://{tmp_path}")
    folder, doc = write_backup(store, {"data/part-00000.json.gz": gzipped_lines(BACKED_UP)}, table=unique_name)
    return ddb, store, folder, doc, unique_name


def values(ddb: Any, table: str) -> dict[str, str]:
    return {item["pk"]["S"]: item["v"]["S"] for item in scan_all(ddb, table)}


def test_only_missing_items_of_the_prefix_go_back_and_changed_ones_stay(lost: tuple[Any, ...]) -> None:
    ddb, store, folder, doc, table = lost
    outcome = undelete_items(ddb, store, folder, doc, UndeleteRequest(table, 100, key_prefix="a"))
    assert (outcome.missing, outcome.differing, outcome.written, outcome.overwritten) == (1, 1, 1, 0)
    assert outcome.missing_keys == [{"pk": {"S": "a1"}}]
    assert outcome.differing_keys == [{"pk": {"S": "a2"}}]
    assert values(ddb, table) == {"a1": "old", "a2": "new", "c1": "new"}


def test_overwrite_changed_puts_the_backups_values_back(lost: tuple[Any, ...]) -> None:
    ddb, store, folder, doc, table = lost
    outcome = undelete_items(ddb, store, folder, doc, UndeleteRequest(table, 100, overwrite_changed=True))
    assert (outcome.written, outcome.overwritten) == (2, 1)
    assert values(ddb, table) == {"a1": "old", "a2": "old", "b1": "old", "c1": "new"}
    assert outcome.write_units >= 3


def test_check_mode_counts_and_writes_nothing(lost: tuple[Any, ...]) -> None:
    ddb, store, folder, doc, table = lost
    outcome = undelete_items(ddb, store, folder, doc, UndeleteRequest(table, 100), check_mode=True)
    assert (outcome.missing, outcome.differing, outcome.written) == (2, 1, 0)
    assert values(ddb, table) == {"a2": "new", "c1": "new"}


def test_chosen_keys_only(lost: tuple[Any, ...]) -> None:
    ddb, store, folder, doc, table = lost
    outcome = undelete_items(ddb, store, folder, doc, UndeleteRequest(table, 100, keys=({"pk": {"S": "b1"}},)))
    assert (outcome.missing, outcome.written) == (1, 1)
    assert values(ddb, table) == {"a2": "new", "b1": "old", "c1": "new"}


def test_an_item_the_application_wrote_back_meanwhile_is_left_as_it_is(lost: tuple[Any, ...]) -> None:
    ddb, store, folder, doc, table = lost

    class WritesFirst(TokenBucket):
        """Before the first write, the application puts a1 back with its own value (no emulator can race)."""

        def wait(self, stop: threading.Event | None = None) -> None:
            ddb.put_item(TableName=table, Item={"pk": {"S": "a1"}, "v": {"S": "app"}})
            super().wait(stop)

    outcome = undelete_items(ddb, store, folder, doc, UndeleteRequest(table, 100, keys=({"pk": {"S": "a1"}},)),
                             bucket=WritesFirst)
    assert (outcome.written, outcome.appeared) == (0, 1)
    assert values(ddb, table)["a1"] == "app"


def test_keys_that_name_other_attributes_than_the_tables_key_are_refused(lost: tuple[Any, ...]) -> None:
    ddb, store, folder, doc, table = lost
    with pytest.raises(InputError) as refused:
        undelete_items(ddb, store, folder, doc, UndeleteRequest(table, 100, keys=({"id": {"S": "a1"}},)))
    assert refused.value.field == "keys[0]"
    assert values(ddb, table) == {"a2": "new", "c1": "new"}


@pytest.mark.parametrize(("request_", "field"), [
    (UndeleteRequest("t", 0), "write_units_per_second"),
    (UndeleteRequest("t", 10, workers=0), "workers"),
    (UndeleteRequest("t", 10, segments=0), "workers"),
    (UndeleteRequest("t", 10, keys=({"pk": "a1"},)), "keys[0]"),
    (UndeleteRequest("t", 10, keys=({"pk": {"S": "a"}}, {})), "keys[1]"),
])
def test_a_bad_request_names_its_field(request_: UndeleteRequest, field: str) -> None:
    with pytest.raises(InputError) as refused:
        request_.validate()
    assert refused.value.field == field
