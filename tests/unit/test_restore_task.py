"""restoring/restore_task: what backup_restore does, called directly on moto tables backed up by the local engine
into a file:// destination; `now` is fixed. Adopting and dynamodump imports are the integration tests' (adoption
and dynodump are tested there end to end)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.import_restore import ImportSettings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    TargetDrifted,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore_task import (
    RestoreClients,
    RestoreRequest,
    restore_request,
)
from tests.conftest import REGION, client
from tests.support.tables import create_table, put_items, scan_all, simple_items, table_names

NIGHT_1 = datetime(2026, 11, 20, 1, 0, 0, tzinfo=UTC)
NIGHT_2 = datetime(2026, 11, 21, 1, 0, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def _never(*_: Any) -> Any:
    raise AssertionError("this restore needs no such client")


class Backed:
    """A 30-item table with two backups (NIGHT_1, NIGHT_2), and the clients restore_request is given."""

    def __init__(self, ddb: Any, store: BackupStore, table: str, account: str) -> None:
        self.ddb, self.store, self.table, self.account = ddb, store, table, account

    def clients(self) -> RestoreClients:
        return RestoreClients(dynamodb=lambda: self.ddb, store=lambda readers: self.store, s3=_never,
                              own_account=lambda: self.account, caller_account=_never, autoscaling=_never)

    def url(self, night: datetime) -> str:
        return f"{self.store.url}/{self.account}/{REGION}/{self.table}/{night:%Y-%m-%d-%H-%M-%S}"


@pytest.fixture
def backed(moto_url: str, unique_name: str, tmp_path: Path) -> Backed:
    # moto in this process (tests/unit/conftest.py): ansible-test runs these unit tests in a tree without node_modules.
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(30, pad=10))
    store = open_store(f"file://{tmp_path}/backups")
    folder = ""
    for night in (NIGHT_1, NIGHT_2):
        folder = backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0), night).folder
    return Backed(ddb, store, unique_name, folder.split("/", maxsplit=1)[0])


def request(backed: Backed, **kw: Any) -> RestoreRequest:
    return RestoreRequest(table=backed.table, region=REGION, **kw)


def test_the_newest_backup_restores_into_a_table_named_after_its_night(backed: Backed) -> None:
    answer = restore_request(request(backed), backed.clients(), now=NOW)
    facts = answer.facts()
    target = f"{backed.table}-restored-20261121-010000"
    assert facts["backup_url"] == backed.url(NIGHT_2)
    assert (facts["target"], facts["changed"], facts["created"]) == (target, True, True)
    assert facts["expected_items"] == facts["counted_items"] == 30
    assert facts["engine"] == "load" and facts["import_report"] is None
    assert "compare" not in facts and "drift" not in facts
    assert len(scan_all(backed.ddb, target)) == 30


def test_at_a_date_picks_that_day_s_backup_and_check_mode_writes_nothing(backed: Backed) -> None:
    target = f"{backed.table}-dry"
    answer = restore_request(request(backed, at="2026-11-20", target=target), backed.clients(), check_mode=True,
                             now=NOW)
    assert answer.backup_url == backed.url(NIGHT_1)
    assert answer.facts()["changed"] is True
    assert target not in table_names(backed.ddb)


def test_compare_with_measures_drift_and_restores_nothing(backed: Backed) -> None:
    backed.ddb.delete_item(TableName=backed.table, Key={"pk": {"S": "item-00000000"}})
    put_items(backed.ddb, backed.table, [{"pk": {"S": "added-later"}}])
    before = set(table_names(backed.ddb))
    facts = restore_request(request(backed, compare_with=backed.table), backed.clients(), now=NOW).facts()
    assert facts["changed"] is False and facts["table"] == backed.table
    assert (facts["drift"]["added"], facts["drift"]["removed"], facts["drift"]["changed"]) == (1, 1, 0)
    assert facts["msg"] == f"{backed.table} against {backed.url(NIGHT_2)}: 1 added, 1 removed, 0 changed"
    assert set(table_names(backed.ddb)) == before


def test_a_rerun_over_a_drifted_target_fails_and_hands_over_the_comparison(backed: Backed) -> None:
    target = f"{backed.table}-v2"
    restore_request(request(backed, target=target), backed.clients(), now=NOW)
    backed.ddb.delete_item(TableName=target, Key={"pk": {"S": "item-00000001"}})
    compared: dict[str, Any] = {}
    with pytest.raises(TargetDrifted):
        restore_request(request(backed, target=target), backed.clients(), compared=compared, now=NOW)
    assert compared["missing_count"] == 1 and compared["equal"] is False


@pytest.mark.parametrize(("kw", "field"), [
    ({"table": "x"}, "table"),
    ({"target": "a/b"}, "target"),
    ({"compare_with": "no spaces allowed"}, "compare_with"),
    ({"account_id": "12"}, "account_id"),
    ({"settings": RestoreSettings(workers=0)}, "workers"),
    ({"settings": RestoreSettings(write_capacity=0)}, "write_capacity"),
    ({"import_settings": ImportSettings(engine="fast")}, "engine"),
    ({"import_settings": ImportSettings(max_load_hours=0)}, "max_load_hours"),
])
def test_bad_input_fails_before_any_client(kw: dict[str, Any], field: str) -> None:
    asked: list[str] = []
    clients = RestoreClients(dynamodb=lambda: asked.append("dynamodb"), store=lambda n: asked.append("store"),
                             s3=lambda: asked.append("s3"), own_account=_never, caller_account=_never,
                             autoscaling=_never)
    with pytest.raises(InputError) as raised:
        restore_request(RestoreRequest(**{"table": "orders", "region": REGION, **kw}), clients, now=NOW)
    assert raised.value.field == field and asked == []
