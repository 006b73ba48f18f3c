"""The catalog (list, verify, prune at a fixed `now`) on moto S3 and file://, with backups made by the local engine.

Three small tables are backed up on five nights (5-9 January 2030, so every folder is older than a fixed
`now` of 10 January 12:00 whatever today's date); table A also holds an incomplete folder from the 7th
and one claimed an hour before `now` (a writer still at work).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    join,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import Selection, backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.folder_claim import CLAIM_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.catalog_states import (
    list_catalog,
    prune_catalog,
    verify_catalog,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import Policy
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.tables import create_table, put_items, simple_items, table_names

NIGHTS = [datetime(2030, 1, day, 1, 0, 0, tzinfo=UTC) for day in range(5, 10)]  # Sat 5 .. Wed 9 January
NOW = datetime(2030, 1, 10, 12, 0, 0, tzinfo=UTC)
OLD_INCOMPLETE = datetime(2030, 1, 7, 3, 0, 0, tzinfo=UTC)
FRESH_INCOMPLETE = NOW - timedelta(hours=1)
ACCOUNT = "123456789012"  # moto's account, which the tables' ARNs name


@dataclass
class Catalog:
    store: BackupStore
    ddb: Any
    tables: list[str]
    url: str
    module_args: dict[str, Any]

    def folder(self, table: str, taken_at: datetime) -> str:
        return backup_folder(ACCOUNT, REGION, table, taken_at)

    def folders(self) -> set[str]:
        return {e["folder"] for e in list_catalog(self.store, Selection(), 4, NOW).backups}


def remove_file(store: BackupStore, key: str) -> None:
    if hasattr(store, "root"):
        (store.root / key).unlink()
    else:
        store.client.delete_object(Bucket=store.bucket, Key=join(store.prefix, key))


def write_incomplete(store: BackupStore, folder: str) -> None:
    store.put_bytes(join(folder, CLAIM_NAME), b'{"host": "elsewhere"}')
    store.put_bytes(join(folder, "data/part-00000.json.gz"), gzip.compress(b'{"Item": {"pk": {"S": "a"}}}\n'))


@pytest.fixture(params=["s3", "file"])
def catalog(request: pytest.FixtureRequest, moto_server: Any, unique_name: str, tmp_path: Path) -> Catalog:
    ddb = client("dynamodb", moto_server.url)
    if request.param == "s3":
        s3 = client("s3", moto_server.url)
        s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
        url = f"s3://{unique_name}/dynamodb"
        store = open_store(url, s3)
    else:
        url = f"file://{tmp_path}/backups"
        store = open_store(url)
    tables = [f"{unique_name}-{suffix}" for suffix in ("a", "b", "c")]
    for n, table in enumerate(tables):
        create_table(ddb, table, rcu=None)
        put_items(ddb, table, simple_items(20 + n, pad=20))
        for night in NIGHTS:
            backup_table(ddb, store, table, REGION, ScanSettings(read_units_per_second=0, workers=2), night)
    write_incomplete(store, backup_folder(ACCOUNT, REGION, tables[0], OLD_INCOMPLETE))
    write_incomplete(store, backup_folder(ACCOUNT, REGION, tables[0], FRESH_INCOMPLETE))
    args = {"destination": url, "region": REGION, "endpoint_url": moto_server.url}
    return Catalog(store, ddb, tables, url, args)


def test_list_reports_every_backup_with_its_facts(catalog: Catalog) -> None:
    listed = list_catalog(catalog.store, Selection(), 4, NOW).backups
    assert len(listed) == 3 * 5 + 2
    complete = [b for b in listed if b["complete"]]
    assert len(complete) == 15 and {b["engine"] for b in complete} == {"local"}
    assert {b["data_format"] for b in complete} == {"dynamodb-json"}
    assert sorted({b["items"] for b in complete}) == [20, 21, 22]
    assert all(b["bytes"] > 0 and b["account"] == ACCOUNT and b["region"] == REGION for b in listed)
    incomplete = [b for b in listed if not b["complete"]]
    assert [b["taken_at"] for b in incomplete] == [OLD_INCOMPLETE.isoformat(), FRESH_INCOMPLETE.isoformat()]
    assert incomplete[0]["items"] is None and incomplete[0]["engine"] is None
    newest = next(b for b in complete if b["taken_at"] == NIGHTS[-1].isoformat())
    assert newest["age_s"] == int((NOW - NIGHTS[-1]).total_seconds())

    narrowed = list_catalog(catalog.store, Selection(tables=["*-b"], since=NIGHTS[1], until=NIGHTS[3]), 4, NOW)
    assert [(b["table"], b["taken_at"]) for b in narrowed.backups] == [
        (catalog.tables[1], night.isoformat()) for night in NIGHTS[1:4]]
    assert list_catalog(catalog.store, Selection(accounts=["111111111111"]), 4, NOW).backups == []
    assert list_catalog(catalog.store, Selection(regions=["us-east-1"]), 4, NOW).backups == []


def test_names_the_layout_never_writes_are_skipped(catalog: Catalog) -> None:
    for stray in ("notes.txt", f"{ACCOUNT}/{REGION}/x/2030-01-05-01-00-00/a", "abc/eu-west-1/tbl/2030-01-05-01-00-00/a",
                  f"{ACCOUNT}/{REGION}/tbl/2030-1-5-01-00-00/a", f"{ACCOUNT}/local/tbl/2030-01-05-01-00-00/a"):
        catalog.store.put_bytes(stray, b"not a backup")
    assert len(list_catalog(catalog.store, Selection(), 4, NOW).backups) == 17


def test_verify_names_a_flipped_byte_and_a_missing_part(catalog: Catalog) -> None:
    flipped_folder = catalog.folder(catalog.tables[0], NIGHTS[2])
    missing_folder = catalog.folder(catalog.tables[1], NIGHTS[4])
    flipped = join(flipped_folder, "data/part-00000.json.gz")
    missing = join(missing_folder, "data/part-00000.json.gz")
    data = bytearray(catalog.store.read_bytes(flipped))
    data[len(data) // 2] ^= 0x01
    catalog.store.put_bytes(flipped, bytes(data))
    remove_file(catalog.store, missing)

    outcome = verify_catalog(catalog.store, Selection(), 4, NOW)

    assert outcome.damaged == 2 and len(outcome.backups) == 15
    by_folder = {b["folder"]: b for b in outcome.backups}
    assert by_folder[flipped_folder]["status"] == "damaged"
    ((flip,),) = [by_folder[flipped_folder]["damage"]]
    assert flip["file"] == f"{catalog.url}/{flipped}" and "sha256" in flip["reason"]
    ((gone,),) = [by_folder[missing_folder]["damage"]]
    assert gone["file"] == f"{catalog.url}/{missing}" and "missing" in gone["reason"]
    ok = [b for b in outcome.backups if b["folder"] not in (flipped_folder, missing_folder)]
    assert all(b["status"] == "ok" and b["bytes_read"] == b["bytes"] and b["files_checked"] for b in ok)


# Policy -> the nights kept for every table (the newest, 9 January, always is). NOW is Thursday 10 January:
# ISO week 2 runs from Monday 7 January, so 5 and 6 January are week 1.
PRUNE_CASES = [
    (Policy(keep_last=2), {8, 9}),
    (Policy(keep_daily=3), {8, 9}),
    (Policy(keep_weekly=2), {6, 9}),
    (Policy(keep_monthly=1), {9}),
    (Policy(keep_last=1, keep_daily=4, keep_weekly=2), {6, 7, 8, 9}),
    (Policy(keep_daily=5, max_age_days=3), {8, 9}),
    # keep_last guards the newest backups even from max_age_days: nothing goes without 5 newer ones kept.
    (Policy(keep_last=5, max_age_days=3), {5, 6, 7, 8, 9}),
]


@pytest.mark.parametrize(("policy", "kept_days"), PRUNE_CASES)
def test_prune_keeps_exactly_what_the_policy_says(catalog: Catalog, policy: Policy, kept_days: set[int]) -> None:
    before = catalog.folders()
    expected = {catalog.folder(t, n) for t in catalog.tables for n in NIGHTS if n.day in kept_days}
    fresh = catalog.folder(catalog.tables[0], FRESH_INCOMPLETE)

    dry = prune_catalog(catalog.store, Selection(), policy, 4, check_mode=True, now=NOW)
    assert catalog.folders() == before  # check mode deleted nothing
    assert dry.changed and set(dry.deleted) == before - expected - {fresh}
    # One diff per table: every folder before, the kept ones after, each line its folder's time and why.
    assert {d["before_header"] for d in dry.diff} == {f.rsplit("/", 1)[0] for f in dry.deleted}
    for diff in dry.diff:
        times = {f"{diff['before_header']}/{line.split('  ', 1)[0]}" for line in diff["after"].splitlines()}
        assert times == {f for f in expected | {fresh} if f.startswith(f"{diff['before_header']}/")}
        assert set(diff["after"].splitlines()) < set(diff["before"].splitlines())

    done = prune_catalog(catalog.store, Selection(), policy, 4, check_mode=False, now=NOW)
    assert set(done.deleted) == set(dry.deleted)
    assert catalog.folders() == expected | {fresh}
    assert all(catalog.folder(t, NIGHTS[-1]) in catalog.folders() for t in catalog.tables)
    again = prune_catalog(catalog.store, Selection(), policy, 4, check_mode=False, now=NOW)
    assert not again.changed and again.deleted == []


def test_prune_only_touches_the_selected_tables(catalog: Catalog) -> None:
    prune_catalog(catalog.store, Selection(tables=[catalog.tables[2]]), Policy(keep_last=1), 4, False, NOW)
    remaining = catalog.folders()
    assert {catalog.folder(catalog.tables[2], n) for n in NIGHTS} & remaining == {
        catalog.folder(catalog.tables[2], NIGHTS[-1])}
    assert {catalog.folder(t, n) for t in catalog.tables[:2] for n in NIGHTS} <= remaining


def test_restore_of_a_damaged_backup_creates_no_table(catalog: Catalog) -> None:
    folder = catalog.folder(catalog.tables[2], NIGHTS[0])
    part = join(folder, "data/part-00000.json.gz")
    data = bytearray(catalog.store.read_bytes(part))
    data[-12] ^= 0x40
    catalog.store.put_bytes(part, bytes(data))
    target = f"{catalog.tables[2]}-restored"
    with pytest.raises(HippolyteError, match="nothing was created") as err:
        restore_backup(catalog.ddb, catalog.store, folder, target, RestoreSettings())
    assert f"{catalog.url}/{part}" in str(err.value) and "sha256" in str(err.value)
    assert target not in table_names(catalog.ddb)


def test_module_lists_and_verifies(catalog: Catalog) -> None:
    listed = run_module("backup_info", {**catalog.module_args, "tables": [catalog.tables[0]]})
    assert not listed.failed and not listed.result["changed"], listed.output[-2000:]
    assert len(listed.result["backups"]) == 7

    part = join(catalog.folder(catalog.tables[0], NIGHTS[1]), "data/part-00000.json.gz")
    remove_file(catalog.store, part)
    verified = run_module("backup_info", {**catalog.module_args, "state": "verified", "tables": [catalog.tables[0]]})
    assert verified.failed and verified.result["damaged"] == 1, verified.output[-2000:]
    assert f"{catalog.url}/{part}" in verified.result["msg"]
    reported = run_module("backup_info", {**catalog.module_args, "state": "verified", "fail_on_damaged": False})
    assert not reported.failed and reported.result["damaged"] == 1
