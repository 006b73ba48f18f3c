"""Benchmark of the local engine on dynalite: prints figures, asserts nothing (run with `make bench`).

On one table of ITEMS items of about 200 bytes, in the same run:
  - the raw loader: pre-built 25-item BatchWriteItem bodies sent over signed HTTP from 4 threads
    (the local limit for a restore; it also seeds the table),
  - the raw scan: a 4-segment parallel Scan over signed HTTP, each page parsed by the C json module
    and discarded (the local limit for a backup),
  - our backup (dynamodb_scan_backup's engine) and our restore (backup_restore's engine),
  - dynamodump backup and restore of the same table,
and the peak RSS of our backup at 50,000 and 500,000 items, each in a fresh process.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tools"), str(REPO / "build" / "collections"), str(REPO)]

import boto3  # noqa: E402
import stand_ins  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store  # noqa: E402
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table  # noqa: E402
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (  # noqa: E402
    RestoreSettings,
    count_items,
    restore_backup,
)

REGION = "eu-west-1"
KEY, SECRET = "bench", "bench-secret"


def ddb_client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name=REGION, aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET, config=Config(max_pool_connections=32))


def item(n: int) -> dict[str, Any]:
    # About 200 bytes: a key, a number, a short string and padding.
    return {"pk": {"S": f"customer-{n:09d}"}, "seq": {"N": str(n)}, "status": {"S": "SHIPPED"},
            "pad": {"S": "p" * 150}}


def create(ddb: Any, name: str) -> None:
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    while ddb.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
        time.sleep(0.05)


class RawClient:
    """DynamoDB over plain signed HTTP: botocore's SigV4Auth on an AWSRequest, one http.client
    connection per thread, bodies parsed only by the C json module. The local limit our engines
    are measured against, since it does nothing a backup or restore could skip."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/"
        self.host = urllib.parse.urlsplit(url).netloc
        self.auth = SigV4Auth(Credentials(KEY, SECRET), "dynamodb", REGION)
        self.local = threading.local()

    def call(self, target: str, body: bytes) -> dict[str, Any]:
        request = AWSRequest(method="POST", url=self.url, data=body, headers={
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{target}"})
        self.auth.add_auth(request)
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection(self.host, timeout=60)
        connection.request("POST", "/", body=body, headers=dict(request.headers.items()))
        response = connection.getresponse()
        doc = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"{target}: HTTP {response.status} {doc}")
        return doc


def write_bodies(name: str, count: int, offset: int = 0) -> list[bytes]:
    """BatchWriteItem bodies of 25 items each, built before any timing."""
    prefix = '{"RequestItems":{' + json.dumps(name) + ":["
    return [(prefix + ",".join(json.dumps({"PutRequest": {"Item": item(n)}}, separators=(",", ":"))
                               for n in range(first, min(first + 25, count))) + "]}}").encode()
            for first in range(offset, count, 25)]


def raw_load(url: str, name: str, count: int, threads: int = 4) -> tuple[float, float]:
    """Items/s and CPU µs per item of pre-built BatchWriteItem bodies sent from `threads` threads,
    resending unprocessed items."""
    client = RawClient(url)
    bodies = write_bodies(name, count)

    def load(part: int) -> None:
        for body in bodies[part::threads]:
            while True:
                left = client.call("BatchWriteItem", body).get("UnprocessedItems", {}).get(name)
                if not left:
                    break
                body = json.dumps({"RequestItems": {name: left}}).encode()

    wall, cpu = timed_threads(load, threads)
    return count / wall, cpu / count * 1e6


def raw_scan(url: str, name: str, segments: int = 4) -> tuple[float, float]:
    """Items/s and CPU µs per item of a `segments`-way parallel Scan over signed HTTP that parses each
    page and discards it."""
    client = RawClient(url)
    total = [0] * segments

    def scan(segment: int) -> None:
        request: dict[str, Any] = {"TableName": name, "Segment": segment, "TotalSegments": segments}
        while True:
            page = client.call("Scan", json.dumps(request).encode())
            total[segment] += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    wall, cpu = timed_threads(scan, segments)  # before summing: the threads fill `total`
    return sum(total) / wall, cpu / sum(total) * 1e6


def timed_threads(target: Any, count: int) -> tuple[float, float]:
    """Wall and CPU seconds (of this whole process) of `count` threads running `target`."""
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    start, cpu = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, time.process_time() - cpu


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=dict(os.environ, AWS_ACCESS_KEY_ID=KEY,
                                                                  AWS_SECRET_ACCESS_KEY=SECRET))
    return time.perf_counter() - start


