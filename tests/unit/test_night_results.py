"""What the backup role reads from the plan and from its engines' registered results."""

from __future__ import annotations

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_results import (
    night_failures,
    night_tables,
    role_view,
)


def table(name: str, boosted: bool = False) -> dict:
    return {"name": name, "rcu": 5, "boost_rcu": 9 if boosted else 5, "boosted": boosted}


PLAN = {"clusters": [
    {"id": "c01", "engine": "local", "tables": [table("a", boosted=True)]},
    {"id": "c02", "engine": "emr", "tables": [table("b", boosted=True), table("c")]},
    {"id": "c03", "engine": "datapipeline", "tables": [table("d", boosted=True)]},
    {"id": "c04", "engine": "export", "tables": [table("e"), table("f")]},
]}


def test_role_view_names_each_phases_tables() -> None:
    view = role_view(PLAN)
    assert [c["id"] for c in view["clusters_by_engine"]["emr"]] == ["c02"]
    assert view["clusters_by_engine"]["auto"] == []
    # The local engine boosts its own tables around each backup; exports read no capacity.
    # Each row is also dynamodb_throughput's `tables` element (name, read_capacity) as it is.
    assert view["cluster_boosts"] == [{"name": n, "rcu": 5, "boost_rcu": 9, "read_capacity": 9} for n in ("b", "d")]
    # What the run's last step puts back if anything still holds it: every engine's boosted tables.
    assert view["boosted_tables"] == ["a", "b", "d"]
    assert view["export_tables"] == ["e", "f"]


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
