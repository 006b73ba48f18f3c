"""raw_scan: inside RawItemScans a Scan page's items come back as dynamodb-json lines, exactly the items a
plain Scan decodes; a damaged answer is left to botocore's retries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.raw_scan import RAW_ITEMS, RawItemScans
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import decode_line
from tests.conftest import client
from tests.support.fault_proxy import FaultProxy
from tests.support.items import big_item, every_type_item
from tests.support.tables import canonical, create_table, put_items, scan_all


@pytest.fixture
def table(moto_url: str, unique_name: str) -> tuple[str, list[dict[str, Any]]]:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=None)
    items = [every_type_item(f"k{n}") for n in range(7)] + [big_item("big", 100 * 1024)]
    put_items(ddb, unique_name, items)
    return unique_name, items


def raw_scan(ddb: Any, table: str, **kwargs: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item of `table` read as lines, and the pages it took."""
    found: list[dict[str, Any]] = []
    pages, kwargs = 0, {"TableName": table, **kwargs}
    while True:
        page = ddb.scan(**kwargs)
        pages += 1
        lines = page[RAW_ITEMS]
        assert page["Items"] == [] and lines.count == len(lines.lines.splitlines())
        found += [decode_line(line) for line in lines.lines.splitlines()]
        if "LastEvaluatedKey" not in page:
            return found, pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_lines_hold_exactly_the_items_a_plain_scan_decodes(moto_url: str, table: tuple[str, Any]) -> None:
    name, items = table
    ddb = client("dynamodb", moto_url)
    with RawItemScans(ddb):
        found, _pages = raw_scan(ddb, name)
        paged, pages = raw_scan(ddb, name, Limit=3)  # LastEvaluatedKey still parsed from the rest of the body
    assert pages == 3
    assert canonical(found) == canonical(paged) == canonical(scan_all(ddb, name)) == canonical(items)


def test_outside_the_block_scans_are_botocores_own(moto_url: str, table: tuple[str, Any]) -> None:
    name, items = table
    ddb = client("dynamodb", moto_url)
    with RawItemScans(ddb):
        pass
    page = ddb.scan(TableName=name)
    assert RAW_ITEMS not in page and canonical(page["Items"]) == canonical(items)


def test_two_blocks_on_one_client_lift_each_page_once(moto_url: str, table: tuple[str, Any]) -> None:
    name, items = table
    ddb = client("dynamodb", moto_url)
    with RawItemScans(ddb), RawItemScans(ddb):
        found, _pages = raw_scan(ddb, name)
    assert canonical(found) == canonical(items)


def test_blocks_that_overlap_keep_scans_raw_until_the_last_ends(moto_url: str, table: tuple[str, Any]) -> None:
    """The local lanes share one client: a table's block ending must not turn off another's raw pages, and once
    every block of many threads has ended, scans are botocore's own again."""
    name, items = table
    ddb = client("dynamodb", moto_url)
    first, second = RawItemScans(ddb), RawItemScans(ddb)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert RAW_ITEMS in ddb.scan(TableName=name)
    second.__exit__(None, None, None)

    def one_block(_n: int) -> None:
        with RawItemScans(ddb):
            pass

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one_block, range(200)))
    page = ddb.scan(TableName=name)
    assert RAW_ITEMS not in page and canonical(page["Items"]) == canonical(items)


def test_an_empty_page_and_an_error_are_answered_as_usual(moto_url: str, unique_name: str) -> None:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=None)
    with RawItemScans(ddb):
        page = ddb.scan(TableName=unique_name)
        assert page[RAW_ITEMS].count == 0 and page[RAW_ITEMS].lines == "" and page["Count"] == 0
        with pytest.raises(ClientError) as raised:
            ddb.scan(TableName=f"{unique_name}-missing")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize("kind", ["corrupt", "truncate"])
def test_a_damaged_page_is_retried_and_read_whole(moto_url: str, table: tuple[str, Any], kind: str) -> None:
    name, items = table
    with FaultProxy(moto_url, seed=3).aim(kind, "Scan", nth=1) as proxy:
        ddb = client("dynamodb", proxy.url)
        with RawItemScans(ddb):
            found, _pages = raw_scan(ddb, name)
        assert proxy.injected[kind] == 1
    assert canonical(found) == canonical(items)
