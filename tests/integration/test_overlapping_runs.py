"""Two nights on one account that overlap: the backup role run twice at once through ansible-playbook,
against dynalite (UpdateTable and tags are real there). The second run starts while the first one reads
the tables it boosted; neither may stack a boost on the other's nor take the other's boost back."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.throughput import DEFAULT_TAG_KEY, parse_record
from tests.conftest import client
from tests.integration.test_playbooks import inventory
from tests.support.ansible_run import BIN, REPO, ansible_env, run_module
from tests.support.dynamodb_proxy import DynamoDBProxy
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


def two_overlapping_runs(inv: Path, watcher: Watcher) -> tuple[Finished, Finished, float]:
    """The first run, then the second once the first has boosted every table; and when the first ended."""
    sampler = threading.Thread(target=watcher.run, daemon=True)
    sampler.start()
    first = second = None
    try:
        first = start_run(inv)
        deadline = time.monotonic() + 300
        while not all(watcher.owners(n) for n in watcher.names):
            assert first.poll() is None and time.monotonic() < deadline, "the first run ended before boosting"
            time.sleep(0.1)
        second = start_run(inv)
        first_out, _ = first.communicate(timeout=600)
        first_ended = time.time()
        second_out, _ = second.communicate(timeout=600)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
        watcher.stop.set()
        sampler.join(timeout=30)
    return Finished(first.returncode, first_out), Finished(second.returncode, second_out), first_ended


def test_two_overlapping_nights_never_stack_nor_take_back_each_others_boosts(
        dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    names = [f"{unique_name}-{n}" for n in range(3)]
    for name in names:
        create_table(ddb, name, rcu=ORIGINAL_RCU, wcu=ORIGINAL_RCU)
        put_items(ddb, name, simple_items(ITEMS, pad=1000))
    # A one-minute window and a 5% share: each table needs more than its share (a mandatory boost of
    # 5 -> 6 RCU), and reading ~60 KB at the boost's 1 added unit takes several seconds per table.
    # The proxy reports the tables' sizes, which dynalite leaves at 0 (the planner would see empty tables).
    watcher = Watcher(ddb, names)
    with DynamoDBProxy(dynalite_server.url, sizes={n: (ITEMS * 1000, ITEMS) for n in names}) as proxy:
        inv = inventory(tmp_path / "inventory.json", proxy.url, f"file://{tmp_path}/backups",
                        hippolyte_include=names, hippolyte_read_percentage=0.05,
                        hippolyte_window={"start": "00:00", "end": "00:01", "timezone": "UTC"})
        first, second, first_ended = two_overlapping_runs(inv, watcher)
    assert first.returncode == 0, first.stdout[-4000:]
    assert second.returncode == 0, second.stdout[-4000:]

    reports = sorted((tmp_path / "reports").glob("night-backup-*.md"))
    assert len(reports) == 2
    plans = sorted((tmp_path / "reports").glob("night-plan-*.json"))
    planned = {t["name"]: t for c in json.loads(plans[0].read_text())["clusters"] for t in c["tables"]}
    (first_run,) = {run for name in names for run in watcher.owners(name)}  # the second never wrote a record
    # The first run puts capacity back only once it has read every table: after its last manifest (the
    # earlier of each table's two backups; the second run starts later and reads slower).
    manifests = {name: sorted(m.stat().st_mtime for m in (tmp_path / "backups").rglob("hippolyte-manifest.json")
                              if m.parent.parent.name == name) for name in names}
    assert all(len(m) == 2 for m in manifests.values()), manifests
    first_run_read_all = max(m[0] for m in manifests.values())
    for name in names:
        samples = watcher.samples[name]
        boost = planned[name]["boost_rcu"]
        assert planned[name]["boosted"] and boost > ORIGINAL_RCU
        # Boosted once: the capacity is the original or the first run's boost, never a boost on a boost.
        assert {s.rcu for s in samples} <= {ORIGINAL_RCU, boost}, [s.rcu for s in samples]
        boosted_at = next(s.at for s in samples if s.rcu == boost)
        back = next(s.at for s in samples if s.at > boosted_at and s.rcu == ORIGINAL_RCU)
        # Never taken back while the first run was reading: only by itself, at its end.
        assert first_run_read_all <= back <= first_ended, (name, first_run_read_all, back, first_ended)
        assert all(s.run == first_run for s in samples if boosted_at <= s.at < back), name
        assert samples[-1].rcu == ORIGINAL_RCU and samples[-1].run is None
        table = ddb.describe_table(TableName=name)["Table"]
        assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == ORIGINAL_RCU
        assert not ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags")

    # The second run planned on the original capacity, not on the first run's boost, and says who holds what.
    second_plan = {t["name"]: t for c in json.loads(plans[1].read_text())["clusters"] for t in c["tables"]}
    assert all(second_plan[n]["rcu"] == ORIGINAL_RCU for n in names), second_plan
    second_report = reports[1].read_text()
    held_section = second_report.split("## Boosted by another run, still live")[1]
    for name in names:
        assert f"| {name} | held by run {first_run} until" in second_report, second_report
        assert f"**{name}**: run {first_run}" in held_section, second_report


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
