"""The night for people: the printed summary and the self-contained HTML report (plain functions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import escape
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
                        PlanSettings(window_s=7 * 3600, engine="local")).document().to_json()
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


def test_tables_not_started_at_the_window_end_are_not_run_and_the_night_is_heard() -> None:
    """The local lanes' `not run` (the window closed before their turn) reads as such in every output, says
    why, and fails the night, so it is sent."""
    why = "not started: the window closed at 2026-11-23 07:00:00+00:00"
    local = {"tables": [outcome("orders"), {"name": "late", "engine": "local", "status": "not run", "error": why,
                                            "lane": "l01"}],
             "not_run": ["late"], "failed": True, "msg": "backed up 1 of 2 table(s); not run: late"}
    report = night_report([local], "prod", "eu-west-1", "/r/p.md", plan=night_plan(["orders", "late"]))
    (late,) = [line for line in report["lines"] if line.startswith("late ")]
    assert late.endswith(f"not run ({why})")
    assert "Tables: 1 ok, 0 failed, 1 not run; items 1,500; size 3.0 MiB (3,145,728 bytes)" in report["lines"]
    summary = report["summary"]
    assert summary["status"] == "failed" and summary["tables_failed"] == [
        {"table": "late", "engine": "local", "error": why}]
    assert f"not run ({why})" in report["markdown"]


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
    assert any(t.startswith("orders (actual, backed up): 1m to 4m") for t in titles)
    assert any(t.startswith("users.v2 (actual, not backed up)") for t in titles)


def test_a_run_stopped_before_planning_still_reports() -> None:
    report = night_report([None, None, None, None], "prod", "eu-west-1", "/r/p.md",
                          plan={"failed": True, "msg": "AccessDenied"},
                          stopped={"task": "Plan the night", "msg": "AccessDenied"})
    assert report["lines"][0] == "FAILED: prod (eu-west-1), night not planned"
    assert "Note: The run stopped at 'Plan the night': AccessDenied" in report["lines"]
    assert "<svg" not in report["html"] and "AccessDenied" in report["html"]
    assert "**Planning failed:** AccessDenied" in report["markdown"]
    assert "<p><strong>Planning failed:</strong> AccessDenied</p>" in report["html"]
    assert "**The run stopped at 'Plan the night':** AccessDenied" in report["markdown"]


def test_check_mode_results_are_shown_as_notes() -> None:
    dry = {"tables": [], "msg": "would back up 2 table(s) in 1 lane(s)", "changed": True, "overran": []}
    report = night_report([dry], "prod", "eu-west-1", "/r/p.md", plan=night_plan(["orders", "users"]))
    assert "Note: would back up 2 table(s) in 1 lane(s)" in report["lines"]
    assert "**Local engine:** would back up 2 table(s) in 1 lane(s)" in report["markdown"]
    assert "<p><strong>Local engine:</strong> would back up 2 table(s) in 1 lane(s)</p>" in report["html"]
    assert "Tables: 0 ok, 0 failed, 2 not run; items 0; size 0 B (0 bytes)" in report["lines"]


SECTIONS = ("Tables", "Not backed up", "Capacity notes", "Not planned", "Capacity boosts",
            "Left boosted by an earlier run", "Boosted by another run, still live (left alone)", "Restore drill",
            "Second copy", "Retention")


def busy_night() -> dict:
    """A night that triggers every section: a failed table, an overrun, a capacity note, a table not planned,
    cluster boosts (raised, refused, held by another run, on-demand), reconcile's finds, a drill and retention."""
    plan = night_plan(["orders", "users", "legacy"])
    plan.update(unplannable=[{"name": "../x", "reason": "not a DynamoDB table name"}], report_path="/r/plan.md",
                gantt_path="/r/plan.svg", estimated_cost_usd=1.5)
    local = {"tables": [outcome("orders", boosted=True, read_units_consumed=12.5), outcome("users", resumed=True),
                        outcome("legacy", "failed", error="Throttled")],
             "overran": ["users"], "capacity_notes": ["users: a boost was refused, read at 100 RCU"]}
    emr = {"results": [{"tables": [outcome("e1", engine="emr")], "capacity_put_back": ["e1"]}]}
    raised = {"changed": True, "before": {"table": {"read": {"units": 10}}}}
    boosts = {"per_table": [
        {"table": "e1", **raised, "after": {"table": {"read": {"units": 100}}}},
        {"table": "e2", **raised, "after": {"table": {"read": {"units": 50}}}},
        {"table": "e3", "error": "LimitExceededException: no decrease left"},
        {"table": "e4", "held_by": "run-b", "hold_until": "2026-11-23T09:00:00Z"},
        {"table": "e5", "changed": False, "msg": "e5 is on-demand (PAY_PER_REQUEST)"}]}
    held = [{"table": "h1", "held_by": "run-c", "hold_until": "2026-11-23T08:00Z"}]
    reconciled = {"repaired": ["old1"], "held": held,
                  "pending": [{"table": "old2", "resource": "table"}, {"table": "old2", "resource": "index by_x"}]}
    drill = {"table": "orders", "backup_url": "s3://b/orders/1/", "scratch_table": "orders-drill",
             "scratch_deleted": True, "counted_items": 1499, "expected_items": 1500, "failed": True,
             "msg": "1499 item(s) restored, 1500 in the manifest"}
    return night_report([local, None, emr, None], "prod", "eu-west-1", "/r/p.md", plan=plan, destination="s3://b/p",
                        boosts=boosts, unboosts={"put_back": ["e2"]}, reconciled=reconciled, drill=drill,
                        retention={"deleted": ["s3://b/p/orders/2026-01-01/"]}, copy=COPY)


