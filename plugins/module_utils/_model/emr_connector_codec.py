# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The `emr-connector` item format, as the DynamoDBExport tool of the EMR DynamoDB connector writes it.

One item per line, in one of two styles:

- JSON: `{"name": {"s": "v"}, "age": {"n": "23"}, "tags": {"sS": ["a"]}, "gone": {"nULL": true}}`; the type keys
  are the Java SDK's field names (`s n b sS nS bS m l bOOL nULL`). Readers must accept any casing of them.
- legacy (older exports): `name\\u0003{"s":"v"}\\u0002name2\\u0003{"n":"1"}`, attributes separated by U+0002,
  name and value by U+0003.

Binary is base64 in both, as in DynamoDB JSON, so converting to and from `dynamodb-json` (upper-case type
keys, see item_codec) only renames type keys; numbers stay strings (38 digits are never lost to a float).
Which files of a DynamoDBExport output folder are data is export_files' rule.
"""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import CodecError

# Type key as the connector writes it, per DynamoDB JSON type key.
EMR_TYPE_KEYS = {"S": "s", "N": "n", "B": "b", "SS": "sS", "NS": "nS", "BS": "bS", "M": "m", "L": "l",
                 "BOOL": "bOOL", "NULL": "nULL"}
# Lower-cased connector type key -> DynamoDB JSON type key (how a line is read, whatever its casing).
_FROM_LOWER = {emr.lower(): ddb for ddb, emr in EMR_TYPE_KEYS.items()}

ATTRIBUTE_SEPARATOR = "\u0002"
NAME_SEPARATOR = "\u0003"

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _to_dynamodb_value(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CodecError(f"an attribute value must be an object with one type key, got {value!r:.80}")
    present = [(k, v) for k, v in value.items() if v is not None]  # Gson may write absent fields as null
    if len(present) != 1:
        raise CodecError(f"an attribute value must have exactly one type key, got {sorted(value)!r:.80}")
    (key, inner), = present
    kind = _FROM_LOWER.get(key.lower())
    if kind is None:
        raise CodecError(f"unknown attribute type {key!r}")
    if kind == "M":
        if not isinstance(inner, dict):
            raise CodecError(f"a map value must be an object, got {inner!r:.80}")
        return {"M": {name: _to_dynamodb_value(v) for name, v in inner.items()}}
    if kind == "L":
        if not isinstance(inner, list):
            raise CodecError(f"a list value must be an array, got {inner!r:.80}")
        return {"L": [_to_dynamodb_value(v) for v in inner]}
    if kind in ("N", "S", "B") and not isinstance(inner, str):
        raise CodecError(f"a {kind} value must be a string, got {inner!r:.80}")
    if kind in ("SS", "NS", "BS") and not (isinstance(inner, list) and all(isinstance(v, str) for v in inner)):
        raise CodecError(f"a {kind} value must be an array of strings, got {inner!r:.80}")
    if kind in ("BOOL", "NULL") and not isinstance(inner, bool):
        raise CodecError(f"a {kind} value must be true or false, got {inner!r:.80}")
    return {kind: inner}


def _to_emr_value(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), = value.items()
    key = EMR_TYPE_KEYS.get(kind)
    if key is None:
        raise CodecError(f"unknown attribute type {kind!r}")
    if kind == "M":
        return {key: {name: _to_emr_value(v) for name, v in inner.items()}}
    if kind == "L":
        return {key: [_to_emr_value(v) for v in inner]}
    return {key: inner}


def to_dynamodb_json_item(emr_item: dict[str, Any]) -> dict[str, Any]:
    """A connector item (any type-key casing) as a DynamoDB JSON item (upper-case type keys, binary base64)."""
    if not isinstance(emr_item, dict):
        raise CodecError(f"an item must be a JSON object, got {emr_item!r:.80}")
    return {name: _to_dynamodb_value(value) for name, value in emr_item.items()}


def to_emr_item(json_item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB JSON item (as item_codec.to_json_item makes it) in the connector's JSON style."""
    return {name: _to_emr_value(value) for name, value in json_item.items()}


def _parse(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CodecError(f"{what} is not JSON: {exc}") from exc


def decode_line(line: str | bytes) -> dict[str, Any]:
    """One connector line, either style, as a DynamoDB JSON item."""
    text = (line.decode("utf-8") if isinstance(line, bytes) else line).removesuffix("\n").removesuffix("\r")
    if NAME_SEPARATOR not in text:
        return to_dynamodb_json_item(_parse(text, "an emr-connector line"))
    item: dict[str, Any] = {}
    for field in text.split(ATTRIBUTE_SEPARATOR):
        if not field:
            continue
        name, sep, value = field.partition(NAME_SEPARATOR)
        if not sep:
            raise CodecError(f"legacy emr-connector field {field!r:.60} has no name separator (U+0003)")
        item[name] = _to_dynamodb_value(_parse(value, f"the value of attribute {name!r}"))
    return item


def encode_line(json_item: dict[str, Any]) -> str:
    """A DynamoDB JSON item as one connector JSON line (no trailing newline)."""
    return _dumps(to_emr_item(json_item))


def encode_legacy_line(json_item: dict[str, Any]) -> str:
    """A DynamoDB JSON item in the older `name\\u0003value\\u0002...` style (no trailing newline)."""
    return ATTRIBUTE_SEPARATOR.join(name + NAME_SEPARATOR + _dumps(_to_emr_value(value))
                                    for name, value in json_item.items())


def to_put_request(line: str | bytes) -> str:
    """One connector line as the JSON of a BatchWriteItem PutRequest."""
    return '{"PutRequest":' + _dumps({"Item": decode_line(line)}) + "}"
