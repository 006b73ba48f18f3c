"""A table with every kind of index, and one on moto filled with every item type, beside a bucket."""

from __future__ import annotations

from typing import Any

from tests.conftest import REGION, client
from tests.support.items import big_item, every_type_item
from tests.support.tables import put_items

INDEXED = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                             {"AttributeName": "sk", "AttributeType": "N"},
                             {"AttributeName": "city", "AttributeType": "S"},
                             {"AttributeName": "when", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "LocalSecondaryIndexes": [{"IndexName": "by-when", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                     {"AttributeName": "when", "KeyType": "RANGE"}],
                               "Projection": {"ProjectionType": "KEYS_ONLY"}}],
    "GlobalSecondaryIndexes": [{"IndexName": "by-city", "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"}],
                                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
                                "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 3}}],
}


def indexed_table_and_bucket(moto: Any, name: str, count: int) -> tuple[Any, Any]:
    """On moto: a bucket, and a table with an LSI, a GSI, TTL and a tag holding `count` every-type items
    and one near 400 KB."""
    ddb, s3 = client("dynamodb", moto.url), client("s3", moto.url)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    ddb.create_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 40, "WriteCapacityUnits": 5},
                     Tags=[{"Key": "team", "Value": "payments"}], **INDEXED)
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    source = [dict(every_type_item(f"k{n}"), sk={"N": str(n)}, city={"S": "Leeds"}, when={"S": "2026"})
              for n in range(count)]
    put_items(ddb, name, [*source, dict(big_item("big"), sk={"N": "0"})])
    return ddb, s3
