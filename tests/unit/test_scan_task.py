"""engines/scan_task: dynamodb_scan_backup's options as the scan reads them, the connections they need, and one
table's backup previewed (nothing written) or written, on moto into a folder on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import FileStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_task import (
    backup_one,
    connection_pool,
    preview_one,
    scan_settings,
)
from tests.conftest import REGION, client
from tests.support.tables import create_table, put_items, simple_items

OPTIONS: dict[str, Any] = {
    "workers": 2, "segments": None, "read_percentage": 0.5, "on_demand_read_units": 100.0,
    "read_units_per_second": None, "part_size_mb": 2, "compression_level": 1, "consistent_read": False,
    "account_id": None, "run_id": None, "plan": None, "max_concurrent_scans": None,
}


def test_options_become_the_scans_settings() -> None:
    settings = scan_settings({**OPTIONS, "part_size_mb": 3, "run_id": "r1"})
    assert (settings.part_max_bytes, settings.workers, settings.run_id) == (3 * 1024 * 1024, 2, "r1")


def test_a_plan_needs_a_connection_per_worker_and_scan() -> None:
    assert connection_pool(OPTIONS) == 2
    assert connection_pool({**OPTIONS, "plan": {}, "max_concurrent_scans": 8}) == 16
    assert connection_pool({**OPTIONS, "plan": {}}) == 2 * 64


def test_preview_writes_nothing_and_says_where_the_backup_would_go(moto_url: str, unique_name: str,
                                                                   tmp_path: Path) -> None:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name)
    store = FileStore(tmp_path / "b", f"file://{tmp_path}/b")
    result = preview_one(ddb, store, unique_name, REGION, scan_settings(OPTIONS))
    assert result["backup_url"].startswith(f"file://{tmp_path}/b/123456789012/{REGION}/{unique_name}/")
    assert result["changed"] and not (tmp_path / "b").exists()
    with pytest.raises(InputError) as refused:
        preview_one(ddb, store, unique_name, REGION, scan_settings({**OPTIONS, "workers": 0}))
    assert refused.value.field == "workers"


def test_a_backup_answers_with_its_manifests_figures(moto_url: str, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name)
    put_items(ddb, unique_name, simple_items(30, pad=20))
    store = FileStore(tmp_path, f"file://{tmp_path}")
    result = backup_one(ddb, store, unique_name, REGION, scan_settings(OPTIONS))
    assert (result["item_count"], result["consistency"], result["changed"]) == (30, "fuzzy-scan", True)
    assert result["manifest_url"] == f"{result['backup_url']}/hippolyte-manifest.json"
    assert Path(result["manifest_url"].removeprefix("file://")).is_file()
    assert result["msg"] == f"backed up 30 items of {unique_name} to {result['backup_url']}"
