"""The run summary, the drill's rotation and the after-the-night settings checks (plain functions)."""

from __future__ import annotations

from datetime import UTC, datetime

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_settings import night_ops_problems
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_summary import night_summary, should_notify
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.drill import pick_table, scratch_name

LOCAL = {"tables": [{"name": "a", "engine": "local", "status": "ok", "bytes": 10, "boosted": True},
                    {"name": "b", "engine": "local", "status": "failed", "bytes": 0, "error": "AccessDenied"}],
         "overran": ["a"], "capacity_notes": [], "failed": True, "msg": "1 table failed: b"}
EMR = {"results": [{"tables": [{"name": "c", "engine": "emr", "status": "ok", "bytes": 5}],
                    "capacity_put_back": ["c"]}, {"skipped": True}]}


def test_summary_counts_per_engine_and_names_the_failed_table() -> None:
    summary = night_summary([LOCAL, None, EMR, None], "prod", "eu-west-1", "/r/prod.md",
                            unboosts={"put_back": ["d"]}, drill={"skipped": True})
    assert summary["status"] == "failed" and summary["tables_ok"] == 2
    assert summary["tables_failed"] == [{"table": "b", "engine": "local", "error": "AccessDenied"}]
    assert summary["per_engine"] == {"local": {"ok": 1, "failed": 1}, "emr": {"ok": 1, "failed": 0}}
    assert summary["bytes"] == 15 and summary["overruns"] == ["a"]
    assert summary["capacity_put_back"] == ["a", "c", "d"] and summary["drill"] is None
    assert summary["subject"] == "Hippolyte backup prod (eu-west-1): FAILED, 1 table(s) not backed up"
    assert should_notify(summary, on_success=False)


def test_a_failed_drill_fails_a_night_whose_tables_all_succeeded() -> None:
    drill = {"failed": True, "msg": "t-drill holds 3 items", "table": "c", "scratch_deleted": True}
    summary = night_summary([None, None, EMR, None], "prod", "eu-west-1", "/r.md", drill=drill)
    assert summary["status"] == "failed" and summary["drill"]["error"] == "t-drill holds 3 items"
    assert summary["subject"].endswith("FAILED, the restore drill failed")
    ok = night_summary([None, None, EMR, None], "prod", "eu-west-1", "/r.md")
    assert ok["status"] == "ok" and not should_notify(ok, on_success=False) and should_notify(ok, on_success=True)


def test_the_drill_rotates_by_day_of_year() -> None:
    tables = ["c", "a", "b"]
    picked = [pick_table(tables, datetime(2030, 1, day, tzinfo=UTC)) for day in (1, 2, 3, 4)]
    assert picked == ["b", "c", "a", "b"]
    assert scratch_name("x" * 255, datetime(2030, 1, 2, tzinfo=UTC)) == "x" * 240 + "-drill-20300102"


def test_settings_problems_name_the_variable_and_fix() -> None:
    assert night_ops_problems({}, {}, False) == []
    problems = night_ops_problems({"keep_daily": 0}, {"sns_topic_arn": "arn:aws:sns:eu-west-1:123:x",
                                                      "webhook_file": "rel.json"}, {"tabel": "orders"})
    assert problems[0].startswith("hippolyte_retention.keep_last: no retention rule is set")
    assert "is not an SNS topic ARN" in problems[1] and "not an absolute path" in problems[2]
    assert problems[3] == "hippolyte_drill has an unknown key 'tabel': did you mean table?"
    assert night_ops_problems({"keep_last": 3}, {"webhook_file": "/var/spool/h.json"}, {"table": "orders"}) == []


def test_each_table_s_recovery_point_is_its_backup_s_time_and_its_age_at_the_summary() -> None:
    export = {"tables": [{"name": "orders", "engine": "export", "status": "ok",
                          "backup_url": "s3://b/ddb/123456789012/eu-west-1/orders/2026-11-20-01-00-00"},
                         {"name": "users", "engine": "export", "status": "failed", "backup_url": "s3://b/x"}]}
    summary = night_summary([export], "prod", "eu-west-1", "/r.md", now=datetime(2026, 11, 20, 6, 30, tzinfo=UTC))
    assert summary["recovery_points"] == [
        {"table": "orders", "newest_point": "2026-11-20T01:00:00+00:00", "age_s": 5 * 3600 + 1800},
        {"table": "users", "newest_point": None, "age_s": None}]
