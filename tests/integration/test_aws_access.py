"""The AWS access layer against real servers: paginated listings, the ACTIVE waiter, failed calls named.

Indexes of moto's and dynalite's tables are ACTIVE as soon as they exist, so the waiter's wait for a
GSI still CREATING is answered by botocore's Stubber; everything else goes over HTTP.
"""

from __future__ import annotations

import uuid
from typing import Any

import botocore.exceptions
import pytest
from botocore.stub import Stubber

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.call_names import (
    failed_call_message,
    name_resources_in_errors,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import (
    list_table_names,
    wait_table_active,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.paging import all_items
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.waiting import PollTimeout, poll_until
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import parse_arn
from tests.conftest import client
from tests.support.tables import create_table

pytestmark = pytest.mark.xdist_group("moto")


def unique_name() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def test_listing_follows_every_page(moto_server) -> None:
    ddb = client("dynamodb", moto_server.url)
    prefix = unique_name()
    names = [f"{prefix}-{n:03d}" for n in range(105)]  # ListTables answers at most 100 names a page
    for name in names:
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    assert [n for n in list_table_names(ddb) if n.startswith(prefix)] == names
    arn = ddb.describe_table(TableName=names[0])["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(12)])
    assert len(all_items(ddb, "list_tags_of_resource", "Tags", ResourceArn=arn)) == 12


def test_failed_call_names_operation_and_table(dynalite_server) -> None:
    ddb = name_resources_in_errors(client("dynamodb", dynalite_server.url))
    missing = unique_name()
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        ddb.update_table(TableName=missing, ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2})
    assert failed_call_message(caught.value) == f"UpdateTable on table {missing} failed"


def test_failed_call_names_the_arn_resource_and_bucket(moto_server) -> None:
    ddb = name_resources_in_errors(client("dynamodb", moto_server.url))
    arn = f"arn:aws:dynamodb:eu-west-1:123456789012:table/{unique_name()}"
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        ddb.list_tags_of_resource(ResourceArn=arn)
    assert failed_call_message(caught.value) == f"ListTagsOfResource on table {arn.rsplit('/', 1)[1]} failed"
    s3 = name_resources_in_errors(client("s3", moto_server.url))
    bucket = unique_name()
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="a/b.json")
    assert failed_call_message(caught.value) == f"GetObject on s3://{bucket}/a/b.json failed"


def test_waiter_returns_an_active_table(dynalite_server) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    name = unique_name()
    create_table(ddb, name)
    assert wait_table_active(ddb, name, timeout=30)["TableStatus"] == "ACTIVE"


def _described(index_status: str) -> dict[str, Any]:
    return {"Table": {"TableName": "orders", "TableStatus": "ACTIVE",
                      "GlobalSecondaryIndexes": [{"IndexName": "by-g", "IndexStatus": index_status}]}}


def test_waiter_waits_for_every_index_and_gives_up_naming_it() -> None:
    ddb = client("dynamodb", "http://127.0.0.1:9")  # never reached: Stubber answers
    slept: list[float] = []
    with Stubber(ddb) as stub:
        stub.add_response("describe_table", _described("CREATING"))
        stub.add_response("describe_table", _described("ACTIVE"))
        assert wait_table_active(ddb, "orders", timeout=30, interval=1, sleep=slept.append)["TableName"] == "orders"
        assert slept == [1]
        stub.add_response("describe_table", _described("UPDATING"))
        with pytest.raises(PollTimeout, match=r"index by-g \(UPDATING\)"):
            wait_table_active(ddb, "orders", timeout=0, sleep=slept.append)


def test_poller_backs_off_up_to_its_ceiling_and_never_sleeps_past_the_deadline() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    answers = iter([None] * 5 + ["done"])
    assert poll_until(lambda: next(answers), 100, 1, "x", max_interval=4, sleep=sleep, clock=lambda: now[0]) == "done"
    assert slept == [1, 2, 4, 4, 4]
    slept.clear()
    with pytest.raises(PollTimeout, match="gave up after 5 s waiting for y"):
        poll_until(lambda: None, 5, 2, "waiting for y", sleep=sleep, clock=lambda: now[0])
    assert slept == [2, 2, 1]


def test_arn_parts() -> None:
    arn = parse_arn("arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-g")
    assert arn is not None and (arn.account, arn.resource) == ("123456789012", "table/orders/index/by-g")
    assert parse_arn("table/orders") is None
