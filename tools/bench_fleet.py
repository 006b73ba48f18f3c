"""Benchmark of a night of many small tables on dynalite: prints figures, asserts nothing (`make bench-fleet`).

For each fleet size N (default 200 and 1,000 tables of 100 items each), in the same run and against the
same dynalite server:
  - the bare limit: one table after another, DescribeTable, a plain boto3 Scan, gzip the items to a file;
  - the product: `ansible-playbook playbooks/backup.yml` with `hippolyte_engine: local` on those tables,
    as a user runs it (reconcile, plan, every local lane in one module call, report).
It prints both wall times and their ratio (target: at most 8 at 1,000 tables).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tools"), str(REPO)]

import boto3  # noqa: E402
import stand_ins  # noqa: E402
from botocore.config import Config  # noqa: E402

from tests.support.ansible_run import ansible_env  # noqa: E402

REGION = "eu-west-1"
KEY, SECRET = "bench", "bench-secret"
ITEMS = 100


def ddb_client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name=REGION, aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET, config=Config(max_pool_connections=32))


def create_fleet(ddb: Any, prefix: str, count: int) -> list[str]:
    names = [f"{prefix}-{n:05d}" for n in range(count)]

    def create(name: str) -> None:
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         ProvisionedThroughput={"ReadCapacityUnits": 1000, "WriteCapacityUnits": 1000})
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


def bare_loop(ddb: Any, names: list[str], folder: Path) -> float:
    """What one table at a time costs at the least: describe, scan, gzip to a file."""
    clock = time.perf_counter()
    for name in names:
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
    return time.perf_counter() - clock


def role_night(url: str, prefix: str, folder: Path) -> tuple[float, str]:
    inventory = folder / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"fleet": {
        "ansible_connection": "local", "hippolyte_region": REGION, "hippolyte_endpoint_url": url,
        "hippolyte_destination": f"file://{folder}/backups", "hippolyte_engine": "local",
        "hippolyte_include": [f"{prefix}-*"], "hippolyte_autoscaling": False,
        "hippolyte_report_dir": str(folder / "reports"),
        "hippolyte_window": {"start": "00:00", "end": "23:59", "timezone": "UTC"}}}}}))
    env = ansible_env({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": REGION})
    clock = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "playbooks/backup.yml",
                           "-i", str(inventory)], capture_output=True, text=True, env=env, cwd=REPO, check=False)
    took = time.perf_counter() - clock
    if proc.returncode != 0:
        raise SystemExit(f"backup playbook failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    manifests = sum(1 for _manifest in (folder / "backups").rglob("hippolyte-manifest.json"))
    return took, f"{manifests} manifests"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, nargs="+", default=[200, 1000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = stand_ins.start("dynalite", Path(tmp))
        try:
            ddb = ddb_client(server.url)
            print(f"{'tables':>7} {'bare loop s':>12} {'role s':>8} {'ratio':>6}  written")
            for count in args.tables:
                prefix = f"fleet{count}"
                names = create_fleet(ddb, prefix, count)
                work = Path(tmp) / prefix
                (work / "bare").mkdir(parents=True)
                bare = bare_loop(ddb, names, work / "bare")
                role, written = role_night(server.url, prefix, work)
                print(f"{count:>7} {bare:>12.2f} {role:>8.2f} {role / bare:>6.1f}  {written}", flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    os.environ.setdefault("ANSIBLE_PYTHON_INTERPRETER", sys.executable)
    main()
