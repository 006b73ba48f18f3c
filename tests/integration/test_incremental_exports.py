"""15-minute recovery points on the stand-ins: backup_increment's exports after a full native export, and
backup_restore's increments_until, which applies them.

moto does not run incremental exports (it answers with a full export and never moves LatestRestorableDateTime):
tests/support/incremental_exports.py plays DynamoDB's side over the moto client (the export request, DescribeExport,
ListExports and the latest restorable time) and writes each export's files into moto's S3 in AWS's documented
layout, from the table's writes as the test recorded them on its clock. Everything else is real: the full export is
moto's, the increments' files are read back from moto's S3 and checked against their manifests, and the restore
creates, loads and changes a moto table.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.export_task import run_exports
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.increment_task import run_increments
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore_task import (
    RestoreClients,
    RestoreRequest,
    restore_request,
)
from ansible_collections.hippolyte.dynamodb.plugins.modules.backup_increment import ARGUMENT_SPEC as INCREMENT_SPEC
from ansible_collections.hippolyte.dynamodb.plugins.modules.dynamodb_export import ARGUMENT_SPEC as EXPORT_SPEC
from tests.conftest import REGION, client
from tests.support.engine_clients import StandInClients, module_options
from tests.support.incremental_exports import IncrementalExporter
from tests.support.tables import canonical, create_table, scan_all

ACCOUNT = "123456789012"
MINUTE = timedelta(minutes=1)


def _item(n: int, version: int = 0) -> dict[str, Any]:
    return {"pk": {"S": f"k{n}"}, "v": {"N": str(version)}, "b": {"B": bytes([n % 256, version % 256])}}


class Night:
    """A table with PITR on, its full export at E (moto's), and the exporter that plays its increments."""

    def __init__(self, moto_url: str, name: str) -> None:
        self.name, self.url = name, moto_url
        self.ddb, self.s3 = client("dynamodb", moto_url), client("s3", moto_url)
        self.s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        create_table(self.ddb, name, rcu=None)
        self.ddb.update_continuous_backups(TableName=name,
                                           PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        self.full_at = datetime.now(UTC).replace(microsecond=0)
        self.now = self.full_at
        self.exporter = IncrementalExporter(self.ddb, self.s3, clock=lambda: self.now)
        for n in range(20):
            self.exporter.write(name, self.full_at - 10 * MINUTE, {"pk": {"S": f"k{n}"}}, _item(n))
        full = module_options(EXPORT_SPEC, tables=[name], run_id="night-1", export_time=self.full_at.isoformat(),
                              poll_interval=1, wait_timeout=30)
        answer = run_exports(full, StandInClients(moto_url, self.destination), check_mode=False)
        assert not answer.failed, answer.result
        # The export's own time (a second later when PITR was turned on within the second asked for).
        self.full_at = self.now = datetime.fromisoformat(answer.result["exports"][0]["export_time"])

    @property
    def destination(self) -> str:
        return f"s3://{self.name}/ddb"

    def at(self, minutes: float) -> datetime:
        return self.full_at + minutes * MINUTE

    def write(self, minutes: float, n: int, version: int | None) -> None:
        self.exporter.write(self.name, self.at(minutes), {"pk": {"S": f"k{n}"}},
                            None if version is None else _item(n, version))

    def increments(self, check: bool = False, **given: Any) -> Any:
        clients = StandInClients(self.url, self.destination)
        clients._clients["dynamodb"] = self.exporter  # the moto client, with DynamoDB's incremental exports played
        options = module_options(INCREMENT_SPEC, tables=[self.name], poll_interval=1, wait_timeout=30, **given)
        return run_increments(options, clients, check_mode=check, now=lambda: self.now)

    def restore(self, until: datetime, target: str, check_mode: bool = False, **given: Any) -> Any:
        store = open_store(self.destination, self.s3)
        clients = RestoreClients(dynamodb=lambda: self.ddb, store=lambda readers: store, s3=lambda: self.s3,
                                 own_account=lambda: ACCOUNT, caller_account=lambda: ACCOUNT,
                                 autoscaling=lambda: client("application-autoscaling", self.url))
        return restore_request(RestoreRequest(table=self.name, region=REGION, increments_until=until.isoformat(),
                                              target=target, **given), clients, check_mode, now=self.now)

    def folder(self, start: float, end: float) -> str:
        return (f"ddb/{ACCOUNT}/{REGION}/{self.name}/increments/"
                f"{self.at(start):%Y-%m-%d-%H-%M-%S}_{self.at(end):%Y-%m-%d-%H-%M-%S}")


@pytest.fixture
def night(moto_server: Any, unique_name: str) -> Night:
    night = Night(moto_server.url, unique_name)
    night.write(2, 1, 1)  # k1 changed
    night.write(5, 2, None)  # k2 deleted
    night.write(10, 100, 1)  # k100 created
    night.write(17, 100, 2)  # and changed in the next window
    night.write(20, 3, None)
    night.write(31, 101, 1)  # created in the third window ...
    night.write(40, 101, None)  # ... and deleted in the same one
    night.write(44, 4, 7)
    return night


def test_increments_are_asked_for_end_to_end_picked_up_and_recorded(night: Night) -> None:
    night.now = night.at(37)  # restorable up to E+32: two 15-minute windows have ended
    night.exporter.hold = True
    asked = night.increments(wait=False)
    assert not asked.failed, asked.result
    windows = [(e["window_start"], e["window_end"], e["status"]) for e in asked.result["increments"]]
    assert windows == [(night.at(0).isoformat(), night.at(15).isoformat(), "IN_PROGRESS"),
                       (night.at(15).isoformat(), night.at(30).isoformat(), "IN_PROGRESS")]
    for request, (start, end) in zip(night.exporter.requests, [(0, 15), (15, 30)], strict=True):
        assert request["ExportType"] == "INCREMENTAL_EXPORT"
        assert request["IncrementalExportSpecification"] == {
            "ExportFromTime": night.at(start), "ExportToTime": night.at(end), "ExportViewType": "NEW_AND_OLD_IMAGES"}
        assert request["S3Prefix"] == f"{night.folder(start, end)}/data"
    assert asked.result["recovery_points"][0]["newest_point"] == night.at(0).isoformat()  # the full export
    assert asked.result["recovery_points"][0]["age_s"] == 37 * 60

    again = night.increments(wait=False)  # the same windows are picked up, never asked for twice
    assert [e["started"] for e in again.result["increments"]] == [False, False]
    assert len(night.exporter.requests) == 2 and again.result["changed"] is False

    night.exporter.release()
    recorded = night.increments()
    assert not recorded.failed, recorded.result
    assert [e["status"] for e in recorded.result["increments"]] == ["COMPLETED", "COMPLETED"]
    assert recorded.result["changed"] is True
    assert recorded.result["recovery_points"][0]["newest_point"] == night.at(30).isoformat()
    doc = json.loads(night.s3.get_object(Bucket=night.name, Key=f"{night.folder(0, 15)}/hippolyte-manifest.json")
                     ["Body"].read())
    assert (doc["data_format"], doc["export_from"], doc["export_to"], doc["item_count"]) == (
        "native-export-incremental", night.at(0).isoformat(), night.at(15).isoformat(), 3)

    night.now = night.at(52)  # one more window has ended
    third = night.increments()
    assert [(e["window_start"], e["started"]) for e in third.result["increments"]] == [(night.at(30).isoformat(), True)]
    assert third.result["recovery_points"][0]["newest_point"] == night.at(45).isoformat()
    assert len(night.exporter.requests) == 3


def test_a_restore_applies_the_full_backup_then_each_increment_to_its_boundary(night: Night) -> None:
    night.now = night.at(52)
    assert not night.increments().failed  # three windows: E..E+15, ..+30, ..+45

    answer = night.restore(night.at(44), f"{night.name}-r30")  # the latest boundary at or before E+44 is E+30
    facts = answer.facts()
    assert facts["increments"]["restored_to"] == night.at(30).isoformat()
    assert facts["increments"]["full_backup"].endswith(f"/{night.name}/{night.full_at:%Y-%m-%d-%H-%M-%S}")
    assert [(i["window_end"], i["puts"], i["deletes"]) for i in facts["increments"]["increments"]] == [
        (night.at(15).isoformat(), 2, 1), (night.at(30).isoformat(), 1, 1)]
    expected = list(night.exporter.state_at(night.name, night.at(30)).values())
    assert canonical(scan_all(night.ddb, f"{night.name}-r30")) == canonical(expected)
    assert facts["increments"]["expected_items"] == len(expected) == 19

    again = night.restore(night.at(44), f"{night.name}-r30").facts()  # the same restore again: checked, not written
    assert again["changed"] is False and again["written_items"] == 0 and again["counted_items"] == 19
    night.ddb.delete_item(TableName=f"{night.name}-r30", Key={"pk": {"S": "k5"}})
    with pytest.raises(HippolyteError, match="imply 19"):
        night.restore(night.at(44), f"{night.name}-r30")  # a table changed since is named, never taken as done

    last = night.restore(night.at(50), f"{night.name}-r45").facts()
    assert last["increments"]["restored_to"] == night.at(45).isoformat()
    assert last["increments"]["increments"][-1]["deletes"] == 1  # k101, created and deleted inside the window
    assert canonical(scan_all(night.ddb, f"{night.name}-r45")) == canonical(
        list(night.exporter.state_at(night.name, night.at(45)).values()))


def test_a_damaged_increment_is_refused_before_any_of_its_changes_is_written(night: Night) -> None:
    night.now = night.at(37)
    assert not night.increments().failed
    data = [o["Key"] for o in night.s3.list_objects_v2(Bucket=night.name, Prefix=night.folder(15, 30))["Contents"]
            if o["Key"].endswith(".json.gz")]
    night.s3.put_object(Bucket=night.name, Key=data[0], Body=gzip.compress(b'{"Keys": {"pk": {"S": "k9"}}}\n'))
    with pytest.raises(HippolyteError, match="damaged"):
        night.restore(night.at(30), f"{night.name}-bad")
    # The first increment was applied, the damaged second one not at all: k3 (deleted at E+20) is still there.
    keys = {i["pk"]["S"] for i in scan_all(night.ddb, f"{night.name}-bad")}
    assert "k3" in keys and "k100" in keys


def test_a_table_without_a_point_in_time_full_backup_is_skipped_not_failed(moto_server: Any,
                                                                           unique_name: str) -> None:
    night = Night(moto_server.url, unique_name)
    night.s3.delete_object(Bucket=unique_name,
                           Key=f"ddb/{ACCOUNT}/{REGION}/{unique_name}/{night.full_at:%Y-%m-%d-%H-%M-%S}/"
                           "hippolyte-manifest.json")
    night.now = night.at(40)
    answer = night.increments()
    assert not answer.failed and answer.result["increments"] == []
    assert "no intact point-in-time full backup" in answer.result["recovery_points"][0]["skipped"]
    assert night.exporter.requests == []


def test_increments_until_alone_and_only_a_second(night: Night) -> None:
    with pytest.raises(InputError) as err:
        night.restore(night.at(30), "elsewhere", at="2026-11-20")
    assert err.value.field == "increments_until"
    with pytest.raises(InputError, match="after now"):
        night.restore(night.at(90), "elsewhere")


def test_check_mode_asks_for_nothing_and_restores_nothing(night: Night) -> None:
    night.now = night.at(37)
    preview = night.increments(check=True)
    assert [(e["window_end"], e["status"]) for e in preview.result["increments"]] == [
        (night.at(15).isoformat(), "PENDING"), (night.at(30).isoformat(), "PENDING")]
    assert night.exporter.requests == [] and preview.result["changed"] is True
    assert not night.increments().failed
    answer = night.restore(night.at(30), f"{night.name}-never", check_mode=True)
    assert answer.facts()["increments"]["restored_to"] == night.at(30).isoformat()
    assert f"{night.name}-never" not in night.ddb.list_tables()["TableNames"]