COPY = {"msg": "copied 1 backup(s) to s3://vault/p (2,048 bytes), 1 already there; 1 NOT copied: ...",
        "copied": [{"folder": "1/eu-west-1/orders/f", "bytes": 2048, "copy_url": "s3://vault/p/1/eu-west-1/orders/f"}],
        "already_copied": [{"folder": "1/eu-west-1/users/f"}],
        "not_copied": [{"folder": "1/eu-west-1/e1/f", "error": "sha256 differs"}]}


def test_a_copy_that_failed_fails_the_night_and_is_reported() -> None:
    report = busy_night()
    copied = report["summary"]["copy"]
    assert (copied["copied"], copied["bytes"], copied["already_copied"]) == (1, 2048, 1)
    assert copied["destination"] == "s3://vault/p/1/eu-west-1/orders/f"
    assert copied["not_copied"] == [{"folder": "1/eu-west-1/e1/f", "error": "sha256 differs"}]
    assert report["summary"]["status"] == "failed"
    assert any(line.startswith("Note: Second copy: copied 1 backup(s)") for line in report["lines"])
    assert "- **1/eu-west-1/e1/f**: NOT copied: sha256 differs" in report["markdown"]
    good = night_report([{"tables": [outcome("orders")]}], "prod", "eu-west-1", "/r/p.md",
                        plan=night_plan(["orders"]), copy={**COPY, "not_copied": []})
    assert good["summary"]["status"] == "ok" and good["summary"]["copy"]["not_copied"] == []


