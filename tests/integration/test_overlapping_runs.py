"""Two nights on one account that overlap: the backup role run twice at once through ansible-playbook,
against dynalite (UpdateTable and tags are real there). The second run starts while the first one reads
a table it boosted; neither may stack a boost on the other's nor take the other's boost back. The local engine
raises a table's boost just before its backup and lowers it right after, so either run may boost a table the
other is not reading: what must never happen is a boost on a boost, or a boost lowered under its owner."""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import (
    DEFAULT_TAG_KEY,
    parse_record,
)
from tests.conftest import client
from tests.support.ansible_run import BIN, REPO, ansible_env, run_module
from tests.support.dynamodb_proxy import DynamoDBProxy
from tests.support.inventory import inventory
from tests.support.tables import create_table, put_items, simple_items
from tests.support.throughput_fixtures import aws_args

ORIGINAL_RCU = 5
ITEMS = 60


@dataclass
class Sample:
    at: float
    rcu: int
    run: str | None  # run id of the capacity record on the table, None when there is none


@dataclass
class Watcher:
    """Samples every table's read capacity and record owner until stopped (what an operator would see)."""

    ddb: Any
    names: list[str]
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            for name in self.names:
                table = self.ddb.describe_table(TableName=name)["Table"]
                tags = self.ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
                record = parse_record(tags, DEFAULT_TAG_KEY)
                self.samples.setdefault(name, []).append(Sample(
                    time.time(), int(table["ProvisionedThroughput"]["ReadCapacityUnits"]),
                    record.run_id if record else None))
            time.sleep(0.1)

    def owners(self, name: str) -> set[str]:
        return {s.run for s in self.samples.get(name, []) if s.run}


@dataclass
class Finished:
    returncode: int
    stdout: str


def start_run(inv: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(BIN / "ansible-playbook"), "playbooks/backup.yml", "-i", str(inv)],
                            cwd=REPO, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def two_overlapping_runs(inv: Path, watcher: Watcher, second_inv: Path | None = None) -> tuple[Finished, Finished]:
    """The first run, then the second (with `second_inv` when given) once the first has boosted a table."""
    sampler = threading.Thread(target=watcher.run, daemon=True)
    sampler.start()
    first = second = None
    try:
        first = start_run(inv)
        deadline = time.monotonic() + 300
        while not any(watcher.owners(n) for n in watcher.names):
            assert first.poll() is None and time.monotonic() < deadline, "the first run ended before boosting"
            time.sleep(0.1)
        second = start_run(second_inv or inv)
        first_out, _first_err = first.communicate(timeout=600)
        second_out, _second_err = second.communicate(timeout=600)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
        watcher.stop.set()
        sampler.join(timeout=30)
    return Finished(first.returncode, first_out), Finished(second.returncode, second_out)


