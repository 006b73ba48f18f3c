"""What the run report says, section by section, from the night's registered results (report_model.py lays it
out as Markdown and as HTML): the verdict and totals, what stopped or overran the night, a row per table, the
tables not backed up or not planned, capacity boosts and when each went back, what reconcile found, the drill
and retention. A section whose results did not trigger it is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlanDocument
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.prices import usd
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.human_units import (
    human_bytes,
    human_duration,
    human_time,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_cost import bill_text
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_results import engine_results, window_note
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_summary import registered
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.report_model import Line, Section, Strong, Table

TABLE_HEADS = ("table", "engine", "lane", "outcome", "items", "size", "bytes", "read units used", "planned start",
               "planned end", "started", "finished", "took", "backup")
NUMERIC_COLUMNS = frozenset({4, 5, 6, 7})


@dataclass(frozen=True)
class NightResults:
    """The role's registered results the report reads besides the engines' (any of them None when its task
    never ran). `plan` is the plan module's result as registered, failed or not; `document` the plan in it
    (None when planning failed or never ran)."""

    engines: list[Any]
    plan: Any = None
    document: PlanDocument | None = None
    boosts: Any = None
    unboosts: Any = None
    reconciled: Any = None
    drill: Any = None
    retention: Any = None
    destination: str = ""
    reports: list[tuple[str, str]] = field(default_factory=list)  # (label, path) of every report file


def report_sections(night: NightResults, summary: dict[str, Any], rows: list[dict[str, Any]],
                    totals: dict[str, Any], figure: str) -> list[Section]:
    """Every section of the report, in order; `rows` and `totals` as night_report computes them, `figure` the
    Gantt chart (empty when nothing was planned)."""
    return [head(night, summary, totals), warnings(night, summary, totals),
            Section("Planned and actual", figure=figure), tables(rows), not_backed_up(rows), recovery_points(summary),
            Section("Capacity notes", items=tuple((note,) for note in summary["capacity_notes"])),
            not_planned(night.document), capacity_boosts(night), left_boosted(night.reconciled),
            left_as_others_set(summary), held_by_others(night.reconciled), restore_drill(night.drill),
            second_copy(summary), retention(night.retention)]


def head(night: NightResults, summary: dict[str, Any], totals: dict[str, Any]) -> Section:
    """The verdict, then the night in figures and where each report is."""
    plan = night.document
    planned = len(plan.tables()) if plan else 0
    facts = [("Status", summary["status"].upper()), ("Account", summary["account"] or "unknown"),
             ("Night", summary["night"] or "not planned"), ("Destination", night.destination or "unknown"),
             ("Tables backed up", str(totals["tables_ok"])), ("Tables not backed up", str(totals["tables_failed"])),
             ("Tables planned", str(planned)), ("Tables planned but not run", str(totals["tables_not_run"])),
             ("Items", f"{totals['items']:,}"),
             ("Size", f"{human_bytes(totals['bytes'])} ({totals['bytes']:,} bytes)"),
             ("Window closes", human_time(totals["deadline"])),
             ("Planned end of the night", human_time(totals["planned_end"])),
             ("Actual end", human_time(totals["actual_end"])), ("Overrun", "yes" if totals["overrun"] else "no"),
             ("Capacity put back", ", ".join(totals["capacity_put_back"]) or "none")]
    if plan:
        facts.append(("Estimated cost", usd(float(plan.estimated_cost_usd))))
    facts.append(("Actual cost", bill_text(summary["cost_usd"])))
    return Section(paragraphs=((Strong(summary["subject"]),),), facts=(*facts, *night.reports))


def warnings(night: NightResults, summary: dict[str, Any], totals: dict[str, Any]) -> Section:
    """What stopped the night or made it late, and engines that backed up nothing, with their message."""
    lines: list[Line] = []
    plan = night.plan if isinstance(night.plan, dict) else {}
    if not plan or plan.get("failed"):
        lines.append((Strong("Planning failed:"), f" {plan.get('msg') or 'the run stopped before planning'}"))
    outside = window_note(night.document)
    if outside:
        lines.append((Strong("Outside the window:"), f" {outside}."))
    stopped = summary["stopped_at"]
    if stopped:
        lines.append((Strong(f"The run stopped at '{stopped.get('task')}':"), f" {stopped.get('msg')}"))
    late = summary["overruns"]
    if late:
        deadline = human_time(totals["deadline"]) if totals["deadline"] else "the window closed"
        lines.append((Strong("The night overran its window:"),
                      f" {len(late)} table(s) finished after {deadline}: {', '.join(late)}."))
    for result in engine_results(night.engines):
        if result.get("msg") and not result.get("tables"):
            engine = "Local engine:" if "overran" in result else "Engine:"  # only the local engine reports overran
            lines.append((Strong(engine), f" {result['msg']}"))
    return Section(paragraphs=tuple(lines))


def tables(rows: list[dict[str, Any]]) -> Section:
    """A row per table, failed and unfinished first, then those never started, then the backed-up ones."""
    cells = tuple((str(r["name"]), str(r["engine"]), str(r["lane"] or ""), r["outcome"], f"{r['items']:,}",
                   human_bytes(r["bytes"]), f"{r['bytes']:,}", _units(r["read_units_consumed"]),
                   *(human_time(r[k]) for k in ("planned_start", "planned_end", "started_at", "finished_at")),
                   human_duration(r["took_s"]), str(r["backup"])) for r in rows)
    kinds = tuple(str(r["status"]).replace(" ", "-") for r in rows)
    return Section("Tables", table=Table(TABLE_HEADS, cells, NUMERIC_COLUMNS, kinds))


def not_backed_up(rows: list[dict[str, Any]]) -> Section:
    items = tuple((Strong(str(r["name"])), f" ({r['engine']}, {r['status']}): {r['error']}")
                  for r in rows if r["status"] not in ("ok", "not run"))
    return Section("Not backed up", items=items)


def recovery_points(summary: dict[str, Any]) -> Section:
    """How old each table's newest restorable point is as the night ends (its recovery point objective)."""
    return Section("Recovery points", items=tuple(
        (Strong(str(p["table"])), ": " + (f"{human_time(p['newest_point'])}, {human_duration(p['age_s'])} ago"
                                          if p["newest_point"] else "none from this night"))
        for p in summary.get("recovery_points") or []))


