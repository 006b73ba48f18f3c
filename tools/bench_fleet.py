"""Benchmark of a night of many small tables on dynalite: prints figures, asserts nothing (`make bench-fleet`).

For each fleet size N (default 500 and 1,000 tables of 100 items each, at 100 RCU) and each added latency
(default none and 10 ms per request, through a delaying proxy: a controller beside real AWS waits that long,
the loopback stand-in well under a millisecond), in the same run and against the same dynalite server:
  - the bare limit: one table after another, DescribeTable, a plain boto3 Scan, gzip the items to a file;
    and the same loop on 8 threads;
  - the product: `ansible-playbook playbooks/backup.yml` with `hippolyte_engine: local`, as a user runs it
    (reconcile, plan, every local lane in one module call, report), on one table (the role's fixed cost) and on
    the N tables. What the N tables add is the second minus the first.
It prints the wall times, what the tables add against each loop, the night's planned and actual length (the
plan's makespan against the last table's end in the progress log, both from the plan's start) and, through the
proxy, the requests per table.
Targets (issue "the night as planned"): with 10 ms, the added time at most 2x the 8-thread loop; without added
latency, at most 4x the sequential loop; the actual length within 25% (or 30 s) of the planned one.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tools"), str(REPO)]

import boto3  # noqa: E402
import stand_ins  # noqa: E402
from botocore.config import Config  # noqa: E402

from tests.support.ansible_run import ansible_env  # noqa: E402
from tests.support.delaying_proxy import DelayingProxy  # noqa: E402

REGION = "eu-west-1"
KEY, SECRET = "bench", "bench-secret"
ITEMS = 100


def ddb_client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name=REGION, aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET, config=Config(max_pool_connections=32))


def create_fleet(ddb: Any, prefix: str, count: int, rcu: int) -> list[str]:
    names = [f"{prefix}-{n:05d}" for n in range(count)]

    def create(name: str) -> None:
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": 1000})
        while ddb.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
            time.sleep(0.02)
        items = [{"PutRequest": {"Item": {"pk": {"S": f"{name}-{i:04d}"}, "n": {"N": str(i)},
                                          "pad": {"S": "p" * 100}}}} for i in range(ITEMS)]
        for start in range(0, ITEMS, 25):
            requests = items[start:start + 25]
            while requests:
                left = ddb.batch_write_item(RequestItems={name: requests}).get("UnprocessedItems", {})
                requests = left.get(name, [])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, names))
    return names


def back_up_one(ddb: Any, name: str, folder: Path) -> None:
    """What one table costs at the least: describe, scan, gzip to a file."""
    ddb.describe_table(TableName=name)
    kwargs: dict[str, Any] = {"TableName": name}
    with gzip.open(folder / f"{name}.json.gz", "wt", compresslevel=1) as out:
        while True:
            page = ddb.scan(**kwargs)
            for item in page["Items"]:
                out.write(json.dumps({"Item": item}, default=str) + "\n")
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def bare_loop(ddb: Any, names: list[str], folder: Path, threads: int = 1) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda name: back_up_one(ddb, name, folder), names))
    return time.perf_counter() - clock


class Night:
    def __init__(self, took_s: float, manifests: int, planned_s: float, actual_s: float, output: str) -> None:
        self.took_s, self.manifests, self.planned_s, self.actual_s = took_s, manifests, planned_s, actual_s
        self.output = output

    def slowest_tasks(self, count: int) -> list[str]:
        """The profile_tasks callback's summary lines (slowest first), when --task-times enabled it."""
        summary = self.output.rsplit("=" * 20, 1)[-1]
        return [line.strip() for line in summary.splitlines() if line.strip().endswith("s")][:count]


