# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""A Scan response body split into its items, as dynamodb-json lines cut from the body's own text, and the rest.

DynamoDB sends items already in the form a backup stores (type keys, numbers as strings, base64
binary), so each line is `{"Item":` + the item's bytes as sent + `}`: nothing is decoded into Python
objects and encoded back, which would cost more than the parse itself. The C json scanner still reads
every item once, to find where it ends and to refuse a body that is not JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_decoder = json.JSONDecoder()
_decode = _decoder.raw_decode
# raw_decode without its wrapper, for the per-item loop; JSONDecoder sets it in __init__, typeshed omits it.
_scan: Callable[[str, int], tuple[Any, int]] = _decoder.scan_once  # type: ignore[attr-defined]
_SPACES = " \t\n\r"
_SPACE = re.compile(f"[{_SPACES}]*")


@dataclass(frozen=True)
class PageLines:
    rest: bytes  # the body with an empty Items list, for botocore to parse
    lines: str  # one newline-terminated `{"Item":{...}}` line per item, in the page's order
    count: int


def _skip(text: str, pos: int) -> int:
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]  # matches the empty string too


def _expect(text: str, pos: int, char: str) -> int:
    if text[pos:pos + 1] != char:
        raise ValueError(f"expected {char!r} at {pos} in a Scan response")
    return _skip(text, pos + 1)


def _items(text: str, pos: int) -> tuple[list[str], int]:
    """The items of the JSON array at `pos` as text slices, and the position after the array."""
    pos = _expect(text, pos, "[")
    items: list[str] = []
    if text.startswith("]", pos):
        return items, pos + 1
    try:
        while True:  # the hot loop: one C scan per item, whitespace skipped only where there is some
            end = _scan(text, pos)[1]
            items.append(text[pos:end])
            if text[end] in _SPACES:
                end = _skip(text, end)
            if text[end] == "]":
                return items, end + 1
            if text[end] != ",":
                raise ValueError(f"expected ',' at {end} in a Scan response")
            pos = end + 1
            if text[pos] in _SPACES:
                pos = _skip(text, pos)
    except (StopIteration, IndexError) as exc:  # what the scanner and a cut-off body raise
        raise ValueError(f"a Scan response's items are not JSON near {pos}") from exc


def split_page(body: bytes) -> PageLines | None:
    """The page's items as lines and the body without them; None when the body has no Items."""
    text = body.decode()
    pos = _expect(text, _skip(text, 0), "{")
    while text[pos:pos + 1] != "}":
        key, pos = _decode(text, pos)
        pos = _expect(text, _skip(text, pos), ":")
        if key == "Items":
            items, end = _items(text, pos)
            if text.find("\n", pos, end) != -1:  # DynamoDB sends compact JSON; a line must hold one item
                items = [json.dumps(json.loads(item), ensure_ascii=False, separators=(",", ":")) for item in items]
            lines = '{"Item":' + '}\n{"Item":'.join(items) + "}\n" if items else ""
            return PageLines((text[:pos] + "[]" + text[end:]).encode(), lines, len(items))
        _value, pos = _decode(text, pos)
        pos = _skip(text, pos)
        if text[pos:pos + 1] == ",":
            pos = _skip(text, pos + 1)
    return None
