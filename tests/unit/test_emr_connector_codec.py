"""The emr-connector codec: both line styles, any type-key casing, round trips with the dynamodb-json codec."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import emr_connector_codec as emr
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import (
    CodecError,
    decode_line,
    encode_line,
    from_json_item,
    to_json_item,
)
from tests.support.items import N38, attribute_values, every_type_item, items

# Legacy lines separate fields with U+0002 and U+0003 and items with newlines, unescaped in names.
_legacy_names = st.text(min_size=1, max_size=12).filter(lambda n: not set(n) & {"\u0002", "\u0003", "\n", "\r"})
legacy_items = st.dictionaries(_legacy_names, attribute_values, min_size=1, max_size=8)


def _lower_case_keys(value: Any) -> Any:
    """Every type key lower-cased, nested too (a connector version that writes `bool`/`null`/`ss`)."""
    (key, inner), = value.items()
    if key.lower() == "m":
        return {"m": {n: _lower_case_keys(v) for n, v in inner.items()}}
    if key.lower() == "l":
        return {"l": [_lower_case_keys(v) for v in inner]}
    return {key.lower(): inner}


@given(items)
@settings(max_examples=150, deadline=None)
def test_json_lines_round_trip_through_dynamodb_json(item: dict[str, Any]) -> None:
    json_item = to_json_item(item)
    line = emr.encode_line(json_item)
    assert emr.decode_line(line) == json_item
    # ... and the PutRequest restore sends decodes to the very same wire item.
    assert decode_line(json.dumps(json.loads(emr.to_put_request(line))["PutRequest"])) == item


@given(legacy_items)
@settings(max_examples=150, deadline=None)
def test_legacy_lines_round_trip(item: dict[str, Any]) -> None:
    json_item = to_json_item(item)
    assert from_json_item(emr.decode_line(emr.encode_legacy_line(json_item).encode())) == item


@given(items)
@settings(max_examples=60, deadline=None)
def test_type_keys_are_read_in_any_casing(item: dict[str, Any]) -> None:
    json_item = to_json_item(item)
    lower = {name: _lower_case_keys(v) for name, v in emr.to_emr_item(json_item).items()}
    upper = json.loads(encode_line(item))["Item"]  # DynamoDB's own casing is accepted too
    assert emr.decode_line(json.dumps(lower)) == json_item
    assert emr.decode_line(json.dumps(upper)) == json_item


def test_every_type_in_the_connector_spelling() -> None:
    item = every_type_item("k1")
    doc = json.loads(emr.encode_line(to_json_item(item)))
    assert doc["pk"] == {"s": "k1"} and doc["empty_s"] == {"s": ""}
    assert doc["n"] == {"n": N38}
    assert doc["b"] == {"b": "AP9iaW5hcnkQ"}
    assert doc["ss"] == {"sS": ["a", "b", ""]} and doc["ns"] == {"nS": ["1", "-2.5", N38]}
    assert doc["bs"] == {"bS": ["AQ==", "AgM="]}
    assert doc["m"] == {"m": {"nested_b": {"b": "3q0="}, "inner": {"m": {"deep": {"l": [{"b": "vu8="}]}}}}}
    assert doc["null"] == {"nULL": True} and doc["t"] == {"bOOL": True} and doc["f"] == {"bOOL": False}
    assert doc["empty_l"] == {"l": []} and doc["empty_m"] == {"m": {}}
    assert from_json_item(emr.decode_line(json.dumps(doc))) == item


def test_a_hand_written_legacy_line() -> None:
    line = 'name\u0003{"s":"Ada"}\u0002age\u0003{"n":"36"}\u0002tags\u0003{"sS":["x","y"]}\u0002nil\u0003{"nULL":true}'
    assert emr.decode_line(line + "\n") == {"name": {"S": "Ada"}, "age": {"N": "36"}, "tags": {"SS": ["x", "y"]},
                                            "nil": {"NULL": True}}


def test_null_fields_written_by_gson_are_ignored() -> None:
    assert emr.decode_line('{"a":{"s":null,"n":"5","bOOL":null}}') == {"a": {"N": "5"}}


@pytest.mark.parametrize("line, problem", [
    ('{"a":{"x":"1"}}', "unknown attribute type"),
    ('{"a":{"s":"1","n":"2"}}', "exactly one type key"),
    ('{"a":{"n":5}}', "must be a string"),
    ('{"a":{"bOOL":"yes"}}', "true or false"),
    ('{"a":{"sS":"x"}}', "array of strings"),
    ('not json', "not JSON"),
    ('a\u0003{"s":"1"}\u0002b', "no name separator"),
])
def test_damaged_lines_are_refused(line: str, problem: str) -> None:
    with pytest.raises(CodecError, match=problem):
        emr.decode_line(line)
