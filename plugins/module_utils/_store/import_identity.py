# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""An import's identity: the source it was read from and the digest of what it held, never the time it is filed at.

A dynamodump import or an adoption is filed under the time the user gives (`at`), or the next free second
when that folder is taken (a nightly backup, another import). Importing the same source again (same place,
same content) finds the folder made before by its manifest's origin and reuses it, whatever `at` says;
another source never takes its place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import (
    IMPORT,
    content_digest,
    origin_of,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, HashingReader
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import list_backups, read_manifest


def source_digest(source: BackupStore, keys: Sequence[str], root: str) -> str:
    """The content digest of `keys` in `source` (paths relative to `root`), each file streamed once."""
    files = []
    for key in keys:
        with source.open_reader(key) as raw:
            hashing = HashingReader(raw)
            hashing.drain()
        files.append((key[len(root):].lstrip("/"), hashing.sha256))
    return content_digest(files)


def earlier_import(dest: BackupStore, account: str, region: str, table: str, source: str,
                   digest: Callable[[], str]) -> tuple[str, dict[str, Any]] | None:
    """(folder, manifest) of an intact import of `source` with the same content, whatever time it was filed
    at (a rerun with `at: <today>` files at another second); None when there is none. `digest()`, the source's
    content digest now, is computed only when an import of that source exists: a source whose content changed
    is another import, filed beside it."""
    for ref in reversed(list_backups(dest, table, region, account)):
        if not ref.complete:
            continue
        doc, _error = read_manifest(dest, ref)
        if doc is None or origin_of(doc)["kind"] != IMPORT or origin_of(doc).get("source") != source:
            continue
        # An import recorded before digests were (origin without one) is known by its source alone.
        if origin_of(doc).get("content_sha256") in (None, digest()):
            return ref.folder, doc
    return None
