"""The plan's local lanes in one module call, against dynalite: lanes side by side, one failure isolated,
boosts held only around their table's backup, no table started after the window's end."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlanDocument
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.local_lanes import (
    ControllerLimits,
    LaneTable,
    local_lanes,
    run_lanes,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night import run_lease
from tests.conftest import client
from tests.support.ansible_run import run_module
from tests.support.tables import create_table, put_items, simple_items

LANES = 4
PER_LANE = 13  # 52 tables
BOOSTED_RCU = 10
LEASE_ACCOUNT = "123456789012"


def planned_table(name: str, offset: float, boost: bool) -> dict[str, Any]:
    return {"name": name, "size_bytes": 10_000, "rcu": 5, "boost_rcu": BOOSTED_RCU if boost else 5,
            "boosted": boost, "read_percentage": 0.5, "read_units_per_second": None,
            "start_offset_s": offset, "duration_s": 2}


@pytest.fixture
def fleet(dynalite_server: Any, unique_name: str) -> tuple[Any, dict[str, Any]]:
    ddb = client("dynamodb", dynalite_server.url)
    clusters = []
    for lane in range(LANES):
        tables = []
        for n in range(PER_LANE):
            name = f"{unique_name}-{lane}-{n:02d}"
            create_table(ddb, name, rcu=5, wcu=50)
            put_items(ddb, name, simple_items(40))
            tables.append(planned_table(name, n * 2.0, boost=(lane == 1 and n in (3, 7))))
        clusters.append({"id": f"c{lane + 1:02d}", "engine": "local", "start_offset_s": 0,
                         "end_offset_s": PER_LANE * 2, "tables": tables})
    plan = {"window_s": 3600, "window": {"starts_at": datetime.now(UTC).isoformat()}, "clusters": clusters}
    return ddb, plan


def test_lanes_run_side_by_side_and_one_failure_stops_nothing(dynalite_server: Any, fleet: tuple[Any, dict[str, Any]],
                                                              tmp_path: Path) -> None:
    ddb, plan = fleet
    doomed = plan["clusters"][0]["tables"][-1]["name"]  # the last of its lane: deleted while the night runs
    progress = tmp_path / "progress.log"

    def delete_when_running() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if progress.exists() and len(progress.read_text().splitlines()) >= 5:
                ddb.delete_table(TableName=doomed)
                return
            time.sleep(0.05)

    deleter = threading.Thread(target=delete_when_running)
    deleter.start()
    run = run_module("dynamodb_scan_backup", {
        "plan": plan, "destination": f"file://{tmp_path}/dest", "region": "eu-west-1",
        "endpoint_url": dynalite_server.url, "run_id": "night-1", "progress_path": str(progress),
        "autoscaling": False, "max_concurrent_scans": 8})
    deleter.join()

    result = run.result
    assert run.failed, "a failed table fails the task, after every other table had its chance"
    assert result["failed_tables"] == [doomed]
    outcomes = {t["name"]: t for t in result["tables"]}
    assert len(outcomes) == LANES * PER_LANE
    ok = [t for t in outcomes.values() if t["status"] == "ok"]
    assert len(ok) == LANES * PER_LANE - 1
    assert all(t["items"] == 40 and Path(t["manifest_url"].removeprefix("file://")).is_file() for t in ok)
    assert outcomes[doomed]["error"] == f"table: table {doomed!r} does not exist in this account and region; " \
        "check the name, region and endpoint"
    assert len(progress.read_text().splitlines()) == LANES * PER_LANE

    # Lanes ran side by side: the tables' own backup times add up to well over the night's length.
    def span(t: dict[str, Any]) -> tuple[datetime, datetime]:
        return datetime.fromisoformat(t["started_at"]), datetime.fromisoformat(t["finished_at"])

    by_lane: dict[str, list[tuple[datetime, datetime]]] = {}
    for t in ok:
        by_lane.setdefault(t["lane"], []).append(span(t))
    assert len(by_lane) == LANES
    busy = sum((end - start).total_seconds() for spans in by_lane.values() for start, end in spans)
    night = (max(e for s in by_lane.values() for _begin, e in s) - min(b for s in by_lane.values() for b, _end in s))
    assert busy > 2.5 * night.total_seconds(), f"{busy:.1f} s of backups in a {night.total_seconds():.1f} s night"

    # Boosts were held around their table only, and every one is back.
    boosted = [t for t in ok if t["boosted"]]
    assert len(boosted) == 2
    for t in boosted:
        desc = ddb.describe_table(TableName=t["name"])["Table"]
        assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
        tags = ddb.list_tags_of_resource(ResourceArn=desc["TableArn"]).get("Tags", [])
        assert not [tag for tag in tags if tag["Key"].startswith("hippolyte:capacity")]
    assert result["capacity_notes"] == []


def test_check_mode_reports_the_lanes_and_writes_nothing(fleet: tuple[Any, dict[str, Any]],
                                                         dynalite_server: Any, tmp_path: Path) -> None:
    _ddb, plan = fleet
    run = run_module("dynamodb_scan_backup", {"plan": plan, "destination": f"file://{tmp_path}/dest",
                                              "region": "eu-west-1", "endpoint_url": dynalite_server.url},
                     check=True)
    assert not run.failed, run.output
    assert run.result["msg"] == (f"would back up {LANES * PER_LANE} of {LANES * PER_LANE} table(s) "
                                 "(0 kept from earlier tonight)")
    assert not (tmp_path / "dest").exists()


def test_a_plan_without_a_window_is_refused_naming_the_field(dynalite_server: Any, tmp_path: Path) -> None:
    run = run_module("dynamodb_scan_backup", {"plan": {"clusters": []}, "destination": f"file://{tmp_path}/d",
                                              "region": "eu-west-1", "endpoint_url": dynalite_server.url})
    assert run.failed
    assert run.result["msg"].startswith("plan:")


def test_a_rerun_of_the_same_night_backs_up_only_what_is_missing(dynalite_server: Any, unique_name: str,
                                                                 tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    names = [f"{unique_name}-{n}" for n in range(3)]
    for name in names:
        create_table(ddb, name, rcu=100, wcu=50)
        put_items(ddb, name, simple_items(20))
    lane = [planned_table(name, n, boost=False) for n, name in enumerate(names)]
    opens = datetime.now(UTC).isoformat()
    plan = {"window_s": 3600, "window": {"starts_at": opens}, "night": {"id": "rerun-night", "at": opens},
            "clusters": [{"id": "c01", "engine": "local", "tables": lane[:2]}]}
    args = {"destination": f"file://{tmp_path}/dest", "region": "eu-west-1", "endpoint_url": dynalite_server.url,
            "autoscaling": False, "resume": True}
    first = run_module("dynamodb_scan_backup", {"plan": plan, **args})  # "interrupted" after two tables
    assert not first.failed, first.output
    plan["clusters"][0]["tables"] = lane
    second = run_module("dynamodb_scan_backup", {"plan": plan, **args})
    assert not second.failed, second.output
    assert sorted(second.result["resumed"]) == sorted(names[:2])
    by_name = {t["name"]: t for t in second.result["tables"]}
    assert by_name[names[2]]["resumed"] is False and by_name[names[2]]["items"] == 20
    assert {by_name[n]["manifest_url"] for n in names[:2]} == {t["manifest_url"] for t in first.result["tables"]}
    assert len(list((tmp_path / "dest").rglob("hippolyte-manifest.json"))) == 3
    assert first.result["changed"] and second.result["changed"]
    assert second.result["msg"] == "backed up 1 of 3 table(s) in 1 lane(s); 2 kept from earlier in the window"

    third = run_module("dynamodb_scan_backup", {"plan": plan, **args})  # the night was finished: nothing to do
    assert not third.failed, third.output
    assert third.result["changed"] is False
    assert third.result["msg"] == "backed up 0 of 3 table(s) in 1 lane(s); 3 kept from earlier in the window"
    assert len(list((tmp_path / "dest").rglob("hippolyte-manifest.json"))) == 3


class SteppedClock:
    """The lanes' clock, moved by the test: the window closes when the test says so."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at


