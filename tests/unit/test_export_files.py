"""The one rule for which files of an export's data folder hold items."""

from __future__ import annotations

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.export_files import (
    CONNECTOR,
    NATIVE,
    data_files,
)

ROOT = "acct/eu-west-1/orders/20261122T010000Z/data"


def test_connector_folder_keeps_items_and_leaves_markers_and_dot_files() -> None:
    keys = [f"{ROOT}/{n}" for n in ("manifest", "_SUCCESS", ".part.crc", "5d2b0e7b-7a4f", "part-00000")]
    assert data_files(keys, ROOT, CONNECTOR) == [f"{ROOT}/5d2b0e7b-7a4f", f"{ROOT}/part-00000"]


def test_native_export_keeps_only_the_gz_files_of_its_own_data_folder() -> None:
    base = f"{ROOT}/AWSDynamoDB/01763773200000-0a1b2c3d"
    keys = [f"{base}/manifest-summary.json", f"{base}/manifest-files.json", f"{base}/_started",
            f"{base}/data/b.json.gz", f"{base}/data/a.json.gz", f"{ROOT}/stray.json.gz"]
    assert data_files(keys, ROOT, NATIVE) == [f"{base}/data/a.json.gz", f"{base}/data/b.json.gz"]
