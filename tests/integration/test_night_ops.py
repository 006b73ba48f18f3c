"""After the night, through ansible-playbook on moto (DynamoDB, S3, STS, SNS and SQS): the run summary published
to SNS (read back from an SQS queue subscribed to the topic) and written for a webhook, retention, and the
restore drill."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from tests.conftest import REGION, client
from tests.support.ansible_run import run_playbook
from tests.support.forwarding_proxy import Answer, ForwardingProxy, Reply, Request
from tests.support.inventory import inventory
from tests.support.notifications import published, topic_with_queue
from tests.support.tables import create_table, put_items, simple_items, table_names

ACCOUNT = "123456789012"  # moto's account


class DeniedScans(ForwardingProxy):
    """Answers every Scan of one table with AccessDeniedException, as AWS does when the role may not read it.
    moto has no IAM enforcement, so the denial is injected; everything else reaches moto as it is."""

    def __init__(self, upstream: str, table: str) -> None:
        super().__init__(upstream)
        self.table = table

    def serve(self, request: Request, send: Answer) -> None:
        if request.operation == "Scan" and json.loads(request.body).get("TableName") == self.table:
            send(Reply(400, [("Content-Type", "application/x-amz-json-1.0")],
                       b'{"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException",'
                       b'"message":"not authorized to perform: dynamodb:Scan"}'))
            return
        send(self.forward(request))


def seed_backups(endpoint: str, url: str, table: str, days_ago: list[int]) -> list[str]:
    """Backups of `table` taken that many days ago, written by the local engine's own code."""
    store = open_store(url, client("s3", endpoint))
    ddb = client("dynamodb", endpoint)
    now = datetime.now(UTC).replace(microsecond=0)
    folders = []
    for days in days_ago:
        at = now - timedelta(days=days)
        backup_table(ddb, store, table, REGION, ScanSettings(read_units_per_second=0, workers=1), at)
        folders.append(backup_folder(ACCOUNT, REGION, table, at))
    return folders


def bucket_folders(s3: Any, bucket: str, table: str) -> set[str]:
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]
    return {k.split("/", 1)[1].rsplit("/", 1)[0] for k in keys
            if k.endswith("hippolyte-manifest.json") and f"/{table}/" in k}


def test_a_failed_night_is_published_naming_the_table_and_nothing_is_pruned(
        moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    good, denied = f"{unique_name}-good", f"{unique_name}-denied"
    for name in (good, denied):
        create_table(ddb, name, rcu=50)
        put_items(ddb, name, simple_items(30))
    url = f"s3://{unique_name}/nightly"
    old = seed_backups(moto_server.url, url, good, [20, 30])
    topic, sqs, queue = topic_with_queue(moto_server.url, unique_name)
    webhook = tmp_path / "summary.json"

    with DeniedScans(moto_server.url, denied) as proxy:
        inv = inventory(tmp_path / "inventory.json", proxy.url, url, hippolyte_include=[good, denied],
                        hippolyte_retention={"keep_last": 1},
                        hippolyte_notify={"sns_topic_arn": topic, "webhook_file": str(webhook)})
        run = run_playbook("playbooks/backup.yml", inv)

    assert run.returncode != 0, run.stdout[-4000:]
    (envelope,) = published(sqs, queue)
    summary = json.loads(envelope["Message"])
    assert envelope["Subject"].endswith("FAILED, 1 table(s) not backed up")
    assert [f["table"] for f in summary["tables_failed"]] == [denied]
    assert "AccessDenied" in summary["tables_failed"][0]["error"]
    assert summary["status"] == "failed" and summary["tables_ok"] == 1
    assert summary["per_engine"] == {"local": {"ok": 1, "failed": 1}}
    assert summary["stopped_at"]["task"] == "Fail the run if any table was not backed up"
    assert summary["report"].endswith(".md") and Path(summary["report"]).exists()
    assert json.loads(webhook.read_text()) == summary
    # Retention runs after a good night only: both older backups of the good table are still there.
    assert set(old) < bucket_folders(s3, unique_name, good)


def test_a_good_night_drills_prunes_and_reports(moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    table, other = f"{unique_name}-orders", f"{unique_name}-other"
    for name in (table, other):
        create_table(ddb, name, rcu=50)
        put_items(ddb, name, simple_items(40))
    url = f"s3://{unique_name}/nightly"
    older = seed_backups(moto_server.url, url, table, [3, 10, 40])
    others = seed_backups(moto_server.url, url, other, [10, 40])  # not tonight's table: retention leaves it
    topic, sqs, queue = topic_with_queue(moto_server.url, unique_name)

    inv = inventory(tmp_path / "inventory.json", moto_server.url, url, hippolyte_include=[table],
                    hippolyte_retention={"keep_last": 2}, hippolyte_drill=True,
                    hippolyte_notify={"sns_topic_arn": topic, "on_success": True})
    run = run_playbook("playbooks/backup.yml", inv)

    assert run.returncode == 0, run.stdout[-4000:]
    kept = bucket_folders(s3, unique_name, table)
    assert len(kept) == 2 and older[0] in kept and not set(older[1:]) & kept  # tonight's and 3 days ago
    assert bucket_folders(s3, unique_name, other) == set(others)
    drill_tables = [t for t in table_names(ddb) if "-drill-" in t]
    assert drill_tables == []  # the scratch table was deleted
    (envelope,) = published(sqs, queue)
    summary = json.loads(envelope["Message"])
    assert summary["status"] == "ok" and summary["tables_ok"] == 1
    drill = summary["drill"]
    assert drill["table"] == table and drill["status"] == "ok" and drill["scratch_deleted"] is True
    assert drill["expected_items"] == drill["counted_items"] == 40
    assert drill["scratch_table"].startswith(f"{table}-drill-")
    assert sorted(summary["retention_deleted"]) == sorted(older[1:])
    report = Path(summary["report"]).read_text()
    assert "## Restore drill" in report and f"scratch table: {drill['scratch_table']} (deleted)" in report
    assert "- result: **ok**" in report and "2 backup folder(s) deleted" in report


def test_bad_night_ops_settings_fail_before_aws(moto_server: Any, tmp_path: Path) -> None:
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"file://{tmp_path}/b",
                    hippolyte_retention={"keep_last": -1}, hippolyte_drill="sometimes",
                    hippolyte_notify={"sns_topic_arn": "arn:aws:sqs:eu-west-1:123456789012:q"})
    run = run_playbook("playbooks/backup.yml", inv)
    assert run.returncode != 0
    assert "Host night" in run.stdout
    assert "hippolyte_retention.keep_last: must be 0 or more, got -1" in run.stdout
    assert "hippolyte_notify.sns_topic_arn 'arn:aws:sqs:eu-west-1:123456789012:q' is not an SNS topic ARN" in run.stdout
    assert "hippolyte_drill must be true, false or a dict" in run.stdout
    assert not (tmp_path / "b").exists()
