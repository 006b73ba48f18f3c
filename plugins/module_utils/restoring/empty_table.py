"""Every item of a table deleted, keeping the table itself (its settings, indexes, tags and ARN).

Used by a forced rerun of a restore into a table that no longer holds its backup: the table is emptied,
then the backup loaded again, so it ends holding exactly the backup (not the backup plus what was added).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.paging import pages
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.raw_batch_write import RawBatchWrites
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import raise_if_stopped
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import to_json_item
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.batch_writer import BatchWriter


def empty_table(ddb: Any, table: str, key_names: list[str], workers: int, stall_timeout_s: float,
                stop: threading.Event | None = None) -> int:
    """Delete every item of `table` (keyed by `key_names`); the number of items deleted."""
    with RawBatchWrites(ddb) as raw:
        writer = BatchWriter(raw.send, table, workers=workers, stall_timeout_s=stall_timeout_s, stop=stop)
        with writer:
            writer.put_requests(_delete_requests(ddb, table, key_names, stop))
    return writer.stats.written


def _delete_requests(ddb: Any, table: str, key_names: list[str],
                     stop: threading.Event | None) -> Iterator[bytes]:
    names = {f"#k{n}": name for n, name in enumerate(key_names)}
    # Consistent, so an item written just before is seen and deleted too.
    for page in pages(ddb, "scan", TableName=table, ConsistentRead=True, ProjectionExpression=", ".join(names),
                      ExpressionAttributeNames=names):
        raise_if_stopped(stop)
        for key in page.get("Items", []):
            yield json.dumps({"DeleteRequest": {"Key": to_json_item(key)}}, separators=(",", ":"),
                             ensure_ascii=False).encode()
