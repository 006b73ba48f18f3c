"""What dynamodb_scan_backup does with one table: preview its backup (check mode) or write it.

The options become `ScanSettings` here, so the module keeps only its argument spec, its clients and the answer.
A plan's many tables go through `local_lanes.run_lanes_task`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import describe_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import MANIFEST_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import account_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table

# A scan's connections when the module is not given a plan's max_concurrent_scans.
DEFAULT_CONCURRENT_SCANS = 64


def scan_settings(options: Mapping[str, Any]) -> ScanSettings:
    """The module's options as the scan reads them (part_size_mb in bytes)."""
    return ScanSettings(
        workers=options["workers"], segments=options["segments"], read_percentage=options["read_percentage"],
        on_demand_read_units=options["on_demand_read_units"], read_units_per_second=options["read_units_per_second"],
        part_max_bytes=options["part_size_mb"] * 1024 * 1024, compression_level=options["compression_level"],
        consistent_read=options["consistent_read"], account_id=options["account_id"], run_id=options["run_id"])


def connection_pool(options: Mapping[str, Any]) -> int:
    """Connections the module needs: one per worker, times the scans a plan runs at once (lanes read many
    tables at once)."""
    scans = (options["max_concurrent_scans"] or DEFAULT_CONCURRENT_SCANS) if options["plan"] is not None else 1
    return int(options["workers"]) * scans


def preview_one(ddb: Any, store: BackupStore, table: str, region: str, settings: ScanSettings) -> dict[str, Any]:
    """Check mode: the settings, the table and the store checked, and where the backup would go; nothing written."""
    settings.validate()
    described = describe_table(ddb, table)
    store.check_writable()
    folder = backup_folder(account_of(described.get("TableArn"), settings.account_id), region, table, utc_now())
    return dict(changed=True, backup_url=url_under(store.url, folder),
                msg=f"would back up {table} (check mode: nothing written)")


def backup_one(ddb: Any, store: BackupStore, table: str, region: str, settings: ScanSettings,
               stop: threading.Event | None = None, aas: Any = None) -> dict[str, Any]:
    """The backup of `table` written; the module's result (`aas`: Application Auto Scaling, None: scalable
    targets not recorded)."""
    result = backup_table(ddb, store, table, region, settings, stop=stop, aas=aas)
    doc = result.manifest
    return dict(
        changed=True, backup_url=result.url, manifest_url=url_under(result.url, MANIFEST_NAME),
        item_count=doc["item_count"], byte_count=doc["byte_count"], files=doc["files"],
        duration_s=round(result.duration_s, 3), items_per_second=round(result.items_per_second, 1),
        read_units_limit=result.read_units_limit, read_units_consumed=round(result.read_units_consumed, 2),
        segments=result.segments, consistency=doc["consistency"],
        msg=f"backed up {doc['item_count']} items of {table} to {result.url}")