def test_every_section_is_in_both_the_markdown_and_the_page() -> None:
    report = busy_night()
    md, page = report["markdown"], report["html"]
    for title in SECTIONS:
        assert f"\n## {title}\n" in md and f"<h2>{escape(title)}</h2>" in page, title
    assert "<h2>Planned and actual</h2>" in page and "<svg" not in md
    both = [("Report page (HTML, Gantt chart inline)", "/r/p.html"), ("Plan", "/r/plan.md"),
            ("Plan's Gantt chart", "/r/plan.svg"), ("Estimated cost", "$1.50"), ("Tables planned", "3"),
            ("Tables not backed up", "1"), ("Window closes", "2026-11-23 07:00:00 UTC"), ("Overrun", "yes")]
    for label, value in both:
        assert f"- {label}: {value}\n" in md and f"<tr><th>{escape(label)}</th><td>{value}</td></tr>" in page
    says = [  # (Markdown, HTML) of the same fact
        ("**The night overran its window:** 1 table(s) finished after 2026-11-23 07:00:00 UTC: users.",
         "<strong>The night overran its window:</strong> 1 table(s) finished after 2026-11-23 07:00:00 UTC: users."),
        ("- **legacy** (local, failed): Throttled", "<li><strong>legacy</strong> (local, failed): Throttled</li>"),
        ("- users: a boost was refused, read at 100 RCU", "<li>users: a boost was refused, read at 100 RCU</li>"),
        ("- **../x**: not a DynamoDB table name", "<li><strong>../x</strong>: not a DynamoDB table name</li>"),
        ("| e1 | 10 -> 100 RCU | when its step ended |",
         "<tr><td>e1</td><td>10 -&gt; 100 RCU</td><td>when its step ended</td></tr>"),
        ("| e2 | 10 -> 50 RCU | at the end of the run |",
         "<tr><td>e2</td><td>10 -&gt; 50 RCU</td><td>at the end of the run</td></tr>"),
        ("| e3 | refused: LimitExceededException: no decrease left | not boosted |",
         "<td>refused: LimitExceededException: no decrease left</td><td>not boosted</td>"),
        ("| e4 | held by run run-b until 2026-11-23T09:00:00Z, read on its original | not boosted |",
         "<td>held by run run-b until 2026-11-23T09:00:00Z, read on its original</td><td>not boosted</td>"),
        ("| e5 | e5 is on-demand (PAY_PER_REQUEST) | not boosted |", "<td>e5 is on-demand (PAY_PER_REQUEST)</td>"),
        ("- put back: old1", "<li>put back: old1</li>"),
        ("- still pending (next allowed decrease): old2\n", "<li>still pending (next allowed decrease): old2</li>"),
        ("- **h1**: run run-c, until 2026-11-23T08:00Z",
         "<li><strong>h1</strong>: run run-c, until 2026-11-23T08:00Z</li>"),
        ("- table: orders; backup: s3://b/orders/1/", "<li>table: orders; backup: s3://b/orders/1/</li>"),
        ("- scratch table: orders-drill (deleted)", "<li>scratch table: orders-drill (deleted)</li>"),
        ("- items: 1499 counted, 1500 in the manifest", "<li>items: 1499 counted, 1500 in the manifest</li>"),
        ("- result: **FAILED: 1499 item(s) restored, 1500 in the manifest**",
         "<li>result: <strong>FAILED: 1499 item(s) restored, 1500 in the manifest</strong></li>"),
        ("1 backup folder(s) deleted:\n\n- s3://b/p/orders/2026-01-01/",
         "<p>1 backup folder(s) deleted:</p>\n<ul>\n<li>s3://b/p/orders/2026-01-01/</li>"),
    ]
    for in_md, in_page in says:
        assert in_md in md and in_page in page, in_md
    (row,) = [line for line in md.splitlines() if line.startswith("| orders |")]
    assert "| ok (boosted) | 1,500 | 3.0 MiB | 3,145,728 | 12.5 |" in row and "s3://b/orders/hippolyte-manifest" in row
    assert "| ok (kept from earlier tonight) |" in md
    assert md.index("| legacy |") < md.index("| orders |")  # failed first, as in the page


def test_a_plain_night_leaves_out_the_sections_nothing_triggered() -> None:
    report = night_report([{"tables": [outcome("orders")], "overran": [], "capacity_notes": []}], "prod",
                          "eu-west-1", "/r/p.md", plan=night_plan(["orders"]), boosts={"skipped": True},
                          reconciled={"repaired": [], "pending": [], "held": []}, drill={"skipped": True})
    md, page = report["markdown"], report["html"]
    for title in SECTIONS[1:]:
        assert f"## {title}" not in md and f"<h2>{escape(title)}</h2>" not in page, title
    assert "Planning failed" not in md and "overran" not in md and "Local engine" not in md
    assert "## Capacity left as found" not in md and report["summary"]["capacity_retired"] == []
    assert "## Tables" in md and "- Overrun: no" in md


def test_a_name_and_an_error_with_a_bar_and_a_tag_stay_in_their_cell() -> None:
    name, error = "a|<b>c", "Bad|request <script>x</script>\nsecond line"
    report = night_report([{"tables": [outcome(name, "failed", error=error)]}], "prod", "eu-west-1", "/r/p.md")
    md, page = report["markdown"], report["html"]
    (row,) = [line for line in md.splitlines() if line.startswith("| a/")]
    assert row.count("|") == md.splitlines()[md.splitlines().index(row) - 2].count("|")  # as many cells as heads
    assert row.startswith("| a/\\<b>c | local |")
    assert "FAILED: Bad/request \\<script>x\\</script> second line |" in row
    assert "- **a/\\<b>c** (local, failed): Bad/request \\<script>x\\</script> second line" in md
    assert "<script" not in page and "<b>" not in page
    assert "<td>a|&lt;b&gt;c</td>" in page and "<strong>a|&lt;b&gt;c</strong>" in page
    assert "Bad|request &lt;script&gt;x&lt;/script&gt;" in page


