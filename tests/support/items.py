"""Items that exercise every DynamoDB attribute type, shared by codec, backup and restore tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# 38 significant digits, the most DynamoDB keeps; any float conversion would lose them.
N38 = "1234567890123456789012345678901234567.8"


def every_type_item(pk: str) -> dict[str, Any]:
    return {
        "pk": {"S": pk},
        "s": {"S": "grüße, 世界"},
        "empty_s": {"S": ""},
        "n": {"N": N38},
        "n_small": {"N": "-0.000000000000000000000000000000000000000000001"},
        "b": {"B": b"\x00\xffbinary\x10"},
        "ss": {"SS": ["a", "b", ""]},
        "ns": {"NS": ["1", "-2.5", N38]},
        "bs": {"BS": [b"\x01", b"\x02\x03"]},
        "m": {"M": {"nested_b": {"B": b"\xde\xad"}, "inner": {"M": {"deep": {"L": [{"B": b"\xbe\xef"}]}}}}},
        "l": {"L": [{"S": "x"}, {"N": "3"}, {"B": b"\x00"}, {"NULL": True}, {"BOOL": False}, {"L": []}, {"M": {}}]},
        "null": {"NULL": True},
        "t": {"BOOL": True},
        "f": {"BOOL": False},
        "empty_l": {"L": []},
        "empty_m": {"M": {}},
    }


def big_item(pk: str, size: int = 390 * 1024) -> dict[str, Any]:
    """An item near DynamoDB's 400 KB limit."""
    return {"pk": {"S": pk}, "blob": {"B": bytes(range(256)) * (size // 512)}, "text": {"S": "x" * (size // 2)}}


_names = st.text(min_size=1, max_size=12)
_numbers = st.from_regex(r"-?[1-9][0-9]{0,37}(\.[0-9]{1,10})?", fullmatch=True)


def _values(children: Any) -> Any:
    return st.one_of(
        st.fixed_dictionaries({"M": st.dictionaries(_names, children, max_size=4)}),
        st.fixed_dictionaries({"L": st.lists(children, max_size=4)}),
    )


attribute_values = st.recursive(
    st.one_of(
        st.builds(lambda v: {"S": v}, st.text(max_size=30)),
        st.builds(lambda v: {"N": v}, _numbers),
        st.builds(lambda v: {"B": v}, st.binary(max_size=30)),
        st.builds(lambda v: {"SS": sorted(v)}, st.sets(st.text(max_size=8), min_size=1, max_size=4)),
        st.builds(lambda v: {"NS": sorted(v)}, st.sets(_numbers, min_size=1, max_size=4)),
        st.builds(lambda v: {"BS": sorted(v)}, st.sets(st.binary(max_size=8), min_size=1, max_size=4)),
        st.just({"NULL": True}),
        st.builds(lambda v: {"BOOL": v}, st.booleans()),
    ),
    _values,
    max_leaves=12,
)

items = st.dictionaries(_names, attribute_values, min_size=1, max_size=8)
