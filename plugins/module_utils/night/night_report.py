"""The backup night for people: the summary the role prints at the end of a run, and the run report as one
self-contained HTML page (planned against actual per table, the totals, the Gantt chart inline).

Built from the same registered results as the run summary (night_summary.py), so the printed lines, the page
and the SNS message never disagree; the Markdown report (the role's report.md.j2) reads the same results.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import PurePath
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.contracts import planned_times
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_results import engine_results, night_tables
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_summary import night_summary
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_report import Actual, gantt_svg

OK_LINES = 50  # the printed summary lists every table that failed, and at most this many good ones
REPORT_LABELS = ("Report", "Report page (HTML, Gantt chart inline)", "Plan", "Plan's Gantt chart")
NAMES_SHOWN = 10  # tables named in one line of the printed summary (capacity put back, not planned)
ERROR_CHARS = 160  # a table's error in the printed summary; the reports hold it whole
NOTE_CHARS = 400  # a note (where the run stopped, and why) is one per run: room for the AWS error
UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
NAME_WIDTH = 40  # the printed table column; a longer name pushes its own line, not every line
# Failed and unfinished tables first, then those never started, then the good ones.
_ORDER = {"failed": 0, "running": 1, "not run": 2, "ok": 3}
_STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}
td.n{text-align:right}tr.failed td,tr.running td{background:#fde2e1}tr.not-run td{background:#fff4d6}
.ok{color:#2e7d32}.failed{color:#c62828}svg{max-width:100%;height:auto}"""


def night_report(engines: list[Any], host: str, region: str, report_path: str, *, plan: Any = None,
                 destination: str = "", max_ok_lines: int = OK_LINES, **summary_args: Any) -> dict[str, Any]:
    """What the role shows and writes at the end of a night, from the engines' registered results.

    Returns `summary` (night_summary's dict, for SNS and the webhook file), `lines` (the printed summary),
    `html` (the page) and `html_path` (beside the Markdown report). `summary_args` are night_summary's."""
    plan = plan if isinstance(plan, dict) and not plan.get("failed") else {}
    html_path = str(PurePath(report_path).with_suffix(".html"))
    summary = night_summary(engines, host, region, report_path, plan=plan or None, **summary_args)
    summary["html_report"] = html_path
    rows = table_rows(engines, plan)
    totals = night_totals(rows, summary, plan)
    notes = night_notes(engines, summary, plan)
    reports = [report_path, html_path, *(plan[k] for k in ("report_path", "gantt_path") if plan.get(k))]
    return {"summary": summary, "html_path": html_path,
            "lines": summary_lines(summary, rows, totals, notes, reports, max_ok_lines),
            "html": html_page(summary, rows, totals, notes, reports, plan, destination)}