def test_human_units() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1536, 5 * 1024**3, 3 * 1024**6)] == [
        "0 B", "1023 B", "1.5 KiB", "5.0 GiB", "3072.0 PiB"]
    assert [human_duration(s) for s in (None, 0.4, 59, 60, 3599, 3600, 7380)] == [
        "-", "0s", "59s", "1m00s", "59m59s", "1h00m", "2h03m"]


def test_what_the_put_backs_retired_or_left_to_others_is_printed_and_reported() -> None:
    """Reconcile's `retired` and `changed_by_others`, and the last put-back's rows (a record retired during the
    night, a value the application raised), are in the summary, the printed lines and both reports."""
    raised = {"resource": "table", "dimension": "read", "original": {"units": 5}, "boosted": {"units": 50},
              "current": {"units": 500}, "reason": "changed by someone else since the boost"}
    scaled = {"resource": "index by_x", "dimension": "write", "original": {"units": 5, "autoscaling": {"min": 5,
              "max": 100}}, "boosted": None, "current": {"units": 9, "autoscaling": {"min": 200, "max": 1000}},
              "reason": "the record does not say what the boost set"}
    reconciled = {"repaired": ["old1"], "retired": [{"table": "gone-od", "reason": "billing mode switched"}],
                  "changed_by_others": [{"table": "app", **raised}]}
    unboosts = {"put_back": ["e1"], "tables": [
        {"table": "e1", "changed": True, "record_retired": None, "changed_by_others": [scaled]},
        {"table": "e2", "changed": True, "record_retired": "stale record no longer matching", "changed_by_others": []}]}
    report = night_report([{"tables": [outcome("orders")]}], "prod", "eu-west-1", "/r/p.md",
                          plan=night_plan(["orders"]), reconciled=reconciled, unboosts=unboosts)
    summary = report["summary"]
    assert summary["capacity_retired"] == [{"table": "gone-od", "reason": "billing mode switched"},
                                           {"table": "e2", "reason": "stale record no longer matching"}]
    assert summary["capacity_changed_by_others"] == [{"table": "app", **raised}, {"table": "e1", **scaled}]
    assert summary["capacity_put_back"] == ["e1", "old1"]  # neither retired table counts as put back
    lines = report["lines"]
    assert "Note: Capacity record dropped, nothing put back: gone-od: billing mode switched" in lines
    assert "Note: Capacity record dropped, nothing put back: e2: stale record no longer matching" in lines
    assert ("Note: Capacity left as someone else set it: app table read: changed by someone else since the boost; "
            "left at 500 (original 5, boost set 50)") in lines
    assert ("Note: Capacity left as someone else set it: e1 index by_x write: the record does not say what the "
            "boost set; left at min 200 max 1000 (original min 5 max 100, boost set unknown)") in lines
    md, page = report["markdown"], report["html"]
    title = "Capacity left as found (record retired, or changed by someone else)"
    assert f"\n## {title}\n" in md and f"<h2>{escape(title)}</h2>" in page
    assert "- **gone-od**: record dropped, nothing put back: billing mode switched" in md
    assert ("<li><strong>app</strong> table read: changed by someone else since the boost; left at 500 "
            "(original 5, boost set 50)</li>") in page


def test_a_fleet_of_values_others_changed_prints_a_few_and_counts_the_rest() -> None:
    others = [{"table": f"t{n:02d}", "resource": "table", "dimension": "read", "original": {"units": 1},
               "boosted": {"units": 2}, "current": {"units": 3}, "reason": "changed"} for n in range(25)]
    report = night_report([{"tables": [outcome("orders")]}], "prod", "eu-west-1", "/r/p.md",
                          plan=night_plan(["orders"]), reconciled={"changed_by_others": others})
    printed = [line for line in report["lines"] if line.startswith("Note: Capacity left as someone else")]
    assert len(printed) == 11
    assert printed[-1] == "Note: Capacity left as someone else set it: 15 more, listed in the report"
    assert all(f"- **t{n:02d}** table read" in report["markdown"] for n in range(25))
