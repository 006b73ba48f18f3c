"""The backup night for people: the summary the role prints at the end of a run, and the run report, written
both as Markdown and as one self-contained HTML page (planned against actual per table, the totals, the Gantt
chart inline) from one model of sections (report_sections.py, laid out by report_model.py).

Built from the same registered results as the run summary (night_summary.py), so the printed lines, both
reports and the SNS message never disagree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlanDocument, planned_times
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.prices import usd
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.human_units import (
    human_bytes,
    human_duration,
    human_time,
    parse_time,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_cost import (
    bill_text,
    cluster_boosts,
    night_cost,
    plan_prices,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_results import (
    engine_results,
    night_tables,
    window_note,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_summary import night_summary
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.report_model import html, markdown
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.report_sections import (
    NightResults,
    left_alone,
    report_sections,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_report import Actual, gantt_svg

OK_LINES = 50  # the printed summary lists every table that failed, and at most this many good ones
REPORT_LABELS = ("Report", "Report page (HTML, Gantt chart inline)", "Plan", "Plan's Gantt chart")
NAMES_SHOWN = 10  # tables named in one line of the printed summary (capacity put back, not planned)
ERROR_CHARS = 160  # a table's error in the printed summary; the reports hold it whole
NOTE_CHARS = 400  # a note (where the run stopped, and why) is one per run: room for the AWS error
NAME_WIDTH = 40  # the printed table column; a longer name pushes its own line, not every line
# Failed and unfinished tables first, then those never started, then the good ones.
_ORDER = {"failed": 0, "running": 1, "not run": 2, "ok": 3}


def night_report(engines: list[Any], host: str, region: str, report_path: str, *, plan: Any = None,
                 destination: str = "", max_ok_lines: int = OK_LINES, stopped: Any = None, lease: Any = None,
                 reconciled: Any = None, boosts: Any = None, unboosts: Any = None, drill: Any = None,
                 retention: Any = None, copy: Any = None) -> dict[str, Any]:
    """What the role shows and writes at the end of a night, from its registered results: `engines` the
    engine tasks' (as night_tables takes them), the others those of the tasks named alike (None when a task
    never ran): the plan, the lease, reconcile, the cluster boosts and their put back, the drill, retention;
    `stopped` names the task the run stopped at (the role's rescue records it).

    Returns `summary` (night_summary's dict, for SNS and the webhook file), `lines` (the printed summary),
    `markdown` (the report, written to `report_path`), `html` (the same report as one page) and `html_path`
    (beside the Markdown report)."""
    planned = PlanDocument.from_result(plan)
    html_path = str(PurePath(report_path).with_suffix(".html"))
    summary = night_summary(engines, host, region, report_path, plan=plan if planned else None, stopped=stopped,
                            lease=lease, reconciled=reconciled, unboosts=unboosts, drill=drill, retention=retention,
                            copy=copy)
    summary["html_report"] = html_path
    rows = table_rows(engines, planned)
    totals = night_totals(rows, summary, planned)
    as_registered = plan if planned else {}  # night_cost still reads the plan by key
    cost = night_cost(as_registered, rows, plan_prices(as_registered), cluster_boosts(boosts, engines))
    totals["cost"] = cost
    summary["cost_usd"] = {"estimated": planned.estimated_cost_usd if planned else None, **cost.to_result()}
    notes = night_notes(engines, summary, planned)
    # Where the plan module wrote its own report: keys of its result, not of the plan.
    plan_files = [plan[k] for k in ("report_path", "gantt_path") if plan.get(k)] if planned else []
    reports = [report_path, html_path, *plan_files]
    night = NightResults(engines, plan=plan, document=planned, boosts=boosts, unboosts=unboosts,
                         reconciled=reconciled, drill=drill, retention=retention, destination=destination,
                         reports=list(zip(REPORT_LABELS, reports, strict=False)))
    figure = gantt_svg(planned, actual_times(rows, planned)) if planned and planned.clusters else ""
    sections = report_sections(night, summary, rows, totals, figure)
    title = f"Hippolyte backup report: {host} ({region})"
    return {"summary": summary, "html_path": html_path,
            "lines": summary_lines(summary, rows, totals, notes, reports, max_ok_lines),
            "markdown": markdown(title, sections), "html": html(title, sections)}


def table_rows(engines: list[Any], plan: PlanDocument | None) -> list[dict[str, Any]]:
    """One row per table, failed first: every engine's outcome, and the planned tables no engine reported."""
    rows = [_row(t) for t in night_tables(engines)]
    seen = {r["name"] for r in rows}
    start = _plan_start(plan)
    for cluster in plan.clusters if plan else ():
        for table in cluster.tables:
            if table.name not in seen:
                planned_start, planned_end = planned_times(start, table.start_offset_s, table.duration_s)
                rows.append(_row({"name": table.name, "engine": cluster.engine, "status": "not run",
                                  "lane": cluster.id, "planned_start": planned_start,
                                  "planned_end": planned_end}))
    return sorted(rows, key=lambda r: _ORDER.get(r["status"], 0))  # stable: the engines' order within a status


def _row(table: dict[str, Any]) -> dict[str, Any]:
    started, finished = parse_time(table.get("started_at")), parse_time(table.get("finished_at"))
    error = str(table.get("error") or table.get("engine_state") or "failed")
    row: dict[str, Any] = {k: table.get(k) for k in (
        "name", "engine", "status", "lane", "planned_start", "planned_end", "started_at", "finished_at", "boosted",
        "resumed", "read_units_consumed")}
    row.update(items=int(table.get("items") or 0), bytes=int(table.get("bytes") or 0),
               took_s=(finished - started).total_seconds() if started and finished else None,
               backup=table.get("manifest_url") or table.get("backup_url") or "",
               error=error)
    row["outcome"] = _outcome(table, error)
    return row


def _outcome(table: dict[str, Any], error: str) -> str:
    status = table.get("status")
    if status == "ok":
        marks = [m for m, on in (("boosted", table.get("boosted")), ("kept from earlier tonight", table.get("resumed")))
                 if on]
        return "ok" + (f" ({', '.join(marks)})" if marks else "")
    if status == "running":
        return f"NOT FINISHED ({table.get('engine_state') or 'running'})"
    if status == "not run":  # never started: its engine said why (the window closed), or no engine reached it
        return f"not run ({table['error']})" if table.get("error") else "not run"
    return f"FAILED: {error}"


def _plan_start(plan: PlanDocument | None) -> datetime | None:
    return plan.window.starts_at if plan and plan.window else None


def night_totals(rows: list[dict[str, Any]], summary: dict[str, Any], plan: PlanDocument | None) -> dict[str, Any]:
    """The night in figures: tables, items, bytes, planned and actual end, overrun, capacity put back."""
    ok = [r for r in rows if r["status"] == "ok"]
    not_run = sum(1 for r in rows if r["status"] == "not run")
    start = _plan_start(plan)
    planned_end = max(filter(None, (parse_time(r["planned_end"]) for r in rows)),
                      default=start + timedelta(seconds=plan.makespan_s) if start and plan else None)
    actual_end = max(filter(None, (parse_time(r["finished_at"]) for r in rows)), default=None)
    deadline = plan.deadline if plan else None
    return {"tables_ok": len(ok), "tables_failed": len(rows) - len(ok) - not_run, "tables_not_run": not_run,
            "items": sum(r["items"] for r in ok), "bytes": sum(r["bytes"] for r in ok),
            "planned_end": planned_end, "actual_end": actual_end, "deadline": deadline,
            "overrun": bool(summary["overruns"]) or bool(actual_end and deadline and actual_end > deadline),
            "capacity_put_back": summary["capacity_put_back"]}


def night_notes(engines: list[Any], summary: dict[str, Any], plan: PlanDocument | None) -> list[str]:
    """What the table rows do not say: where the run stopped, engines that reported no table, the drill."""
    notes = []
    outside = window_note(plan)
    if outside:
        notes.append(outside)
    if summary["stopped_at"]:
        stopped = summary["stopped_at"]
        notes.append(f"The run stopped at '{stopped.get('task')}': {stopped.get('msg')}")
    notes += [f"{r['msg']}" for r in engine_results(engines) if r.get("msg") and not r.get("tables")]
    unplannable = plan.unplannable if plan else ()
    if unplannable:
        reasons = [f"{u.name} ({u.reason})" for u in unplannable]
        notes.append(f"{len(unplannable)} table(s) not planned: {_some(reasons)}")
    notes += summary["capacity_notes"]
    left = (("Capacity record dropped, nothing put back", [f"{r.get('table')}: {r.get('reason')}"
                                                           for r in summary["capacity_retired"]]),
            ("Capacity left as someone else set it", [f"{c.get('table')} {left_alone(c)}"
                                                      for c in summary["capacity_changed_by_others"]]))
    for label, found in left:  # one line each, so no reason is cut; a fleet's worth is in the report
        notes += [f"{label}: {one}" for one in found[:NAMES_SHOWN]]
        if len(found) > NAMES_SHOWN:
            notes.append(f"{label}: {len(found) - NAMES_SHOWN} more, listed in the report")
    drill = summary["drill"]
    if drill:
        notes.append(f"Restore drill of {drill.get('table')}: "
                     + (f"FAILED: {drill.get('error')}" if drill["status"] == "failed" else
                        f"ok, {drill.get('counted_items')} item(s) counted"))
    copied = summary["copy"]
    if copied:
        notes.append(f"Second copy: {copied['msg']}")
    if summary["retention_deleted"] or summary["retention_increments_deleted"]:
        increments = len(summary["retention_increments_deleted"])
        notes.append(f"Retention deleted {len(summary['retention_deleted'])} backup folder(s)"
                     + (f" and {increments} increment folder(s)" if increments else ""))
    if summary["retention_locked"]:
        notes.append(f"Retention kept {len(summary['retention_locked'])} folder(s) that S3 Object Lock or a legal hold "
                     "still protects (listed in the report)")
    return notes


def summary_lines(summary: dict[str, Any], rows: list[dict[str, Any]], totals: dict[str, Any], notes: list[str],
                  reports: list[str], max_ok_lines: int = OK_LINES) -> list[str]:
    """The printed summary, one string per line: the verdict, one line per table (every failed one, the first
    `max_ok_lines` good ones), the totals, notes and where the reports are."""
    account = f", account {summary['account']}" if summary["account"] else ""
    lines = [f"{summary['status'].upper()}: {summary['host']} ({summary['region']}{account}), "
             f"night {summary['night'] or 'not planned'}"]
    shown = [r for r in rows if r["status"] != "ok"] + [r for r in rows if r["status"] == "ok"][:max_ok_lines]
    width = min(max((len(str(r["name"])) for r in shown), default=5), NAME_WIDTH)
    engine_width = max((len(str(r["engine"])) for r in shown), default=6)
    if shown:
        lines.append(f"{'table':<{width}}  {'engine':<{engine_width}}  {'items':>11}  {'size':>10}  {'took':>6}  "
                     "outcome")
    for r in shown:
        lines.append(f"{r['name']!s:<{width}}  {r['engine']!s:<{engine_width}}  {r['items']:>11,}  "
                     f"{human_bytes(r['bytes']):>10}  {human_duration(r['took_s']):>6}  {_cut(r['outcome'])}")
    hidden = totals["tables_ok"] - min(totals["tables_ok"], max_ok_lines)
    if hidden:
        lines.append(f"... and {hidden} more ok; full list in {reports[1]}")
    lines.append(f"Tables: {totals['tables_ok']} ok, {totals['tables_failed']} failed"
                 + (f", {totals['tables_not_run']} not run" if totals["tables_not_run"] else "")
                 + f"; items {totals['items']:,}; size {human_bytes(totals['bytes'])} ({totals['bytes']:,} bytes)")
    lines.append(f"Night: planned end {human_time(totals['planned_end'])}, "
                 f"actual end {human_time(totals['actual_end'])}, "
                 f"window closes {human_time(totals['deadline'])}; overrun: {'yes' if totals['overrun'] else 'no'}")
    put_back = totals["capacity_put_back"]
    lines.append(f"Capacity put back: {len(put_back)} table(s)" + (f": {_some(put_back)}" if put_back else ""))
    estimated = summary["cost_usd"]["estimated"]
    lines.append(f"Cost: actual {bill_text(summary['cost_usd'])}"
                 + (f"; estimated {usd(float(estimated))}" if estimated is not None else ""))
    lines += [f"Note: {_cut(note, NOTE_CHARS)}" for note in notes]
    lines += [f"{label}: {path}" for label, path in zip(REPORT_LABELS, reports, strict=False)]
    return lines


def actual_times(rows: list[dict[str, Any]], plan: PlanDocument) -> dict[str, Actual]:
    """When each table that started really ran, in seconds from the plan's start (the Gantt chart's axis)."""
    start = _plan_start(plan)
    actual = {}
    for r in rows:
        began, ended = parse_time(r["started_at"]), parse_time(r["finished_at"])
        if start and began and ended:
            offset = max((began - start).total_seconds(), 0.0)
            actual[r["name"]] = Actual(offset, max((ended - began).total_seconds(), 0.0), r["status"] == "ok")
    return actual


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


def _cut(text: str, limit: int = ERROR_CHARS) -> str:
    """The first line of `text`, at most `limit` characters."""
    first = str(text).splitlines()[0] if str(text) else ""
    return first if len(first) <= limit else first[:limit - 3] + "..."
