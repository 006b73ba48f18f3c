"""Fault bench (run with `make bench-faults`): backups and restores through a proxy injecting faults.

RUNS seeded runs alternate moto server and dynalite, file:// and s3:// destinations; each run draws a
fault rate between 2% and 5%, backs up a table of every-attribute-type items with dynamodb_scan_backup
and restores it with backup_restore (the real modules, run by Ansible), every DynamoDB and S3 call going
through tests/support/fault_proxy.py. A run is correct (both report success, copy equal to the source),
a clean failure (a module reports failure), or a silent corruption (success reported on a wrong copy),
which must never happen: the exit status is 1 if one did.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tools"), str(REPO)]
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench-secret", AWS_DEFAULT_REGION="eu-west-1")
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_var, None)

import boto3  # noqa: E402
import stand_ins  # noqa: E402

from tests.support.ansible_run import run_module  # noqa: E402
from tests.support.fault_proxy import KINDS, FaultProxy  # noqa: E402
from tests.support.items import every_type_item  # noqa: E402
from tests.support.tables import canonical, create_table, put_items, scan_all  # noqa: E402

REGION = "eu-west-1"
ACCOUNT = "123456789012"


def one_run(number: int, ddb_url: str, s3_url: str, scheme: str, rate: float, seed: int, items: int,
            workdir: Path) -> tuple[str, Counter[str], str]:
    """(outcome, faults injected, detail) of one backup + restore."""
    name = f"fault-{number:02d}-{seed}"
    ddb = boto3.client("dynamodb", region_name=REGION, endpoint_url=ddb_url)
    create_table(ddb, name, rcu=None)
    put_items(ddb, name, [every_type_item(f"k{n:05d}") for n in range(items)])
    destination = f"file://{workdir}/{name}"
    if scheme == "s3":
        boto3.client("s3", region_name=REGION, endpoint_url=s3_url).create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        destination = f"s3://{name}/backups"
    with FaultProxy(ddb_url, rate, seed) as ddb_proxy, FaultProxy(s3_url, rate, seed + 1) as s3_proxy:
        common = {"destination": destination, "table": name, "account_id": ACCOUNT, "region": REGION,
                  "endpoint_url": ddb_proxy.url, "s3_endpoint_url": s3_proxy.url}
        backup = run_module("dynamodb_scan_backup", {**common, "read_units_per_second": 0, "segments": 4})
        restore = None if backup.failed else run_module("backup_restore", {**common, "target": f"{name}-copy"})
    faults = ddb_proxy.injected + s3_proxy.injected
    if backup.failed or restore is None:
        return "clean failure", faults, f"backup: {str(backup.result.get('msg'))[:100]}"
    if restore.failed:
        return "clean failure", faults, f"restore: {str(restore.result.get('msg'))[:100]}"
    if canonical(scan_all(ddb, f"{name}-copy")) != canonical(scan_all(ddb, name)):
        return "silent corruption", faults, "restore reported success on a copy that differs"
    return "correct", faults, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--items", type=int, default=300)
    args = parser.parse_args()
    draw = random.Random(args.seed)
    outcomes: Counter[str] = Counter()
    faults: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        servers = {kind: stand_ins.start(kind, Path(tmp) / f"{kind}-logs") for kind in ("moto", "dynalite")}
        try:
            print(f"{'run':>3}  {'server':8} {'dest':4} {'rate':>5}  {'faults':>6}  {'s':>5}  outcome")
            for number in range(args.runs):
                kind = ("moto", "dynalite")[number % 2]
                scheme = ("file", "s3")[number // 2 % 2]
                rate = round(draw.uniform(0.02, 0.05), 3)
                start = time.monotonic()
                outcome, injected, detail = one_run(number, servers[kind].url, servers["moto"].url, scheme, rate,
                                                    draw.randrange(10**6), args.items, Path(tmp))
                outcomes[outcome] += 1
                faults += injected
                print(f"{number:>3}  {kind:8} {scheme:4} {rate:>5.1%}  {sum(injected.values()):>6}  "
                      f"{time.monotonic() - start:>5.1f}  {outcome}{'  (' + detail + ')' if detail else ''}",
                      flush=True)
        finally:
            for server in servers.values():
                server.stop()
    print(f"\nruns: {args.runs} ({args.items} items each, every attribute type)")
    print("faults injected: " + ", ".join(f"{kind} {faults[kind]}" for kind in KINDS)
          + f" (total {sum(faults.values())})")
    print(f"correct: {outcomes['correct']}")
    print(f"clean failures: {outcomes['clean failure']}")
    print(f"silent corruptions: {outcomes['silent corruption']}")
    return 1 if outcomes["silent corruption"] else 0


if __name__ == "__main__":
    sys.exit(main())