def role_night(url: str, prefix: str, folder: Path, task_times: bool = False) -> Night:
    folder.mkdir(parents=True, exist_ok=True)
    inventory = folder / "inventory.json"
    reports = folder / "reports"
    inventory.write_text(json.dumps({"all": {"hosts": {"fleet": {
        "ansible_connection": "local", "hippolyte_region": REGION, "hippolyte_endpoint_url": url,
        "hippolyte_destination": f"file://{folder}/backups", "hippolyte_engine": "local",
        "hippolyte_include": [f"{prefix}-*"], "hippolyte_autoscaling": False,
        "hippolyte_report_dir": str(reports),
        "hippolyte_window": {"start": "00:00", "end": "23:59", "timezone": "UTC"}}}}}))
    env = ansible_env({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": REGION})
    if task_times:
        env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
    clock = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "playbooks/backup.yml",
                           "-i", str(inventory)], capture_output=True, text=True, env=env, cwd=REPO, check=False)
    took = time.perf_counter() - clock
    if proc.returncode != 0:
        raise SystemExit(f"backup playbook failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    manifests = sum(1 for _manifest in (folder / "backups").rglob("hippolyte-manifest.json"))
    (plan_file,) = reports.glob("*-plan-*.json")
    plan = json.loads(plan_file.read_text())
    start = datetime.fromisoformat(plan["window"]["starts_at"])
    (progress,) = reports.glob("*-progress-*.log")
    ends = [datetime.fromisoformat(line.split(" ", 1)[0]) for line in progress.read_text().splitlines() if line]
    return Night(took, manifests, float(plan["makespan_s"]), (max(ends) - start).total_seconds(), proc.stdout)


class Round:
    """One round's figures: the two loops, the role on one table and on the fleet, what the fleet adds."""

    def __init__(self, loop: float, threaded: float, one: Night, night: Night) -> None:
        self.loop, self.threaded, self.one, self.night = loop, threaded, one, night
        self.added = night.took_s - one.took_s


def one_round(args: argparse.Namespace, url: str, ddb: Any, names: list[str], prefix: str, count: int,
              latency: float, proxy: DelayingProxy | None, work: Path) -> Round:
    """The loops, then the role on one table and on the fleet, back to back: each round's ratios compare runs
    made under the same load, so a machine whose speed drifts between rounds still gives comparable ratios."""
    loop = bare_loop(ddb, names, work / "loop")
    threaded = bare_loop(ddb, names, work / "threads", threads=8)
    one = role_night(url, "solo", work / "one", args.task_times)
    if proxy:
        proxy.operations.clear()
    night = role_night(url, prefix, work / "night", args.task_times)
    requests = f"{sum(proxy.operations.values()) / count:>9.1f}" if proxy else f"{'-':>9}"
    result = Round(loop, threaded, one, night)
    print(f"{count:>6} {latency:>4g} | {loop:>7.2f} {threaded:>7.2f} | {one.took_s:>8.2f} "
          f"{night.took_s:>8.2f} {result.added:>7.2f} {result.added / loop:>6.1f} {result.added / threaded:>6.1f} | "
          f"{night.planned_s:>7.1f} {night.actual_s:>8.1f} | {requests}  {night.manifests} manifests", flush=True)
    if proxy:
        top = ", ".join(f"{op} {n / count:.1f}" for op, n in proxy.operations.most_common(8))
        print(f"{'':>13} requests per table by operation: {top}", flush=True)
    for run, label in ((one, "1 table"), (night, f"{count} tables")) if args.task_times else ():
        print(f"{'':>13} slowest tasks on {label}:", flush=True)
        for line in run.slowest_tasks(14):
            print(f"{'':>15} {line}", flush=True)
    return result


def print_median(rounds: list[Round], count: int, latency: float) -> None:
    """The median of each figure over the rounds; the ratios are the medians of each round's own ratio."""
    figures = [[r.loop, r.threaded, r.one.took_s, r.night.took_s, r.added, r.added / r.loop, r.added / r.threaded,
                r.night.planned_s, r.night.actual_s] for r in rounds]
    loop, threaded, one, night, added, per_loop, per_threaded, planned, actual = (
        statistics.median(column) for column in zip(*figures, strict=True))
    print(f"{'median':>6} {latency:>4g} | {loop:>7.2f} {threaded:>7.2f} | {one:>8.2f} {night:>8.2f} {added:>7.2f} "
          f"{per_loop:>6.1f} {per_threaded:>6.1f} | {planned:>7.1f} {actual:>8.1f} | {len(rounds)} rounds of {count} "
          "tables", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 10.0],
                        help="added to every request by a delaying proxy (0: straight to the stand-in)")
    parser.add_argument("--rcu", type=int, default=100, help="each table's provisioned read capacity")
    parser.add_argument("--task-times", action="store_true",
                        help="also print the slowest tasks of each role run (ansible.posix.profile_tasks)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds per fleet size and latency; with more than one, a median row follows")
    args = parser.parse_args()
    print(f"{'tables':>6} {'+ms':>4} | {'loop s':>7} {'8-thr s':>7} | {'role 1 s':>8} {'role N s':>8} "
          f"{'added s':>7} {'/loop':>6} {'/8-thr':>6} | {'plan s':>7} {'actual s':>8} | {'req/table':>9}  written")
    with tempfile.TemporaryDirectory() as tmp:
        server = stand_ins.start("dynalite", Path(tmp))
        try:
            direct = ddb_client(server.url)
            create_fleet(direct, "solo", 1, args.rcu)
            for count in args.tables:
                prefix = f"fleet{count}"
                names = create_fleet(direct, prefix, count, args.rcu)
                for latency in args.latency_ms:
                    rounds = []
                    with ExitStack() as stack:
                        proxy = DelayingProxy(server.url, latency / 1000) if latency else None
                        if proxy:
                            stack.enter_context(proxy)
                        url = proxy.url if proxy else server.url
                        ddb = ddb_client(url)
                        work = Path(tmp) / f"{prefix}-{latency:g}ms"
                        role_night(url, "solo", work / "warm-up", args.task_times)  # warms caches, not counted
                        for n in range(args.repeat):
                            rounds.append(one_round(args, url, ddb, names, prefix, count, latency, proxy,
                                                    work / f"round-{n}"))
                    if args.repeat > 1:
                        print_median(rounds, count, latency)
        finally:
            server.stop()
    print("targets: +10 ms: added/8-thr at most 2; +0 ms at 100 RCU: added/loop at most 4; "
          "actual within 25% (or 30 s) of plan")


if __name__ == "__main__":
    os.environ.setdefault("ANSIBLE_PYTHON_INTERPRETER", sys.executable)
    main()
