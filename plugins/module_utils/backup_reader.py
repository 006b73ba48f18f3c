"""Reading a backup's data files back as items, checking each file's size and sha256 as it streams."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.backup_store import BackupStore, join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.item_codec import Item, decode_line
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.manifest import DataFile

READERS = {"dynamodb-json": decode_line}


class _HashingReader(io.RawIOBase):
    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.sha = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        self.sha.update(data)
        self.size += len(data)
        buffer[: len(data)] = data
        return len(data)

    def finish(self) -> None:
        """Hash what the decompressor did not need to read (nothing, for a well-formed file)."""
        while True:
            chunk = self.inner.read(1024 * 1024)
            if not chunk:
                return
            self.sha.update(chunk)
            self.size += len(chunk)


def iter_items(store: BackupStore, folder: str, data_file: DataFile, data_format: str) -> Iterator[Item]:
    """Yield the items of one data file; raises if its bytes differ from what the manifest recorded."""
    decode = READERS.get(data_format)
    if decode is None:
        raise HippolyteError(f"data format {data_format!r} cannot be restored by this version; "
                             f"it reads {', '.join(READERS)}")
    where = f"{store.url.rstrip('/')}/{join(folder, data_file.path)}"
    with store.open_reader(join(folder, data_file.path)) as raw:
        hashing = _HashingReader(raw)
        count = 0
        with gzip.GzipFile(fileobj=io.BufferedReader(hashing, 1024 * 1024), mode="rb") as lines:
            for line in lines:
                if line.strip():
                    count += 1
                    yield decode(line)
        hashing.finish()
    if hashing.size != data_file.bytes or hashing.sha.hexdigest() != data_file.sha256:
        raise HippolyteError(f"{where} does not match the manifest (size {hashing.size} vs {data_file.bytes}, "
                             "or sha256 differs): the backup is damaged")
    if count != data_file.items:
        raise HippolyteError(f"{where} holds {count} items, the manifest says {data_file.items}")
