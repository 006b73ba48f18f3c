# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The one way a backup's manifest is written: last, once, exclusively."""

from __future__ import annotations

from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, join


def write_manifest(store: BackupStore, folder: str, extra: dict[str, Any] | None = None,
                   **fields: Any) -> dict[str, Any]:
    """Build a backup's hippolyte-manifest.json and store it, last and once: its presence means complete.

    `fields` are `manifest.build_manifest`'s, `extra` the engine's own additions. A second writer of the
    same manifest fails (exclusive put) rather than rewriting what another run recorded."""
    # pylint cannot see that `fields` carries build_manifest's keyword-only arguments.
    doc = {**manifest_file.build_manifest(**fields), **(extra or {})}  # pylint: disable=missing-kwoa
    store.put_bytes(join(folder, manifest_file.MANIFEST_NAME), manifest_file.dumps(doc), exclusive=True)
    return doc