def not_planned(plan: PlanDocument | None) -> Section:
    unplannable = plan.unplannable if plan else ()
    return Section("Not planned", items=tuple((Strong(t.name), f": {t.reason}") for t in unplannable))


def capacity_boosts(night: NightResults) -> Section:
    """Each cluster table's boost (raised, refused, or left on another run's hold) and when it went back."""
    boosts = registered(night.boosts).get("per_table") or []
    at_step_end = {t for r in engine_results(night.engines) for t in r.get("capacity_put_back") or []}
    at_run_end = set(registered(night.unboosts).get("put_back") or [])
    rows = []
    for b in boosts:
        if "error" in b:
            boost = f"refused: {b['error']}"
        elif "held_by" in b:
            boost = f"held by run {b['held_by']} until {b.get('hold_until')}, read on its original"
        elif not b.get("changed"):
            boost = str(b.get("msg") or "unchanged")
        else:
            boost = f"{_read_units(b.get('before'))} -> {_read_units(b.get('after'))} RCU"
        if b.get("table") in at_step_end:
            back = "when its step ended"
        elif b.get("table") in at_run_end:
            back = "at the end of the run"
        else:
            back = "see the run log" if b.get("changed") else "not boosted"
        rows.append((str(b.get("table")), boost, back))
    return Section("Capacity boosts", table=Table(("table", "boost", "put back"), tuple(rows)))


def left_boosted(reconciled: Any) -> Section:
    """What this run's reconcile put back of an earlier run's boosts, and what waits for the next decrease."""
    found = registered(reconciled)
    repaired, pending = found.get("repaired") or [], found.get("pending") or []
    if not repaired and not pending:
        return Section("Left boosted by an earlier run")
    waiting = list(dict.fromkeys(str(p.get("table", "?")) for p in pending))  # one line per resource: name once
    return Section("Left boosted by an earlier run",
                   items=((f"put back: {', '.join(repaired) or 'none'}",),
                          (f"still pending (next allowed decrease): {', '.join(waiting) or 'none'}",)))


