"""catalog_answer and prune_answer (what backup_info and backup_prune do), called directly on backups the local
engine took of a moto table into a file:// destination; `now` is fixed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.catalog_task import (
    CatalogRequest,
    PruneRequest,
    catalog_answer,
    prune_answer,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import Policy
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from tests.conftest import REGION, client
from tests.support.tables import create_table, put_items, simple_items

ACCOUNT = "123456789012"  # moto's account, which the table's ARN names
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NIGHTS = [NOW - timedelta(days=days) for days in (3, 2, 1)]


class Backups:
    def __init__(self, store: BackupStore, table: str) -> None:
        self.store, self.table, self.opened = store, table, 0

    def open(self, workers: int) -> BackupStore:
        assert workers >= 1
        self.opened += 1
        return self.store

    def folder(self, night: datetime) -> str:
        return backup_folder(ACCOUNT, REGION, self.table, night)


@pytest.fixture
def backups(moto_url: str, unique_name: str, tmp_path: Path) -> Backups:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(5))
    store = open_store(f"file://{tmp_path}/backups")
    for night in NIGHTS:
        backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0, workers=1), night)
    return Backups(store, unique_name)


def damage_first_part(backups: Backups, night: datetime) -> None:
    part = next(Path(backups.store.url.removeprefix("file://"), backups.folder(night), "data").iterdir())
    part.write_bytes(b"not what the manifest says")


def test_listed_gives_every_backup_and_never_fails(backups: Backups) -> None:
    answer = catalog_answer(CatalogRequest(tables=[backups.table]), backups.open, NOW)
    assert not answer.failed
    assert answer.facts["changed"] is False
    assert sorted(b["folder"] for b in answer.facts["backups"]) == sorted(map(backups.folder, NIGHTS))
    assert answer.facts["msg"].startswith("3 backup(s), 0 of them incomplete")
    assert "damaged" not in answer.facts


def test_since_and_until_narrow_the_listing(backups: Backups) -> None:
    request = CatalogRequest(tables=[backups.table], since=NIGHTS[1].isoformat(), until=NIGHTS[1].isoformat())
    assert [b["folder"] for b in catalog_answer(request, backups.open, NOW).facts["backups"]] == [
        backups.folder(NIGHTS[1])]


@pytest.mark.parametrize("fail_on_damaged", [True, False])
def test_verified_fails_on_damage_only_when_asked(backups: Backups, fail_on_damaged: bool) -> None:
    damage_first_part(backups, NIGHTS[0])
    answer = catalog_answer(CatalogRequest(state="verified", tables=[backups.table], fail_on_damaged=fail_on_damaged),
                            backups.open, NOW)
    assert answer.failed is fail_on_damaged
    assert answer.facts["damaged"] == 1
    assert {b["folder"]: b["status"] for b in answer.facts["backups"]} == {
        backups.folder(NIGHTS[0]): "damaged", backups.folder(NIGHTS[1]): "ok", backups.folder(NIGHTS[2]): "ok"}


@pytest.mark.parametrize(("request_", "field"), [
    (CatalogRequest(state="pruned"), "state"),
    (CatalogRequest(workers=0), "workers"),
    (CatalogRequest(since="yesterday-ish"), "since"),
    (CatalogRequest(since="2026-03-09", until="2026-03-08"), "since"),
    (CatalogRequest(accounts=["12"]), "accounts"),
    (CatalogRequest(tables=[]), "tables"),
])
def test_bad_catalog_requests_fail_before_the_store_is_opened(backups: Backups, request_: CatalogRequest,
                                                              field: str) -> None:
    with pytest.raises(InputError) as raised:
        catalog_answer(request_, backups.open, NOW)
    assert raised.value.field == field
    assert backups.opened == 0


def test_prune_in_check_mode_deletes_nothing_and_gives_the_diff(backups: Backups) -> None:
    request = PruneRequest(tables=[backups.table], policy=Policy(keep_last=1))
    answer = prune_answer(request, backups.open, check_mode=True, diff=True, now=NOW)
    assert answer.facts["changed"] is True and not answer.failed
    assert sorted(answer.facts["deleted"]) == sorted(map(backups.folder, NIGHTS[:2]))
    assert answer.facts["msg"].startswith("would delete 2 of 3")
    assert len(answer.facts["diff"]) == 1
    listed = catalog_answer(CatalogRequest(tables=[backups.table]), backups.open, NOW).facts["backups"]
    assert len(listed) == 3


def test_prune_deletes_what_the_policy_drops_and_gives_no_diff_unless_asked(backups: Backups) -> None:
    request = PruneRequest(tables=[backups.table], policy=Policy(keep_last=2))
    answer = prune_answer(request, backups.open, check_mode=False, diff=False, now=NOW)
    assert answer.facts["deleted"] == [backups.folder(NIGHTS[0])]
    assert "diff" not in answer.facts
    again = prune_answer(request, backups.open, check_mode=False, diff=False, now=NOW)
    assert again.facts["changed"] is False and again.facts["deleted"] == []


@pytest.mark.parametrize(("request_", "field"), [
    (PruneRequest(workers=0, policy=Policy(keep_last=1)), "workers"),
    (PruneRequest(regions=["mars-1"], policy=Policy(keep_last=1)), "regions"),
    (PruneRequest(), "keep_last"),
    (PruneRequest(policy=Policy(keep_last=1, max_age_days=0)), "max_age_days"),
])
def test_bad_prune_requests_fail_before_the_store_is_opened(backups: Backups, request_: PruneRequest,
                                                            field: str) -> None:
    with pytest.raises(InputError) as raised:
        prune_answer(request_, backups.open, check_mode=False, diff=False, now=NOW)
    assert raised.value.field == field
    assert backups.opened == 0
