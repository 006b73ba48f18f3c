"""dynamodb_export's work, called directly: bad options fail before any AWS call; check mode starts nothing; a run
exports at the night's time, with the bucket's owner named, and records the manifest.

Against moto server (DynamoDB, S3), which runs ExportTableToPointInTime and finishes it at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.export_task import run_exports
from ansible_collections.hippolyte.dynamodb.plugins.modules.dynamodb_export import ARGUMENT_SPEC
from tests.conftest import REGION, client
from tests.support.engine_clients import StandInClients, module_options
from tests.support.tables import create_table, put_items, simple_items


def options(tables: list[str], **given: Any) -> dict[str, Any]:
    return module_options(ARGUMENT_SPEC, **{"tables": tables, "run_id": "night-1", **given})


@pytest.mark.parametrize(("given", "field"), [
    ({"poll_interval": 0}, "poll_interval"),
    ({"wait_timeout": -5}, "wait_timeout"),
    ({"deadline": "soon"}, "deadline"),
    ({"export_time": "yesterday-ish"}, "export_time"),
])
def test_bad_options_fail_before_any_aws_call(given: dict[str, Any], field: str) -> None:
    clients = StandInClients("http://127.0.0.1:9", "s3://bucket/ddb")
    with pytest.raises(InputError) as err:
        run_exports(options(["orders"], **given), clients, check_mode=False)
    assert err.value.field == field and clients.asked == []


def test_a_missing_destination_is_named_first() -> None:
    clients = StandInClients("http://127.0.0.1:9", None)
    with pytest.raises(InputError) as err:
        run_exports(options(["orders"], poll_interval=0), clients, check_mode=False)
    assert err.value.field == "destination" and clients.asked == []


def test_check_mode_then_a_run(moto_server: Any, unique_name: str) -> None:
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(4))
    ddb.update_continuous_backups(TableName=unique_name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    clients = StandInClients(moto_server.url, f"s3://{unique_name}/dynamodb", bucket_owner="123456789012")
    at = datetime.now(UTC).replace(microsecond=0)  # inside the PITR window just opened
    given = options([unique_name], export_time=at.isoformat(), maximum_retries=0)

    preview = run_exports(given, clients, check_mode=True)
    assert not preview.failed and preview.result["export_time"] == at.isoformat()
    assert [e["status"] for e in preview.result["exports"]] == ["PENDING"]
    assert s3.list_objects_v2(Bucket=unique_name).get("KeyCount") == 0
    assert ddb.list_exports(TableArn=ddb.describe_table(TableName=unique_name)["Table"]["TableArn"]).get(
        "ExportSummaries", []) == []

    ran = run_exports(given, clients, check_mode=False)
    assert not ran.failed and ran.result["done"] and ran.result["changed"], ran.result
    export, = ran.result["exports"]
    assert export["status"] == "COMPLETED" and export["item_count"] == 4 and export["started"]
    assert export["backup_url"].endswith(at.strftime("/%Y-%m-%d-%H-%M-%S")) and export["manifest_url"]
    assert ran.result["tables"][0]["status"] == "ok" and clients.slept == []  # moto finishes at once
