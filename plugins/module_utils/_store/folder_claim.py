# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""One writer per backup folder: a writer claims `<folder>/hippolyte-claim.json` before its first byte.

A folder is named after its backup's start, to the second, so two writers of one table started in the
same second (cron and AWX, a retry, two controllers) would share it. The claim is created exclusively
(S3: a conditional PUT, file://: O_EXCL); the writer that loses takes the following second's folder, so
no folder ever holds two writers' files.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under

CLAIM_NAME = "hippolyte-claim.json"
CLAIM_TRIES = 60  # following seconds a writer tries before giving up: far more than writers of one table


@dataclass(frozen=True)
class ClaimedFolder:
    folder: str
    taken_at: datetime  # the time the folder is named after (the start, or a second or a few later)


def claim_folder(store: BackupStore, account: str, region: str, table: str, started: datetime) -> ClaimedFolder:
    """Claim the first free backup folder of `table` from `started` on."""
    # The nonce makes every claim's bytes unique, so a writer can recognise its own claim (see S3Store.claim).
    holder = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started": started.isoformat(),
                         "nonce": uuid.uuid4().hex},
                        sort_keys=True).encode()
    for offset in range(CLAIM_TRIES):
        taken = started + timedelta(seconds=offset)
        folder = backup_folder(account, region, table, taken)
        # A folder with files but no claim is a backup from before claims existed: never write into it.
        if not store.list_files(folder) and store.claim(join(folder, CLAIM_NAME), holder):
            return ClaimedFolder(folder, taken)
    first = backup_folder(account, region, table, started)
    raise HippolyteError(f"the {CLAIM_TRIES} backup folders of {table!r} from {first} on are all held by other "
                         f"writers (see {url_under(store.url, first, CLAIM_NAME)} for the first one's holder); "
                         "wait for them to finish")
