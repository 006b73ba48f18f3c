"""report_sections: what each section of the run report says, from the night's registered results; a section the
results did not trigger is empty (and left out of the report)."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlanDocument
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.report_model import Section, Strong
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.report_sections import (
    TABLE_HEADS,
    NightResults,
    capacity_boosts,
    held_by_others,
    left_alone,
    left_as_others_set,
    left_boosted,
    not_backed_up,
    not_planned,
    restore_drill,
    retention,
    tables,
    warnings,
)


def texts(section: Section) -> list[str]:
    return ["".join(line) for line in (*section.paragraphs, *section.items)]


def row(name: str, status: str, **changed: Any) -> dict[str, Any]:
    return {"name": name, "engine": "local", "lane": 1, "outcome": status, "status": status, "items": 1200,
            "bytes": 3 * 1024**2, "read_units_consumed": 1536.5, "planned_start": "2026-11-23T01:00:00Z",
            "planned_end": "2026-11-23T01:10:00Z", "started_at": "2026-11-23T01:01:00Z",
            "finished_at": "2026-11-23T01:05:30Z", "took_s": 270, "backup": f"file:///b/{name}", "error": "", **changed}


def test_a_row_per_table_with_units_people_read_and_a_kind_per_row() -> None:
    section = tables([row("orders", "failed", error="boom", read_units_consumed=None, lane=None),
                      row("users", "not run", took_s=None), row("items", "ok")])
    assert section.table is not None and section.table.heads == TABLE_HEADS
    first = dict(zip(TABLE_HEADS, section.table.rows[0], strict=True))
    assert first["items"] == "1,200" and first["size"] == "3.0 MiB" and first["bytes"] == "3,145,728"
    assert (first["lane"], first["read units used"], first["took"]) == ("", "-", "4m30s")
    assert first["planned start"] == "2026-11-23 01:00:00 UTC"
    assert dict(zip(TABLE_HEADS, section.table.rows[2], strict=True))["read units used"] == "1,536.5"
    assert section.table.kinds == ("failed", "not-run", "ok")


def test_not_backed_up_lists_failures_only_with_their_error() -> None:
    section = not_backed_up([row("orders", "failed", error="AccessDenied"), row("users", "not run"),
                             row("items", "ok"), row("logs", "running", error="window closed")])
    assert texts(section) == ["orders (local, failed): AccessDenied", "logs (local, running): window closed"]
    assert isinstance(section.items[0][0], Strong)
    assert not_backed_up([row("items", "ok")]).items == ()


@pytest.mark.parametrize("plan", [None, {"failed": True, "unplannable": [{"name": "x", "reason": "y"}]}, {}])
def test_not_planned_is_empty_without_a_good_plan(plan: Any) -> None:
    assert not_planned(PlanDocument.from_result(plan)).items == ()


def test_not_planned_names_each_table_and_why() -> None:
    plan = {"clusters": [], "unplannable": [{"name": "huge", "reason": "needs 90000 RCU, table limit 40000"}]}
    assert texts(not_planned(PlanDocument.from_result(plan))) == ["huge: needs 90000 RCU, table limit 40000"]


def test_warnings_of_a_night_that_failed_to_plan_stopped_overran_and_whose_engine_backed_up_nothing() -> None:
    summary = {"stopped_at": {"task": "Boost the cluster tables", "msg": "denied"}, "overruns": ["orders", "users"]}
    night = NightResults(engines=[{"results": [{"msg": "lease lost", "tables": [], "overran": []},
                                               {"skipped": True, "msg": "skipped"}]},
                                  None, {"msg": "EMR refused", "tables": []}, {"msg": "fine", "tables": [{}]}],
                         plan={"failed": True, "msg": "window is empty"})
    assert texts(warnings(night, summary, {"deadline": "2026-11-23T05:00:00Z"})) == [
        "Planning failed: window is empty",
        "The run stopped at 'Boost the cluster tables': denied",
        "The night overran its window: 2 table(s) finished after 2026-11-23 05:00:00 UTC: orders, users.",
        "Local engine: lease lost",
        "Engine: EMR refused"]


def test_no_warning_for_a_good_night_but_a_missing_plan_is_one() -> None:
    quiet = {"stopped_at": None, "overruns": []}
    assert warnings(NightResults(engines=[], plan={"clusters": []}), quiet, {"deadline": None}).paragraphs == ()
    assert texts(warnings(NightResults(engines=[]), quiet, {"deadline": None})) == [
        "Planning failed: the run stopped before planning"]


def test_a_run_started_outside_its_window_says_so() -> None:
    plan = {"clusters": [], "window": {"outside": True, "start": "01:00", "end": "05:00", "timezone": "UTC",
                                       "starts_at": "2026-11-23T09:00:00Z"}}
    night = NightResults(engines=[], plan=plan, document=PlanDocument.from_result(plan))
    (line,) = texts(warnings(night, {"stopped_at": None, "overruns": []}, {"deadline": None}))
    assert line.startswith("Outside the window: Started outside the window 01:00-05:00 UTC")


def test_capacity_boosts_say_what_each_boost_did_and_when_it_went_back() -> None:
    boosts = {"per_table": [
        {"table": "orders", "changed": True, "before": {"table": {"read": {"units": 5}}},
         "after": {"table": {"read": {"units": 500}}}},
        {"table": "users", "changed": True, "before": {}, "after": {"table": {"read": {"units": 90}}}},
        {"table": "items", "error": "LimitExceededException"},
        {"table": "logs", "held_by": "run-7", "hold_until": "2026-11-23T13:00:00Z"},
        {"table": "audit", "changed": False, "msg": "on demand: nothing to boost"},
        {"table": "lost", "changed": True, "before": None, "after": None}]}
    night = NightResults(engines=[{"results": [{"capacity_put_back": ["orders"]}]}], boosts=boosts,
                         unboosts={"put_back": ["users"]})
    section = capacity_boosts(night)
    assert section.table is not None and section.table.rows == (
        ("orders", "5 -> 500 RCU", "when its step ended"),
        ("users", "? -> 90 RCU", "at the end of the run"),
        ("items", "refused: LimitExceededException", "not boosted"),
        ("logs", "held by run run-7 until 2026-11-23T13:00:00Z, read on its original", "not boosted"),
        ("audit", "on demand: nothing to boost", "not boosted"),
        ("lost", "? -> ? RCU", "see the run log"))
    assert capacity_boosts(NightResults(engines=[], boosts={"skipped": True})).table.rows == ()  # type: ignore


def test_left_boosted_by_an_earlier_run() -> None:
    assert left_boosted(None).items == () and left_boosted({"repaired": [], "pending": []}).items == ()
    found = {"repaired": ["orders"], "pending": [{"table": "users"}, {"table": "users"}, {}]}
    assert texts(left_boosted(found)) == ["put back: orders", "still pending (next allowed decrease): users, ?"]
    assert texts(left_boosted({"pending": [{"table": "a"}]}))[0] == "put back: none"


def test_capacity_left_as_found() -> None:
    change = {"table": "orders", "resource": "table", "dimension": "read", "reason": "changed since the boost",
              "current": {"units": 70}, "original": {"units": 5},
              "boosted": {"units": 9, "autoscaling": {"min": 9, "max": 90}}}
    assert left_alone(change) == ("table read: changed since the boost; left at 70 (original 5, boost set min 9 "
                                  "max 90)")
    assert left_alone({}) == "None None: None; left at unknown (original unknown, boost set unknown)"
    summary = {"capacity_retired": [{"table": "users", "reason": "stale"}], "capacity_changed_by_others": [change]}
    assert texts(left_as_others_set(summary)) == ["users: record dropped, nothing put back: stale",
                                                  f"orders {left_alone(change)}"]


def test_held_by_another_run() -> None:
    held = {"held": [{"table": "orders", "held_by": "run-2", "hold_until": "2026-11-23T13:00:00Z"}]}
    assert texts(held_by_others(held)) == ["orders: run run-2, until 2026-11-23T13:00:00Z"]
    assert held_by_others({"skipped": True}).items == ()


def test_the_restore_drill_in_four_lines() -> None:
    assert restore_drill(None).items == () and restore_drill({"skipped": True}).items == ()
    done = {"table": "orders", "backup_url": "s3://b/o/1", "scratch_table": "orders-drill", "scratch_deleted": True,
            "counted_items": 12, "expected_items": 12}
    assert texts(restore_drill(done)) == ["table: orders; backup: s3://b/o/1", "scratch table: orders-drill (deleted)",
                                          "items: 12 counted, 12 in the manifest", "result: ok"]
    failed = texts(restore_drill({"failed": True, "msg": "count differs"}))
    assert failed == ["table: not picked; backup: none found", "scratch table: none (not deleted)",
                      "items: not counted, unknown in the manifest", "result: FAILED: count differs"]


def test_retention_lists_the_deleted_folders() -> None:
    assert retention(None).paragraphs == ()
    assert texts(retention({"deleted": []})) == ["0 backup folder(s) deleted."]
    assert texts(retention({"deleted": ["a/b", "c/d"]})) == ["2 backup folder(s) deleted:", "a/b", "c/d"]


def test_retention_says_what_locks_kept_and_which_increments_followed_their_backups() -> None:
    pruned = {"deleted": ["a/b"], "increments_deleted": ["a/increments/x_y", "a/increments/y_z"],
              "locked": {"a/c": {"retain_until": "2026-12-01T00:00:00+00:00", "legal_hold": False},
                         "a/d": {"retain_until": None, "legal_hold": True}}}
    assert texts(retention(pruned)) == [
        "1 backup folder(s) deleted, and 2 increment folder(s) no kept full backup carries forward; 2 kept because "
        "S3 Object Lock or a legal hold still protects them:",
        "a/b", "a/c (locked until 2026-12-01T00:00:00+00:00)", "a/d (locked until -, legal hold)"]
