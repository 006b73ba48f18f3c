"""The night for people: the printed summary and the self-contained HTML report (plain functions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.human_units import human_bytes, human_duration
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_report import night_report
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import PlanSettings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import TableInfo
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.planner import plan_backups

STARTS = datetime(2026, 11, 23, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def night_plan(names: list[str]) -> dict:
    plan = plan_backups([TableInfo(n, size_bytes=1024**2, rcu=100) for n in names],
                        PlanSettings(window_s=7 * 3600, engine="local")).to_dict()
    plan["window"] = {"starts_at": STARTS.isoformat()}
    plan["deadline"] = (STARTS + timedelta(hours=7)).isoformat()
    plan["night"] = {"id": "20261123T000000Z"}
    return plan


def outcome(name: str, status: str = "ok", minutes: int = 3, **extra: object) -> dict:
    started = STARTS + timedelta(minutes=1)
    return {"name": name, "engine": "local", "status": status, "items": 1500, "bytes": 3 * 1024**2,
            "started_at": started.isoformat(), "finished_at": (started + timedelta(minutes=minutes)).isoformat(),
            "lane": "l01", "manifest_url": f"s3://b/{name}/hippolyte-manifest.json", **extra}


def test_failed_tables_come_first_and_the_totals_add_up() -> None:
    names = ["orders", "users", "broken", "never"]
    local = {"tables": [outcome("orders", boosted=True), outcome("users", minutes=125),
                        outcome("broken", "failed", error="AccessDenied: no\nsecond line", items=0, bytes=0)]}
    report = night_report([local, None, None, None], "prod", "eu-west-1", "/r/prod-backup.md",
                          plan=night_plan(names), lease={"account_id": "123456789012"},
                          unboosts={"put_back": ["orders"]})
    lines = report["lines"]
    assert lines[0] == "FAILED: prod (eu-west-1, account 123456789012), night 20261123T000000Z"
    table_lines = lines[2:6]
    assert [line.split()[0] for line in table_lines] == ["broken", "never", "orders", "users"]
    assert table_lines[0].endswith("FAILED: AccessDenied: no")  # the first line of the error only
    assert table_lines[1].endswith("not run")
    assert re.search(r"orders\s+local\s+1,500\s+3\.0 MiB\s+3m00s\s+ok \(boosted\)$", table_lines[2])
    assert "2h05m" in table_lines[3]
    assert "Tables: 2 ok, 1 failed, 1 not run; items 3,000; size 6.0 MiB (6,291,456 bytes)" in lines
    night = next(line for line in lines if line.startswith("Night: "))
    assert "planned end 2026-11-23 00:" in night  # from the plan: no engine ran "never"
    assert "actual end 2026-11-23 02:06:00 UTC" in night and "window closes 2026-11-23 07:00:00 UTC" in night
    assert night.endswith("overrun: no")
    assert "Capacity put back: 2 table(s): orders, users" not in lines  # only what a step put back
    assert "Capacity put back: 1 table(s): orders" in lines
    assert lines[-2:] == ["Report: /r/prod-backup.md", "Report page (HTML, Gantt chart inline): /r/prod-backup.html"]
    assert report["html_path"] == "/r/prod-backup.html"
    assert report["summary"]["html_report"] == "/r/prod-backup.html" and report["summary"]["status"] == "failed"


def test_thousands_of_tables_print_every_failure_and_cap_the_good_ones() -> None:
    good = [outcome(f"t{n:04d}") for n in range(3000)]
    bad = [outcome(f"bad{n}", "failed", error="Throttled") for n in range(70)]
    report = night_report([{"tables": good + bad}], "prod", "eu-west-1", "/r/p.md", max_ok_lines=50)
    lines = report["lines"]
    assert sum(1 for line in lines if line.startswith("bad")) == 70
    assert [line.split()[0] for line in lines if re.match(r"t\d{4} ", line)] == [f"t{n:04d}" for n in range(50)]
    assert "... and 2950 more ok; full list in /r/p.html" in lines
    assert len(lines) < 140
    assert report["html"].count("<tr class=\"ok\">") == 3000  # the page holds every table


def test_the_html_page_is_self_contained_escaped_and_draws_planned_and_actual() -> None:
    names = ["orders", "users.v2"]
    plan = night_plan(names)
    evil = "x<script>alert(1)</script>"
    local = {"tables": [outcome("orders"), outcome("users.v2", "failed", error=f"bad {evil} & worse")]}
    report = night_report([local], "prod<1>", "eu-west-1", "/r/p.md", plan=plan, destination="s3://b/p")
    page = report["html"]
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "&lt;script&gt;" in page and "prod&lt;1&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", page)
    assert "<link" not in page
    assert all(f"<td>{n}</td>" in page for n in names)
    svg = page[page.index("<svg"):page.index("</svg>") + len("</svg>")]
    titles = [r.find(f"{SVG}title").text for r in ElementTree.fromstring(svg).iter(f"{SVG}rect")]
    assert any(t.startswith("orders:") for t in titles)  # planned
    assert any(t.startswith("orders (actual, backed up): 0h01 to 0h04") for t in titles)
    assert any(t.startswith("users.v2 (actual, not backed up)") for t in titles)


def test_a_run_stopped_before_planning_still_reports() -> None:
    report = night_report([None, None, None, None], "prod", "eu-west-1", "/r/p.md",
                          plan={"failed": True, "msg": "AccessDenied"},
                          stopped={"task": "Plan the night", "msg": "AccessDenied"})
    assert report["lines"][0] == "FAILED: prod (eu-west-1), night not planned"
    assert "Note: The run stopped at 'Plan the night': AccessDenied" in report["lines"]
    assert "<svg" not in report["html"] and "AccessDenied" in report["html"]


def test_check_mode_results_are_shown_as_notes() -> None:
    dry = {"tables": [], "msg": "would back up 2 table(s) in 1 lane(s)", "changed": True}
    report = night_report([dry], "prod", "eu-west-1", "/r/p.md", plan=night_plan(["orders", "users"]))
    assert "Note: would back up 2 table(s) in 1 lane(s)" in report["lines"]
    assert "Tables: 0 ok, 0 failed, 2 not run; items 0; size 0 B (0 bytes)" in report["lines"]


def test_human_units() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1536, 5 * 1024**3, 3 * 1024**6)] == [
        "0 B", "1023 B", "1.5 KiB", "5.0 GiB", "3072.0 PiB"]
    assert [human_duration(s) for s in (None, 0.4, 59, 60, 3599, 3600, 7380)] == [
        "-", "0s", "59s", "1m00s", "59m59s", "1h00m", "2h03m"]
