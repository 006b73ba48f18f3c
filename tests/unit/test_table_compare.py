"""compare: a table compared with a backup item by item (moto over HTTP, a file:// backup): which keys only one
side holds and which items differ; attribute order, set order and number spelling are no differences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.compare import (
    FIRST_KEYS,
    Difference,
    TableDiffers,
    check_same_key,
    compare_table,
)
from tests.conftest import client
from tests.support.stored_backups import gzipped_lines, write_backup
from tests.support.tables import create_table, put_items

BACKUP = [{"pk": {"S": f"k{n:02d}"}, "n": {"N": "1"}, "ss": {"SS": ["a", "b"]}, "b": {"B": b"\x00\xff"}}
          for n in range(30)]


@pytest.fixture
def backup(tmp_path: Path) -> tuple[Any, str, dict[str, Any]]:
    store = open_store(f"file://{tmp_path}")
    folder, doc = write_backup(store, {"data/part-00000.json.gz": gzipped_lines(BACKUP[:15]),
                                       "data/part-00001.json.gz": gzipped_lines(BACKUP[15:])})
    return store, folder, doc


def test_a_table_holding_the_backup_is_equal_whatever_the_spelling(moto_url: str, unique_name: str,
                                                                   backup: tuple[Any, str, dict[str, Any]]) -> None:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=None)
    # The same items as stored with another number spelling and set order.
    put_items(ddb, unique_name, ({**item, "n": {"N": "1.0"}, "ss": {"SS": ["b", "a"]}} for item in BACKUP))
    comparison = compare_table(ddb, *backup, unique_name, segments=3, readers=2)
    assert comparison.equal and (comparison.backup_items, comparison.table_items) == (30, 30)
    assert comparison.report()["equal"] and comparison.drift()["in_sync"]


def test_missing_extra_and_changed_items_are_counted_and_named(moto_url: str, unique_name: str,
                                                               backup: tuple[Any, str, dict[str, Any]]) -> None:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=None)
    table = [item for item in BACKUP if item["pk"]["S"] not in ("k03", "k07")]  # two missing
    table = [{**item, "n": {"N": "2"}} if item["pk"]["S"] == "k10" else item for item in table]  # one changed
    put_items(ddb, unique_name, [*table, {"pk": {"S": "new"}, "n": {"N": "1"}}])  # one extra
    comparison = compare_table(ddb, *backup, unique_name, segments=4)
    assert not comparison.equal
    report = comparison.report()
    assert (report["missing_count"], report["extra_count"], report["changed_count"]) == (2, 1, 1)
    assert report["missing"] == [{"pk": "k03"}, {"pk": "k07"}]  # keys as the task shows them: name -> value
    assert report["extra"] == [{"pk": "new"}] and report["changed"] == [{"pk": "k10"}]
    drift = comparison.drift()
    assert (drift["added"], drift["removed"], drift["changed"]) == (1, 2, 1)
    message = str(TableDiffers(comparison))
    assert message == (f"the restored table differs from the backup: table {unique_name} holds 29 items, "
                       'the backup 30; missing 2 (first: {"pk": "k03"}, {"pk": "k07"}); extra 1 '
                       '(first: {"pk": "new"}); changed 1 (first: {"pk": "k10"})')


def test_an_empty_table_misses_everything_and_lists_only_the_first_keys(
        moto_url: str, unique_name: str, backup: tuple[Any, str, dict[str, Any]]) -> None:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=None)
    comparison = compare_table(ddb, *backup, unique_name, segments=2)
    assert comparison.missing.count == 30 and len(comparison.missing.keys) == FIRST_KEYS
    assert comparison.table_items == 0 and comparison.extra.count == comparison.changed.count == 0


def test_differences_merge_keeping_the_first_keys_in_order() -> None:
    left, right = Difference(), Difference()
    for n in (5, 1, 9):
        left.add({"pk": f"k{n}"})
    for n in range(12):
        right.add({"pk": f"j{n:02d}"})
    assert right.count == 12 and len(right.keys) == FIRST_KEYS
    left.merge(right)
    assert left.count == 15 and len(left.keys) == FIRST_KEYS
    assert left.keys == [{"pk": f"j{n:02d}"} for n in range(FIRST_KEYS)]  # the first ten of all, sorted


def test_a_table_of_another_key_cannot_be_compared() -> None:
    schema = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}
    check_same_key({"TableName": "t", **schema}, schema, "target")
    other = {"TableName": "t", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}
    with pytest.raises(InputError) as raised:
        check_same_key(other, schema, "target")
    assert raised.value.field == "target" and "has the key [('id', 'HASH')]" in raised.value.problem