def test_two_overlapping_nights_never_stack_nor_take_back_each_others_boosts(
        dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    names = [f"{unique_name}-{n}" for n in range(3)]
    for name in names:
        create_table(ddb, name, rcu=ORIGINAL_RCU, wcu=ORIGINAL_RCU)
        put_items(ddb, name, simple_items(ITEMS, pad=1000))
    # A one-minute window and a 5% share: each table needs more than its share (a mandatory boost of
    # 5 -> 6 RCU), and reading ~60 KB at the boost's 1 added unit takes several seconds per table.
    # The proxy reports the tables' sizes, which dynalite leaves at 0 (the planner would see empty tables),
    # as four times their data (240 KB): at 8 KB a read unit (eventually consistent) the 5% share, 0.25 RCU, reads
    # 2 KB a second, 120 KB in the window, so the plan must boost whatever a table's start-up takes.
    watcher = Watcher(ddb, names)
    with DynamoDBProxy(dynalite_server.url, sizes={n: (ITEMS * 4000, ITEMS) for n in names}) as proxy:
        settings = {"hippolyte_include": names, "hippolyte_read_percentage": 0.05,
                    "hippolyte_window": {"start": "00:00", "end": "00:01", "timezone": "UTC"}}
        inv = inventory(tmp_path / "inventory.json", proxy.url, f"file://{tmp_path}/backups", **settings)
        # Another destination, so another lease: only the capacity records keep these two runs apart.
        other = inventory(tmp_path / "other.json", proxy.url, f"file://{tmp_path}/backups-2", **settings)
        first, second = two_overlapping_runs(inv, watcher, other)
    assert first.returncode == 0, first.stdout[-4000:]
    assert second.returncode == 0, second.stdout[-4000:]

    reports = sorted((tmp_path / "reports").glob("night-backup-*.md"))
    assert len(reports) == 2
    plans = sorted((tmp_path / "reports").glob("night-plan-*.json"))
    planned = {t["name"]: t for c in json.loads(plans[0].read_text())["clusters"] for t in c["tables"]}
    manifests = {name: sorted(m.stat().st_mtime for m in tmp_path.glob("backups*/**/hippolyte-manifest.json")
                              if m.parent.parent.name == name) for name in names}
    assert all(len(m) == 2 for m in manifests.values()), manifests  # both runs backed up every table
    for name in names:
        samples = watcher.samples[name]
        boost = planned[name]["boost_rcu"]
        assert planned[name]["boosted"] and boost > ORIGINAL_RCU
        # Boosted once at a time: the capacity is the original or one run's boost, never a boost on a boost.
        assert {s.rcu for s in samples} <= {ORIGINAL_RCU, boost}, [s.rcu for s in samples]
        assert any(s.rcu == boost for s in samples), name
        # Every boost belongs to one run from the moment it is raised until it is lowered, and is lowered only
        # once that run's backup of the table is complete (a manifest written while it was held).
        start = None
        for before, sample in itertools.pairwise(samples):
            if sample.rcu == boost and before.rcu == ORIGINAL_RCU:
                start = sample
            elif sample.rcu == ORIGINAL_RCU and before.rcu == boost and start is not None:
                held = [x for x in samples if start.at <= x.at <= before.at]
                assert len({x.run for x in held if x.run}) == 1, (name, held)
                assert any(start.at - 1 <= m <= sample.at + 1 for m in manifests[name]), (name, start, sample)
                start = None
        assert samples[-1].rcu == ORIGINAL_RCU and samples[-1].run is None
        table = ddb.describe_table(TableName=name)["Table"]
        assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == ORIGINAL_RCU
        assert not ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags")
    # The second run planned on the original capacity, not on the first run's boost.
    second_plan = {t["name"]: t for c in json.loads(plans[1].read_text())["clusters"] for t in c["tables"]}
    assert all(second_plan[n]["rcu"] == ORIGINAL_RCU for n in names), second_plan


def test_a_backup_reads_on_its_own_boost_and_on_the_original_of_another_runs(
        dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=ORIGINAL_RCU, wcu=ORIGINAL_RCU)
    put_items(ddb, unique_name, simple_items(10))
    boosted = run_module("dynamodb_throughput", aws_args(dynalite_server.url, state="boosted", table=unique_name,
                                                         read_capacity=11, run_id="night-a", hold_s=600,
                                                         autoscaling=False))
    assert boosted.result["changed"] is True, boosted.output

    def limit(**args: Any) -> float:
        run = run_module("dynamodb_scan_backup", aws_args(dynalite_server.url, table=unique_name,
                                                          destination=f"file://{tmp_path}/b", read_percentage=0.5,
                                                          **args))
        assert not run.failed, run.output
        return run.result["read_units_limit"]

    assert limit(run_id="night-a") == 5.5  # its own boost
    assert limit(run_id="night-b") == 2.5  # another run's boost: half the recorded original
    assert limit() == 5.5  # no run named: the table's current capacity, as before
