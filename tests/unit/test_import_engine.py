"""restoring/import_restore, its pure parts: which engine restores a backup and why, the estimates behind it,
ImportTable's request and idempotency token, and where ImportTable can read a backup in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND, PROVISIONED
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.prices import BYTES_PER_GB
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import FileStore, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.import_restore import (
    UNCOMPRESSED_PER_STORED_BYTE,
    ImportSettings,
    ImportSource,
    choose_engine,
    client_token,
    estimates,
    import_table_request,
    in_place_source,
    source_bytes,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import TargetState
from tests.conftest import REGION, client
from tests.support.stored_backups import gzipped_lines, schema_of_table, write_backup

NEW = TargetState("orders-restored", exists=False, empty=True, restored_from=None, arn=None)


def manifest(items: int = 1000, size: int = 10**6, billing: str = ON_DEMAND, **schema: Any) -> dict[str, Any]:
    table = {**schema_of_table("orders"), "BillingMode": billing, "TableSizeBytes": size, **schema}
    if billing == PROVISIONED:
        table["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 10}
    return {"schema": table, "item_count": items, "byte_count": size // 4, "data_format": "dynamodb-json",
            "files": []}


def engine(doc: dict[str, Any], target: TargetState = NEW, why_not: str = "", can_stage: bool = False,
           **settings: Any) -> tuple[str, str]:
    choice = choose_engine(doc, "f", target, ImportSettings(**settings), None, why_not, can_stage)
    return choice.engine, choice.reason


def test_auto_loads_what_import_cannot_create_or_read() -> None:
    big = manifest(size=500 * BYTES_PER_GB)
    lsi = manifest(size=500 * BYTES_PER_GB, LocalSecondaryIndexes=[{"IndexName": "by_day"}])
    assert engine(lsi) == ("load", "the table has local secondary indexes (by_day), which ImportTable cannot create")
    existing = TargetState("orders", exists=True, empty=True, restored_from=None, arn=None)
    assert engine(big, existing)[1] == "table orders exists, and ImportTable only creates new tables"
    assert engine(big, why_not="on disk")[1] == "on disk (stage_to would copy it to S3 first)"
    assert engine(big, why_not="on disk", can_stage=True)[0] == "import"
    assert engine(manifest(items=0, size=500 * BYTES_PER_GB))[1] == "the backup holds no items"


def test_auto_imports_what_reaches_the_threshold_or_would_load_too_long() -> None:
    assert engine(manifest(size=100 * BYTES_PER_GB))[0] == "import"
    assert engine(manifest(size=100 * BYTES_PER_GB - 1))[0] == "load"
    slow = engine(manifest(items=10**6), max_load_hours=0.01)
    assert slow[0] == "import" and "max_load_hours (0.01)" in slow[1]


def test_an_asked_engine_is_kept_whatever_the_backup() -> None:
    lsi = manifest(LocalSecondaryIndexes=[{"IndexName": "by_day"}])
    assert engine(lsi, engine="import") == ("import", "engine: import was asked for")


def test_source_bytes_fall_back_to_the_stored_bytes_times_the_gzip_ratio() -> None:
    assert source_bytes(manifest(size=123)) == 123
    unmeasured = {**manifest(size=0), "byte_count": 250}
    assert source_bytes(unmeasured) == 250 * UNCOMPRESSED_PER_STORED_BYTE


@given(st.integers(1, 10**8), st.integers(1, 10**12), st.sampled_from([ON_DEMAND, PROVISIONED]))
def test_more_items_never_load_faster_or_cheaper(items: int, size: int, billing: str) -> None:
    settings = ImportSettings()
    fewer, _unused = estimates(manifest(items, size, billing), settings, None)
    more, _unused = estimates(manifest(items * 2, size, billing), settings, None)
    assert more.hours >= fewer.hours and more.usd >= fewer.usd


def test_a_provisioned_load_is_bounded_by_its_write_capacity() -> None:
    doc = manifest(items=36_000, size=36_000 * 100, billing=PROVISIONED)
    load, _unused = estimates(doc, ImportSettings(), 10)  # 10 WCU, 1 unit an item: 3,600 s
    assert load.hours == pytest.approx(1.0)
    assert estimates(doc, ImportSettings(), 20)[0].hours == pytest.approx(0.5)


def test_the_token_is_the_same_for_the_same_ask_and_new_after_a_failure() -> None:
    request = {"InputFormat": "DYNAMODB_JSON"}
    token = client_token("s3://b/f", request)
    assert token == client_token("s3://b/f", dict(request)) and len(token) == 32
    assert token != client_token("s3://b/f", request, failed_before=1)
    assert token != client_token("s3://b/g", request)


def test_the_import_request_names_the_bucket_owner_only_when_known() -> None:
    schema = {**schema_of_table("orders"), "TableSizeBytes": 5, "Tags": [{"Key": "a", "Value": "b"}]}
    mine = import_table_request(schema, "orders-restored", ImportSource("bkt", "p/data/", None))
    assert mine["S3BucketSource"] == {"S3Bucket": "bkt", "S3KeyPrefix": "p/data/"}
    assert mine["TableCreationParameters"]["TableName"] == "orders-restored"
    assert "Tags" not in mine["TableCreationParameters"]  # applied after the import, as a load does
    theirs = import_table_request(schema, "orders-restored", ImportSource("bkt", "p/data/", "111122223333"))
    assert theirs["S3BucketSource"]["S3BucketOwner"] == "111122223333"


def test_a_backup_on_disk_cannot_be_read_in_place(tmp_path: Path) -> None:
    store = FileStore(tmp_path, f"file://{tmp_path}")
    folder, doc = write_backup(store, {"data/part-00000.json.gz": gzipped_lines([{"pk": {"S": "a"}}])})
    source, why = in_place_source(store, folder, doc)
    assert source is None and "ImportTable reads from S3 only" in why


def test_a_backup_in_s3_is_read_in_place_unless_its_data_folder_holds_more(moto_url: str, unique_name: str) -> None:
    s3 = client("s3", moto_url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    store = open_store(f"s3://{unique_name}/nightly", s3)
    folder, doc = write_backup(store, {"data/part-00000.json.gz": gzipped_lines([{"pk": {"S": "a"}}])})
    source, why = in_place_source(store, folder, doc)
    assert (source, why) == (ImportSource(unique_name, f"nightly/{folder}/data/", None), "")
    store.put_bytes(f"{folder}/data/notes.txt", b"not data")
    source, why = in_place_source(store, folder, doc)
    assert source is None and "holds 1 object(s) that are not data files" in why


@pytest.mark.parametrize(("settings", "field"), [
    ({"engine": "copy"}, "engine"), ({"max_rejected_items": -1}, "max_rejected_items"),
    ({"max_load_hours": 0}, "max_load_hours"), ({"import_threshold_gb": -1}, "import_threshold_gb"),
])
def test_bad_settings_name_their_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as refused:
        ImportSettings(**settings).validate()
    assert refused.value.field == field
