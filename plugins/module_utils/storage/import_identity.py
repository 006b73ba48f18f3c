"""An import's identity: the source it was read from and the digest of what it held, never the time it is filed at.

A dynamodump import or an adoption is filed under the time the user gives (`at`), or the next free second
when that folder is taken (a nightly backup, another import). Importing the same source again finds the
folder made before by its manifest's origin and reuses it; another source never takes its place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.storage.backup_store import (
    BackupStore,
    HashingReader,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.storage.catalog import list_backups, read_manifest
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.storage.folder_claim import CLAIM_TRIES
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.storage.manifest import (
    IMPORT,
    content_digest,
    origin_of,
)


def source_digest(source: BackupStore, keys: Sequence[str], root: str) -> str:
    """The content digest of `keys` in `source` (paths relative to `root`), each file streamed once."""
    files = []
    for key in keys:
        with source.open_reader(key) as raw:
            hashing = HashingReader(raw)
            hashing.drain()
        files.append((key[len(root):].lstrip("/"), hashing.sha256))
    return content_digest(files)


def earlier_import(dest: BackupStore, account: str, region: str, table: str, taken: datetime, source: str,
                   digest: Callable[[], str]) -> tuple[str, dict[str, Any]] | None:
    """(folder, manifest) of an intact import of `source` filed from `taken` on, in the seconds an import
    may have moved on to; None when there is none. `digest()`, the source's content digest now, is computed
    only when such an import exists: a source whose content changed is another import, filed beside it."""
    latest = taken + timedelta(seconds=CLAIM_TRIES)
    for ref in list_backups(dest, table, region, account):
        if not (ref.complete and taken <= ref.taken_at < latest):
            continue
        doc, _error = read_manifest(dest, ref)
        if doc is None or origin_of(doc)["kind"] != IMPORT or origin_of(doc).get("source") != source:
            continue
        # An import recorded before digests were (origin without one) is known by its source alone.
        if origin_of(doc).get("content_sha256") in (None, digest()):
            return ref.folder, doc
    return None
