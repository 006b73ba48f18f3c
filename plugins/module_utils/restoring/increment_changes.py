"""The changes an incremental export holds, and what applying them does to a table.

Each line of its data files (DynamoDB JSON, view NEW_AND_OLD_IMAGES) is one item that changed in the window:
`{"Metadata": {"WriteTimestampMicros": {"N": ...}}, "Keys": {...}, "OldImage": {...}, "NewImage": {...}}`.
`NewImage` is the item as the window left it; a line without one is an item deleted by then. Applying a window's
lines to the table as it was at any moment inside the window (or at its start) gives the table at its end: an item
that did not change in the window is the same at both ends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import CodecError


@dataclass(frozen=True)
class Change:
    key: str  # the item's key attributes as canonical JSON: the same key always gives the same text
    keys: dict[str, Any]
    new_image: dict[str, Any] | None  # None: deleted
    written_us: int  # Metadata.WriteTimestampMicros (0 when absent): the later of two lines of a key wins

    def request(self) -> bytes:
        """The BatchWriteItem request that makes the table hold this change."""
        body = {"PutRequest": {"Item": self.new_image}} if self.new_image is not None else {
            "DeleteRequest": {"Key": self.keys}}
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def key_text(keys: Mapping[str, Any]) -> str:
    return json.dumps(keys, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_change(line: bytes | str) -> Change:
    """One line of an incremental export; CodecError when it is not one."""
    try:
        doc = json.loads(line)
    except ValueError as exc:
        raise CodecError(f"not a JSON line: {exc}") from exc
    keys = doc.get("Keys") if isinstance(doc, dict) else None
    new = doc.get("NewImage") if isinstance(doc, dict) else None
    if not isinstance(keys, dict) or not keys or (new is not None and not isinstance(new, dict)):
        raise CodecError('an incremental export line must hold "Keys" (and "NewImage" unless the item was deleted)')
    stamp = ((doc.get("Metadata") or {}).get("WriteTimestampMicros") or {}).get("N", "0")
    if not str(stamp).isdigit():
        raise CodecError(f"WriteTimestampMicros {stamp!r} is not a whole number")
    return Change(key_text(keys), keys, new, int(stamp))


def net_changes(lines: Iterable[bytes | str]) -> dict[str, Change]:
    """One change per key (DynamoDB writes one; should a key come twice, the later write wins)."""
    changes: dict[str, Change] = {}
    for line in lines:
        if line.strip():
            change = parse_change(line)
            held = changes.get(change.key)
            if held is None or change.written_us >= held.written_us:
                changes[change.key] = change
    return changes


def apply_changes(image: dict[str, dict[str, Any]], changes: Iterable[Change]) -> dict[str, dict[str, Any]]:
    """A table's items by key text after the changes (a new dict; `image` is left as it is)."""
    after = dict(image)
    for change in changes:
        if change.new_image is None:
            after.pop(change.key, None)
        else:
            after[change.key] = change.new_image
    return after


def apply_to_keys(keys: set[str], changes: Iterable[Change]) -> None:
    """The same, on the set of keys alone (what a restore verifies against), in place."""
    for change in changes:
        if change.new_image is None:
            keys.discard(change.key)
        else:
            keys.add(change.key)
