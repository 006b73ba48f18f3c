"""The diff of a many-table capacity call: exactly the tables whose capacity moves, each with its own before and
after, whatever the other rows (held, on-demand, failed, already at target) say."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_diff import capacity_diff


def capacity(units: int) -> dict[str, Any]:
    return {"billing_mode": "PROVISIONED", "table": {"read": {"units": units}}, "indexes": {}}


rows = st.lists(st.tuples(st.booleans(), st.integers(1, 40000), st.integers(1, 40000), st.booleans()),
                max_size=12)


@given(rows)
def test_only_tables_that_change_are_shown_each_with_its_own_capacity(spec: list[tuple[bool, int, int, bool]]) -> None:
    results: list[dict[str, Any]] = []
    for n, (changed, was, becomes, failed) in enumerate(spec):
        row: dict[str, Any] = {"table": f"t{n}", "changed": changed and not failed}
        if failed:  # a table whose call failed has no capacity in its row, only the error
            row["error"] = "AccessDeniedException"
        else:
            row |= {"before": capacity(was), "after": capacity(becomes if changed else was)}
        results.append(row)

    diff = capacity_diff(results)

    moved = {f"t{n}" for n, (changed, _was, _becomes, failed) in enumerate(spec) if changed and not failed}
    assert set(diff["before"]) == set(diff["after"]) == moved
    for n, (_changed, was, becomes, _failed) in enumerate(spec):
        if f"t{n}" in moved:
            assert diff["before"][f"t{n}"]["table"]["read"]["units"] == was
            assert diff["after"][f"t{n}"]["table"]["read"]["units"] == becomes