def test_at_the_window_end_no_table_starts_and_the_one_in_flight_finishes_with_its_boost(
        dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """Two lanes, one scan at a time; the window closes while the first table is read: that table finishes
    with its boost held to its end, and every table whose turn comes after is reported `not run`, never read."""
    ddb = client("dynamodb", dynalite_server.url)
    names = [f"{unique_name}-{n}" for n in range(4)]
    for name in names:
        create_table(ddb, name, rcu=100, wcu=50)
        put_items(ddb, name, simple_items(20))
    start = datetime.now(UTC).replace(microsecond=0)
    deadline = start + timedelta(hours=1)
    clock = SteppedClock(start)
    held: list[str] = []

    @contextmanager
    def hold(table: LaneTable) -> Iterator[bool]:
        held.append(f"up {table.name}")
        clock.at = deadline + timedelta(seconds=1)  # the window closes while this table is being read
        yield True
        held.append(f"down {table.name}")

    plan = {"clusters": [{"id": f"c0{lane + 1}", "engine": "local",
                          "tables": [planned_table(n, o, boost=True) for o, n in enumerate(pair)]}
                         for lane, pair in enumerate((names[:2], names[2:]))]}
    store = open_store(f"file://{tmp_path}/dest")
    lanes = local_lanes(PlanDocument.from_json(plan))
    outcomes = run_lanes(ddb, store, "eu-west-1", lanes, ScanSettings(read_units_per_second=0),
                         ControllerLimits(max_scans=1), start, hold, deadline=deadline, now=clock)

    assert len(outcomes) == 4
    (done,) = [o for o in outcomes if o.status == "ok"]
    assert done.boosted and done.items == 20 and done.started_at == start.isoformat()
    assert held == [f"up {done.name}", f"down {done.name}"]  # its boost was held to its end, then put back
    for outcome in outcomes:
        if outcome is not done:
            assert outcome.status == "not run", outcome
            assert outcome.error == f"not started: the window closed at {deadline}"
            assert outcome.started_at is None and not outcome.boosted
    backed_up = {m.parent.parent.name for m in (tmp_path / "dest").rglob("hippolyte-manifest.json")}
    assert backed_up == {done.name}


def test_a_night_whose_window_has_closed_starts_nothing_and_says_so(dynalite_server: Any, unique_name: str,
                                                                    tmp_path: Path) -> None:
    """Through the module: a plan whose window closed seconds ago starts no table; the task fails naming them
    `not run`, and the progress file says why."""
    ddb = client("dynamodb", dynalite_server.url)
    names = [f"{unique_name}-{n}" for n in range(2)]
    for name in names:
        create_table(ddb, name, rcu=100, wcu=50)
        put_items(ddb, name, simple_items(5))
    started = datetime.now(UTC) - timedelta(seconds=3605)
    plan = {"window_s": 3600, "window": {"starts_at": started.isoformat()},
            "clusters": [{"id": "c01", "engine": "local",
                          "tables": [planned_table(n, o, boost=False) for o, n in enumerate(names)]}]}
    progress = tmp_path / "progress.log"
    run = run_module("dynamodb_scan_backup", {
        "plan": plan, "destination": f"file://{tmp_path}/dest", "region": "eu-west-1", "run_id": "night-1",
        "endpoint_url": dynalite_server.url, "autoscaling": False, "progress_path": str(progress)})
    assert run.failed
    assert sorted(run.result["not_run"]) == sorted(names) and run.result["failed_tables"] == []
    assert "not run, the window closed at" in run.result["msg"]
    assert {t["status"] for t in run.result["tables"]} == {"not run"}
    assert not list((tmp_path / "dest").rglob("hippolyte-manifest.json"))
    assert all("NOT RUN: not started: the window closed at" in line for line in progress.read_text().splitlines())


def test_once_another_run_took_the_lease_over_no_table_starts_and_the_module_names_it(
        dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """The run's keeper could not renew (controller suspended): the next run takes the lease over while this run's
    first table is read. That table finishes; no later table starts, each `not run` naming the new holder. Through
    the module, a run whose lease was already taken over starts nothing and its message says so."""
    ddb = client("dynamodb", dynalite_server.url)
    names = [f"{unique_name}-{n}" for n in range(3)]
    for name in names:
        create_table(ddb, name, rcu=100, wcu=50)
        put_items(ddb, name, simple_items(5))
    store = open_store(f"file://{tmp_path}/dest")
    start = datetime.now(UTC).replace(microsecond=0)
    mine = run_lease.take(store, LEASE_ACCOUNT, "eu-west-1", "night-1", "cron", start + timedelta(minutes=10), start)
    late = start + timedelta(minutes=11)  # past its expiry: the next run's take succeeds

    @contextmanager
    def hold(table: LaneTable) -> Iterator[bool]:
        if table.name == names[0]:
            run_lease.take(store, LEASE_ACCOUNT, "eu-west-1", "night-2", "awx", late + timedelta(minutes=10), late)
        yield False

    plan = {"clusters": [{"id": "c01", "engine": "local",
                          "tables": [planned_table(n, o, boost=True) for o, n in enumerate(names)]}]}
    lanes = local_lanes(PlanDocument.from_json(plan))
    outcomes = run_lanes(ddb, store, "eu-west-1", lanes, ScanSettings(read_units_per_second=0),
                         ControllerLimits(max_scans=1), start, hold,
                         lease_lost=lambda: run_lease.lost_to(store, LEASE_ACCOUNT, "eu-west-1", mine.lease.nonce))

    assert [(o.name, o.status) for o in outcomes] == [(names[0], "ok"), (names[1], "not run"), (names[2], "not run")]
    for outcome in outcomes[1:]:
        assert outcome.error.startswith("not started: the run's lease lost to awx (run night-2 on "), outcome.error
        assert outcome.error.endswith(f" at {late.isoformat()}")
    assert not run_lease.release(store, LEASE_ACCOUNT, "eu-west-1", mine.lease.nonce)  # not this run's any more

    plan["window_s"], plan["window"] = 3600, {"starts_at": start.isoformat()}
    run = run_module("dynamodb_scan_backup", {
        "plan": plan, "destination": f"file://{tmp_path}/dest", "region": "eu-west-1", "run_id": "night-1",
        "endpoint_url": dynalite_server.url, "autoscaling": False,
        "lease": {"account_id": LEASE_ACCOUNT, "nonce": mine.lease.nonce}})
    assert run.failed and sorted(run.result["not_run"]) == sorted(names)
    assert run.result["lease_lost"].startswith("lease lost to awx (run night-2 on "), run.result
    assert "tables started after that may have been backed up twice" in run.result["msg"]
    assert "not run, the lease lost: " in run.result["msg"]
