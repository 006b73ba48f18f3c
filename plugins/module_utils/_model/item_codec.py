# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The `dynamodb-json` item format: one `{"Item": {...}}` per line, upper-case type keys, binary as base64.

This is what a native DynamoDB export writes, so a backup's `data/` can be fed to ImportTable.
Items arrive from botocore in wire form (binary already decoded to bytes, numbers as strings);
numbers stay strings end to end so 38-digit precision is never lost to a float.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError

Item = dict[str, dict[str, Any]]

SCALAR_TYPES = frozenset(("S", "N", "SS", "NS", "BOOL", "NULL"))
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_dumps_sorted = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


class CodecError(HippolyteError):
    """A stored item that is not valid DynamoDB JSON; says where."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _to_json_value(value: dict[str, Any]) -> dict[str, Any]:
    # Only binary and containers need rewriting; scalars are already JSON-safe and are reused as-is.
    (kind, inner), = value.items()
    if kind in SCALAR_TYPES:
        return value
    if kind == "B":
        return {"B": _b64(inner)}
    if kind == "BS":
        return {"BS": [_b64(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _to_json_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_to_json_value(v) for v in inner]}
    raise CodecError(f"unknown attribute type {kind!r}")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError) as exc:
        raise CodecError(f"binary value {text!r:.40} is not base64") from exc


def _from_json_value(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise CodecError(f"an attribute value must be an object with one type key, got {value!r:.80}")
    (kind, inner), = value.items()
    if kind in SCALAR_TYPES:
        return value
    if kind == "B":
        return {"B": _unb64(inner)}
    if kind == "BS":
        return {"BS": [_unb64(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _from_json_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_from_json_value(v) for v in inner]}
    raise CodecError(f"unknown attribute type {kind!r}")


def to_json_item(item: Item) -> dict[str, Any]:
    return {name: _to_json_value(value) for name, value in item.items()}


def from_json_item(doc: dict[str, Any]) -> Item:
    return {name: _from_json_value(value) for name, value in doc.items()}


def encode_json_line(json_item: dict[str, Any]) -> str:
    """An item already in JSON form (binary as base64, as DynamoDB sends it) as a dynamodb-json line."""
    return _dumps({"Item": json_item})


def encode_line(item: Item) -> str:
    """A wire item (binary as bytes, as botocore returns it) as a dynamodb-json line (no trailing newline)."""
    return encode_json_line(to_json_item(item))


def decode_line(line: str | bytes) -> Item:
    """One dynamodb-json line back to a wire item ready for PutItem/BatchWriteItem."""
    try:
        doc = json.loads(line)
    except ValueError as exc:
        raise CodecError(f"not a JSON line: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("Item"), dict):
        raise CodecError('a dynamodb-json line must be {"Item": {...}}')
    return from_json_item(doc["Item"])


def canonical_number(text: str) -> str:
    """One spelling per number (`1`, `1.0`, `1E0` and `10E-1` are all `1`), without rounding any of its digits."""
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise CodecError(f"{text!r:.40} is not a number") from exc
    if not number.is_finite():
        raise CodecError(f"{text!r:.40} is not a number")
    sign, digits, exponent = number.as_tuple()
    shown = "".join(map(str, digits)).lstrip("0")
    if not shown:
        return "0"
    trailing = len(shown) - len(shown.rstrip("0"))
    return format(Decimal((sign, tuple(int(d) for d in shown[:len(shown) - trailing]), int(exponent) + trailing)), "f")


def canonical_value(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute in JSON form (binary as base64) with numbers in one spelling and sets in order."""
    (kind, inner), = value.items()
    if kind == "N":
        return {"N": canonical_number(inner)}
    if kind in ("SS", "BS"):  # sets: their order carries no meaning
        return {kind: sorted(inner)}
    if kind == "NS":
        return {kind: sorted(canonical_number(v) for v in inner)}
    if kind == "M":
        return {"M": {k: canonical_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [canonical_value(v) for v in inner]}
    return value


def canonical_bytes(json_item: dict[str, Any]) -> bytes:
    """An item in JSON form as bytes that are equal exactly when DynamoDB would hold the same item: attribute
    order, set order and the spelling of numbers (1.0 or 1) do not count."""
    canonical = {name: canonical_value(value) for name, value in json_item.items()}
    return _dumps_sorted(canonical).encode()
