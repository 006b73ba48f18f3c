"""paging: every page of a listing, through botocore's own paginators, against moto over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import OperationNotPageableError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.paging import all_items, pages
from tests.conftest import REGION, client
from tests.support.tables import create_table


@pytest.fixture
def bucket(moto_url: str, unique_name: str) -> tuple[Any, str]:
    s3 = client("s3", moto_url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return s3, unique_name


def test_every_page_is_followed_and_the_lists_joined_in_order(bucket: tuple[Any, str]) -> None:
    s3, name = bucket
    keys = [f"data/part-{n:05d}" for n in range(5)]
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    s3.put_object(Bucket=name, Key="elsewhere", Body=b"x")
    listed = list(pages(s3, "list_objects_v2", Bucket=name, Prefix="data/", PaginationConfig={"PageSize": 2}))
    assert [len(page["Contents"]) for page in listed] == [2, 2, 1]
    objects = all_items(s3, "list_objects_v2", "Contents", Bucket=name, Prefix="data/",
                        PaginationConfig={"PageSize": 2})
    assert [o["Key"] for o in objects] == keys


def test_pages_without_the_key_add_nothing(bucket: tuple[Any, str]) -> None:
    s3, name = bucket
    assert all_items(s3, "list_objects_v2", "Contents", Bucket=name) == []
    assert len(list(pages(s3, "list_objects_v2", Bucket=name))) == 1


def test_dynamodb_listings_follow_their_own_token(moto_url: str, unique_name: str) -> None:
    ddb = client("dynamodb", moto_url)
    mine = [f"{unique_name}-{n}" for n in range(3)]
    for name in mine:
        create_table(ddb, name, rcu=None)
    listed = list(pages(ddb, "list_tables", PaginationConfig={"PageSize": 1}))
    assert all(len(page["TableNames"]) <= 1 for page in listed) and len(listed) >= 3
    assert set(mine) <= set(all_items(ddb, "list_tables", "TableNames", PaginationConfig={"PageSize": 2}))


def test_an_operation_without_a_paginator_is_refused(moto_url: str) -> None:
    ddb = client("dynamodb", moto_url)
    with pytest.raises(OperationNotPageableError, match="describe_table"):
        all_items(ddb, "describe_table", "Table", TableName="x")