def table_rows(engines: list[Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per table, failed first: every engine's outcome, and the planned tables no engine reported."""
    rows = [_row(t) for t in night_tables(engines)]
    seen = {r["name"] for r in rows}
    start = _time((plan.get("window") or {}).get("starts_at"))
    for cluster in plan.get("clusters") or []:
        for table in cluster["tables"]:
            if table["name"] not in seen:
                planned_start, planned_end = planned_times(start, table["start_offset_s"], table["duration_s"])
                rows.append(_row({"name": table["name"], "engine": cluster["engine"], "status": "not run",
                                  "lane": cluster["id"], "planned_start": planned_start,
                                  "planned_end": planned_end}))
    return sorted(rows, key=lambda r: _ORDER.get(r["status"], 0))  # stable: the engines' order within a status


def _row(table: dict[str, Any]) -> dict[str, Any]:
    started, finished = _time(table.get("started_at")), _time(table.get("finished_at"))
    row = {k: table.get(k) for k in ("name", "engine", "status", "lane", "planned_start", "planned_end",
                                     "started_at", "finished_at", "boosted", "resumed")}
    row.update(items=int(table.get("items") or 0), bytes=int(table.get("bytes") or 0),
               took_s=(finished - started).total_seconds() if started and finished else None,
               backup=table.get("manifest_url") or table.get("backup_url") or "",
               outcome=_outcome(table))
    return row


def _outcome(table: dict[str, Any]) -> str:
    status = table.get("status")
    if status == "ok":
        marks = [m for m, on in (("boosted", table.get("boosted")), ("kept from earlier tonight", table.get("resumed")))
                 if on]
        return "ok" + (f" ({', '.join(marks)})" if marks else "")
    if status == "running":
        return f"NOT FINISHED ({table.get('engine_state') or 'running'})"
    if status == "not run":
        return "not run"
    return f"FAILED: {table.get('error') or table.get('engine_state') or 'failed'}"


def night_totals(rows: list[dict[str, Any]], summary: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """The night in figures: tables, items, bytes, planned and actual end, overrun, capacity put back."""
    ok = [r for r in rows if r["status"] == "ok"]
    not_run = sum(1 for r in rows if r["status"] == "not run")
    start = _time((plan.get("window") or {}).get("starts_at"))
    planned_end = max(filter(None, (_time(r["planned_end"]) for r in rows)),
                      default=start + timedelta(seconds=plan["makespan_s"]) if start and "makespan_s" in plan else None)
    actual_end = max(filter(None, (_time(r["finished_at"]) for r in rows)), default=None)
    deadline = _time(plan.get("deadline"))
    return {"tables_ok": len(ok), "tables_failed": len(rows) - len(ok) - not_run, "tables_not_run": not_run,
            "items": sum(r["items"] for r in ok), "bytes": sum(r["bytes"] for r in ok),
            "planned_end": planned_end, "actual_end": actual_end, "deadline": deadline,
            "overrun": bool(summary["overruns"]) or bool(actual_end and deadline and actual_end > deadline),
            "capacity_put_back": summary["capacity_put_back"]}


def night_notes(engines: list[Any], summary: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """What the table rows do not say: where the run stopped, engines that reported no table, the drill."""
    notes = []
    if summary["stopped_at"]:
        stopped = summary["stopped_at"]
        notes.append(f"The run stopped at '{stopped.get('task')}': {stopped.get('msg')}")
    notes += [f"{r['msg']}" for r in engine_results(engines) if r.get("msg") and not r.get("tables")]
    unplannable = plan.get("unplannable") or []
    if unplannable:
        reasons = [f"{u['name']} ({u['reason']})" for u in unplannable]
        notes.append(f"{len(unplannable)} table(s) not planned: {_some(reasons)}")
    notes += summary["capacity_notes"]
    drill = summary["drill"]
    if drill:
        notes.append(f"Restore drill of {drill.get('table')}: "
                     + (f"FAILED: {drill.get('error')}" if drill["status"] == "failed" else
                        f"ok, {drill.get('counted_items')} item(s) counted"))
    if summary["retention_deleted"]:
        notes.append(f"Retention deleted {len(summary['retention_deleted'])} backup folder(s)")
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
    lines.append(f"Night: planned end {_when(totals['planned_end'])}, actual end {_when(totals['actual_end'])}, "
                 f"window closes {_when(totals['deadline'])}; overrun: {'yes' if totals['overrun'] else 'no'}")
    put_back = totals["capacity_put_back"]
    lines.append(f"Capacity put back: {len(put_back)} table(s)" + (f": {_some(put_back)}" if put_back else ""))
    lines += [f"Note: {_cut(note, NOTE_CHARS)}" for note in notes]
    lines += [f"{label}: {path}" for label, path in zip(REPORT_LABELS, reports, strict=False)]
    return lines


def html_page(summary: dict[str, Any], rows: list[dict[str, Any]], totals: dict[str, Any], notes: list[str],
              reports: list[str], plan: dict[str, Any], destination: str = "") -> str:
    """The run report as one HTML page with nothing to fetch: style inline, the Gantt chart inline SVG."""
    title = f"Hippolyte backup report: {summary['host']} ({summary['region']})"
    facts = [("Status", summary["status"].upper()), ("Account", summary["account"] or "unknown"),
             ("Night", summary["night"] or "not planned"), ("Destination", destination or "unknown"),
             ("Tables ok", totals["tables_ok"]), ("Tables failed", totals["tables_failed"]),
             ("Tables not run", totals["tables_not_run"]), ("Items", f"{totals['items']:,}"),
             ("Size", f"{human_bytes(totals['bytes'])} ({totals['bytes']:,} bytes)"),
             ("Planned end", _when(totals["planned_end"])), ("Actual end", _when(totals["actual_end"])),
             ("Window closes", _when(totals["deadline"])), ("Overrun", "yes" if totals["overrun"] else "no"),
             ("Capacity put back", ", ".join(totals["capacity_put_back"]) or "none"),
             *zip(REPORT_LABELS, reports, strict=False)]
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{_h(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>", f"<h1>{_h(title)}</h1>",
           f'<p class="{_h(summary["status"])}"><strong>{_h(summary["subject"])}</strong></p>',
           "<h2>Totals</h2>", "<table>"]
    out += [f"<tr><th>{_h(name)}</th><td>{_h(value)}</td></tr>" for name, value in facts]
    out.append("</table>")
    if notes:
        out += ["<h2>Notes</h2>", "<ul>", *(f"<li>{_h(note)}</li>" for note in notes), "</ul>"]
    if plan.get("clusters"):
        out += ["<h2>Planned and actual</h2>", gantt_svg(plan, actual_times(rows, plan))]
    heads = ("table", "engine", "lane", "outcome", "items", "size", "planned start", "planned end", "started",
             "finished", "took", "backup")
    out += ["<h2>Tables</h2>", "<table>", "<tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>"]
    for r in rows:
        cells = [r["name"], r["engine"], r["lane"] or "", r["outcome"]]
        numbers = [f"{r['items']:,}", human_bytes(r["bytes"])]
        times = [_when(_time(r[k])) for k in ("planned_start", "planned_end", "started_at", "finished_at")]
        out.append(f'<tr class="{_h(r["status"].replace(" ", "-"))}">'
                   + "".join(f"<td>{_h(c)}</td>" for c in cells)
                   + "".join(f'<td class="n">{_h(c)}</td>' for c in numbers)
                   + "".join(f"<td>{_h(c)}</td>" for c in [*times, human_duration(r["took_s"]), r["backup"]])
                   + "</tr>")
    out += ["</table>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def actual_times(rows: list[dict[str, Any]], plan: dict[str, Any]) -> dict[str, Actual]:
    """When each table that started really ran, in seconds from the plan's start (the Gantt chart's axis)."""
    start = _time((plan.get("window") or {}).get("starts_at"))
    actual = {}
    for r in rows:
        began, ended = _time(r["started_at"]), _time(r["finished_at"])
        if start and began and ended:
            offset = max((began - start).total_seconds(), 0.0)
            actual[r["name"]] = Actual(offset, max((ended - began).total_seconds(), 0.0), r["status"] == "ok")
    return actual


def human_bytes(count: int) -> str:
    """1536 -> '1.5 KiB': binary units, one decimal above bytes."""
    size, unit = float(count), 0
    while size >= 1024 and unit < len(UNITS) - 1:
        size, unit = size / 1024, unit + 1
    return f"{count} B" if unit == 0 else f"{size:.1f} {UNITS[unit]}"


def human_duration(seconds: float | None) -> str:
    """'12s', '4m05s', '2h03m'; '-' when the table did not both start and finish."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def _time(value: Any) -> datetime | None:
    """An ISO 8601 time from a result, or None when absent or not a time."""
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment.tzinfo else moment.isoformat(" ")


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


def _cut(text: str, limit: int = ERROR_CHARS) -> str:
    """The first line of `text`, at most `limit` characters."""
    first = str(text).splitlines()[0] if str(text) else ""
    return first if len(first) <= limit else first[:limit - 3] + "..."


def _h(value: Any) -> str:
    return escape(str(value), quote=True)
