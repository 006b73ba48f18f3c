"""A Data Pipeline definition run by the in-process engine, for tests only: moto never runs a pipeline, so the
tests prove a definition's export activities end to end with this instead (it shipped in the module until 0.x).

Each export activity backs up its table into the folder the definition names, with the local engine's
`dynamodb-json` data and its own manifest (engine `local`, which is what it really is); each activity gets
1 + maximumRetries attempts, as on EMR.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_definition import targets_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_runner import (
    SUCCEEDED,
    TableStatus,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table


def execute_locally(ddb: Any, store: BackupStore, objects: list[dict[str, Any]], region: str, account: str,
                    started: datetime, scan: ScanSettings | None = None) -> list[TableStatus]:
    """Run each export activity of a definition with the in-process engine, into the folder the definition names."""
    statuses = []
    for target in targets_of(objects, store.url):
        settings = ScanSettings(**{**vars(scan or ScanSettings()), "account_id": account,
                                   "read_percentage": min(1.0, target.read_ratio)})
        status = TableStatus(target.table, "RUNNING", target.folder)
        for _attempt in range(1 + target.maximum_retries):
            try:
                result = backup_table(ddb, store, target.table, region, settings, started=started)
            except Exception as exc:  # an attempt failed: the engine removed its partial folder
                status.status, status.error = "FAILED", str(exc)
                continue
            if result.folder != target.folder:
                raise HippolyteError(f"{target.table}: backed up into {result.folder}, not {target.folder}")
            status.status, status.error, status.manifest = SUCCEEDED, None, result.manifest
            break
        statuses.append(status)
    return statuses