def left_as_others_set(summary: dict[str, Any]) -> Section:
    """Records the put-backs dropped without applying them, and values someone else changed since the boost:
    capacity left as it was found, each with why (docs/throughput.md, "Put back only where we left it")."""
    items = tuple((Strong(str(r.get("table"))), f": record dropped, nothing put back: {r.get('reason')}")
                  for r in summary["capacity_retired"])
    items += tuple((Strong(str(c.get("table"))), f" {left_alone(c)}") for c in summary["capacity_changed_by_others"])
    return Section("Capacity left as found (record retired, or changed by someone else)", items=items)


def left_alone(change: dict[str, Any]) -> str:
    """One value a put-back left as someone else set it, as dynamodb_throughput reports it in one line."""
    return (f"{change.get('resource')} {change.get('dimension')}: {change.get('reason')}; left at "
            f"{_setting(change.get('current'))} (original {_setting(change.get('original'))}, "
            f"boost set {_setting(change.get('boosted'))})")


def _setting(value: Any) -> str:
    if not isinstance(value, dict):
        return "unknown"
    scaling = value.get("autoscaling")
    if isinstance(scaling, dict):
        return f"min {scaling.get('min')} max {scaling.get('max')}"
    return str(value.get("units"))


def held_by_others(reconciled: Any) -> Section:
    held = registered(reconciled).get("held") or []
    return Section("Boosted by another run, still live (left alone)",
                   items=tuple((Strong(str(h.get("table"))), f": run {h.get('held_by')}, until {h.get('hold_until')}")
                               for h in held))


def restore_drill(drill: Any) -> Section:
    done = registered(drill)
    if not done:
        return Section("Restore drill")
    counted, expected = done.get("counted_items"), done.get("expected_items")
    verdict = f"FAILED: {done.get('msg')}" if done.get("failed") else "ok"
    return Section("Restore drill", items=(
        (f"table: {done.get('table') or 'not picked'}; backup: {done.get('backup_url') or 'none found'}",),
        (f"scratch table: {done.get('scratch_table') or 'none'} "
         f"({'deleted' if done.get('scratch_deleted') else 'not deleted'})",),
        (f"items: {'not counted' if counted is None else f'{counted} counted'}, "
         f"{'unknown' if expected is None else expected} in the manifest",),
        ("result: ", Strong(verdict))))


def second_copy(summary: dict[str, Any]) -> Section:
    """Where tonight's backups were copied, and every folder that could not be (the night failed for it)."""
    copied = summary.get("copy")
    if not copied:
        return Section("Second copy")
    return Section("Second copy", paragraphs=((str(copied["msg"]),),),
                   items=tuple((Strong(str(f["folder"])), f": NOT copied: {f['error']}") for f in copied["not_copied"]))


def retention(pruned: Any) -> Section:
    done = registered(pruned)
    if not done:
        return Section("Retention")
    deleted = done.get("deleted") or []
    increments = done.get("increments_deleted") or []
    locked = done.get("locked") or {}
    said = f"{len(deleted)} backup folder(s) deleted"
    if increments:
        said += f", and {len(increments)} increment folder(s) no kept full backup carries forward"
    if locked:
        said += f"; {len(locked)} kept because S3 Object Lock or a legal hold still protects them"
    return Section("Retention", paragraphs=((f"{said}{':' if deleted or locked else '.'}",),),
                   items=(*((str(folder),) for folder in deleted),
                          *((f"{folder} (locked until {lock.get('retain_until') or '-'}"
                             f"{', legal hold' if lock.get('legal_hold') else ''})",)
                            for folder, lock in sorted(locked.items()))))


def _read_units(capacity: Any) -> Any:
    return ((capacity or {}).get("table") or {}).get("read", {}).get("units", "?")


def _units(consumed: Any) -> str:
    return "-" if consumed is None else f"{consumed:,}"