def dynamodump(url: str, workdir: Path, mode: str, table: str, dest: str | None = None) -> float:
    port = url.rsplit(":", 1)[1]
    cmd = [str(Path(sys.executable).parent / "dynamodump"), "-m", mode, "-r", REGION, "--host", "127.0.0.1",
           "--port", port, "--accessKey", KEY, "--secretKey", SECRET, "-s", table, "--dumpPath", str(workdir),
           "--noConfirm", "--log", "ERROR"]
    if dest:
        cmd += ["-d", dest]
    return timed(cmd)


def peak_rss_mib() -> float:
    """This process's own peak RSS. Linux's ru_maxrss survives exec: a child started by a big parent (this
    bench, after loading the table) reports the parent's peak; /proc's VmHWM is the new program's own."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_child(url: str, table: str, folder: str) -> None:
    """Run one backup in this fresh process and print its peak RSS in MiB."""
    backup_table(ddb_client(url), open_store(f"file://{folder}"), table, REGION,
                 ScanSettings(read_units_per_second=0))
    print(peak_rss_mib())


def peak_rss(url: str, ddb: Any, count: int, workdir: Path) -> float:
    name = f"rss-{count}"
    create(ddb, name)
    raw_load(url, name, count)
    out = subprocess.run([sys.executable, __file__, "--rss-child", url, name, str(workdir / name)],
                         check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--rss-sizes", type=int, nargs="*", default=[50_000, 500_000])
    parser.add_argument("--rss-child", nargs=3, metavar=("URL", "TABLE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return

    with tempfile.TemporaryDirectory(prefix="hippolyte-bench-") as tmp:
        work = Path(tmp)
        server = stand_ins.start("dynalite", work / "logs")
        try:
            run(server.url, work, args.items, args.rss_sizes)
        finally:
            server.stop()


def run(url: str, work: Path, count: int, rss_sizes: list[int]) -> None:
    ddb = ddb_client(url)
    create(ddb, "bench")
    print(f"dynalite on this machine ({os.cpu_count()} cores), table of {count:,} items of about 200 bytes\n")

    load_limit, load_cpu = raw_load(url, "bench", count)  # also seeds the table
    scan_limit, scan_cpu = raw_scan(url, "bench")

    store = open_store(f"file://{work}/ours")
    cpu = time.process_time()
    result = backup_table(ddb, store, "bench", REGION, ScanSettings(workers=4, read_units_per_second=0))
    backup_cpu = (time.process_time() - cpu) / count * 1e6
    assert result.manifest["item_count"] == count, "backup lost items"
    backup = count / result.duration_s

    cpu = time.process_time()
    restored = restore_backup(ddb, store, result.folder, "bench-ours", RestoreSettings(verify=False))
    restore_cpu = (time.process_time() - cpu) / count * 1e6
    restore = count / restored.duration_s
    start = time.perf_counter()
    counted = count_items(ddb, "bench-ours", 8)
    verify_s = time.perf_counter() - start
    assert counted == count, f"restore wrote {counted} of {count}"

    dump_backup = count / dynamodump(url, work / "dump", "backup", "bench")
    dump_restore = count / dynamodump(url, work / "dump", "restore", "bench", "bench-dump")

    # CPU is this process's (dynalite's is apart): on a small machine it competes with the server's.
    rows = [("raw scan limit (4 segments, signed HTTP, C json)", scan_limit, scan_cpu),
            ("hippolyte backup (4 workers)", backup, backup_cpu),
            ("dynamodump backup", dump_backup, None),
            ("raw loader limit (4 threads, pre-built bodies)", load_limit, load_cpu),
            ("hippolyte restore (load)", restore, restore_cpu),
            ("dynamodump restore", dump_restore, None)]
    width = max(len(name) for name, _rate, _cpu in rows)
    for name, rate, cpu_us in rows:
        cpu_text = f"  {cpu_us:6.1f} µs CPU/item" if cpu_us is not None else ""
        print(f"{name:<{width}}  {rate:>9,.0f} items/s{cpu_text}")
    print(f"\nbackup:  {backup / scan_limit:.0%} of the raw scan (target >= 80%), "
          f"{backup / dump_backup:.2f}x dynamodump")
    print(f"restore: {restore / load_limit:.0%} of the raw loader (target >= 90%), "
          f"{restore / dump_restore:.2f}x dynamodump; the count check after it took {verify_s:.1f} s more")

    if rss_sizes:
        peaks = {n: peak_rss(url, ddb, n, work) for n in rss_sizes}
        print("\npeak RSS of a backup: " + ", ".join(f"{n:,} items {mib:.0f} MiB" for n, mib in peaks.items()))
        low, high = min(peaks.values()), max(peaks.values())
        print(f"difference {high / low - 1:.1%} (target < 20%)")


if __name__ == "__main__":
    main()
