"""The demo behind `make demo`: a real nightly backup and a restore, against local AWS stand-ins.

1. builds the collection and installs it into demo-output/collections,
2. starts dynalite (DynamoDB) on a free 127.0.0.1 port,
3. seeds sample tables: orders (GSI + LSI), every-type (every attribute type, a 390 KB item),
   sessions (on demand), and scratch-tmp (excluded by the inventory),
4. runs playbooks/backup.yml on the embedded inventory, then restores orders with playbooks/restore.yml,
5. compares the restored table with the source, prints where the backup, its manifest and the report are,
   and stops the servers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "demo-output"
BIN = Path(sys.executable).parent
sys.path[:0] = [str(REPO / "tools"), str(REPO)]

import boto3  # noqa: E402
import stand_ins  # noqa: E402

from tests.support.items import big_item, every_type_item  # noqa: E402
from tests.support.tables import canonical, put_items, scan_all, simple_items, wait_active  # noqa: E402

REGION = "eu-west-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo-secret-key"}

INVENTORY = """\
# The demo's inventory: one host = one account and region (here a local dynalite).
all:
  vars:
    hippolyte_destination: file://{out}/backups
    hippolyte_window: {{start: "00:00", end: "07:00", timezone: UTC}}
    hippolyte_engine: local
    hippolyte_read_percentage: 0.5
    hippolyte_report_dir: {out}/reports
  hosts:
    demo-eu:
      ansible_connection: local
      ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
      hippolyte_region: {region}
      hippolyte_endpoint_url: {endpoint}
      hippolyte_autoscaling: false  # dynalite has no Application Auto Scaling
      hippolyte_include: ["orders", "every-type", "sessions"]
      hippolyte_exclude: ["*-tmp"]
"""


def say(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def install_collection(env: dict[str, str]) -> Path:
    collections = OUT / "collections"
    build = OUT / "build"
    build.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(build)],
                   cwd=REPO, check=True, env=env, stdout=subprocess.DEVNULL)
    (artifact,) = build.glob("hippolyte-dynamodb-*.tar.gz")
    # amazon.aws ships with the ansible package; --no-deps keeps the install offline.
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p",
                    str(collections), str(artifact)], check=True, env=env, stdout=subprocess.DEVNULL)
    return collections


def seed(ddb: object) -> None:
    ddb.create_table(
        TableName="orders", BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": 50},
        KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "order", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                              (("customer", "S"), ("order", "N"), ("placed", "S"), ("status", "S"))],
        LocalSecondaryIndexes=[{"IndexName": "by-placed", "Projection": {"ProjectionType": "ALL"},
                                "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                                              {"AttributeName": "placed", "KeyType": "RANGE"}]}],
        GlobalSecondaryIndexes=[{"IndexName": "by-status", "Projection": {"ProjectionType": "KEYS_ONLY"},
                                 "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                                 "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 10}}])
    key = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    ddb.create_table(TableName="every-type", KeySchema=key, AttributeDefinitions=attrs,
                     ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 100})
    ddb.create_table(TableName="sessions", KeySchema=key, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST")
    ddb.create_table(TableName="scratch-tmp", KeySchema=key, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST")
    for name in ("orders", "every-type", "sessions", "scratch-tmp"):
        wait_active(ddb, name)
    put_items(ddb, "orders", ({"customer": {"S": f"c{n % 400:04d}"}, "order": {"N": str(n)},
                               "placed": {"S": f"2026-11-{1 + n % 21:02d}"}, "status": {"S": ("NEW", "PAID")[n % 2]},
                               "total": {"N": f"{n % 997}.{n % 100:02d}"}} for n in range(5000)))
    put_items(ddb, "every-type", [every_type_item(f"k{n}") for n in range(200)] + [big_item("big")])
    put_items(ddb, "sessions", simple_items(3000))
    put_items(ddb, "scratch-tmp", simple_items(10))


def playbook(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "ansible-playbook"), *args], cwd=OUT, check=True, env=env)


def main() -> int:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    # yaml: the role's printed summary reads as lines, not a JSON list of strings.
    env = dict(os.environ, **CREDENTIALS, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_CALLBACK_RESULT_FORMAT="yaml",
               ANSIBLE_HOME=str(OUT / "ansible-home"))
    say("Installing the collection into demo-output/collections")
    env["ANSIBLE_COLLECTIONS_PATH"] = str(install_collection(env))

    say("Starting dynalite (local DynamoDB)")
    server = stand_ins.start("dynalite", OUT / "logs")
    print(f"dynalite: {server.url} (pid {server.pid})")
    try:
        ddb = boto3.client("dynamodb", endpoint_url=server.url, region_name=REGION,
                           aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
        say("Seeding sample tables: orders (GSI + LSI), every-type, sessions (on demand), scratch-tmp (excluded)")
        seed(ddb)
        inventory = OUT / "inventory.yml"
        inventory.write_text(INVENTORY.format(out=OUT, region=REGION, endpoint=server.url))

        say("ansible-playbook hippolyte.dynamodb.backup -i demo-output/inventory.yml")
        playbook(env, "hippolyte.dynamodb.backup", "-i", str(inventory))
        say("ansible-playbook hippolyte.dynamodb.restore -i demo-output/inventory.yml -e table=orders "
            "-e target=orders-restored")
        playbook(env, "hippolyte.dynamodb.restore", "-i", str(inventory), "-e", "table=orders",
                 "-e", "target=orders-restored")

        same = canonical(scan_all(ddb, "orders")) == canonical(scan_all(ddb, "orders-restored"))
        say(f"orders-restored {'equals' if same else 'DIFFERS FROM'} orders, item for item")
        manifests = sorted((OUT / "backups").rglob("hippolyte-manifest.json"))
        for manifest in manifests:
            doc = json.loads(manifest.read_text())
            print(f"{doc['table']:<11} {doc['item_count']:>6} items  {doc['byte_count']:>8} bytes  {manifest}")
        for kind in ("backup", "plan"):
            found = sorted((OUT / "reports").glob(f"*-{kind}-*.md"))
            print(f"{kind} report: {found[-1] if found else 'none written'}")
        print(f"plan Gantt chart: {next((OUT / 'reports').glob('*.svg'), 'none written')}")
        print(f"inventory used: {inventory}")
        return 0 if same and len(manifests) == 3 else 1
    finally:
        server.stop()
        print(f"stopped dynalite (pid {server.pid})")


if __name__ == "__main__":
    sys.exit(main())
