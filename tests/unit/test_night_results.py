"""What the backup role reads from its engines' registered results."""

from __future__ import annotations

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_results import (
    night_failures,
    night_tables,
)


def test_night_tables_and_failures_read_single_and_looped_results() -> None:
    local = {"failed": True, "msg": "backed up 1 of 2 table(s); failed: y",
             "tables": [{"name": "x", "status": "ok"}, {"name": "y", "status": "failed"}]}
    emr = {"results": [{"tables": [{"name": "b", "status": "ok"}]},
                       {"failed": True, "msg": "cluster c05 did not start"},
                       {"skipped": True, "tables": [{"name": "never"}]}]}
    skipped_export = {"skipped": True}
    registered = [local, emr, skipped_export, "undefined"]
    assert [t["name"] for t in night_tables(registered)] == ["x", "y", "b"]
    assert night_failures(registered) == ["backed up 1 of 2 table(s); failed: y", "cluster c05 did not start"]
    assert night_failures([{"tables": []}]) == []
