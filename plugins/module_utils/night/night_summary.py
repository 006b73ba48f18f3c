"""The run summary of one backup night: what a person on call reads (by SNS or a webhook) the morning after.

Built from the same registered results the run report reads (see night_results.py), so the summary and the
report never disagree. The summary is a plain dict that serialises to JSON as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import folder_time
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_results import (
    engine_results,
    night_failures,
    night_tables,
)

SUBJECT_MAX_CHARS = 100  # SNS refuses a longer subject


def registered(value: Any) -> dict[str, Any]:
    """A registered variable, or {} when its task never ran (the run stopped before it) or was skipped."""
    return value if isinstance(value, dict) and not value.get("skipped") else {}


def night_summary(engines: list[Any], host: str, region: str, report_path: str, *,
                  stopped: dict[str, Any] | None = None, lease: Any = None, plan: Any = None,
                  reconciled: Any = None, unboosts: Any = None, drill: Any = None,
                  retention: Any = None, copy: Any = None, now: datetime | None = None) -> dict[str, Any]:
    """One night's outcome: `engines` are the engine tasks' registered results (as night_tables takes them);
    `stopped` names the task the run stopped at, when it failed anywhere (the role's rescue records it)."""
    rows = night_tables(engines)
    failed_rows = [r for r in rows if r.get("status") != "ok"]
    per_engine: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = per_engine.setdefault(str(row.get("engine")), {"ok": 0, "failed": 0})
        counts["ok" if row.get("status") == "ok" else "failed"] += 1
    local = next((r for r in engines if isinstance(r, dict) and "overran" in r), {})
    put_back = {r["name"] for r in rows if r.get("boosted")}  # local lanes put a boost back as their table ends
    put_back.update(t for r in engine_results(engines) for t in r.get("capacity_put_back", []))
    put_back.update(registered(unboosts).get("put_back", []))
    put_back.update(registered(reconciled).get("repaired", []))
    drill_view = _drill_view(registered(drill))
    failed = (bool(stopped) or bool(failed_rows) or drill_view.get("status") == "failed"
              or bool(registered(copy).get("not_copied")))
    summary: dict[str, Any] = {
        "host": host,
        "account": registered(lease).get("account_id"),
        "region": region,
        "night": registered(plan).get("night", {}).get("id"),
        "status": "failed" if failed else "ok",
        "tables_ok": len(rows) - len(failed_rows),
        "tables_failed": [{"table": r.get("name"), "engine": r.get("engine"),
                           "error": r.get("error") or r.get("engine_state") or "failed"} for r in failed_rows],
        "per_engine": per_engine,
        "bytes": sum(int(r.get("bytes") or 0) for r in rows if r.get("status") == "ok"),
        "overruns": list(local.get("overran", [])),
        "capacity_put_back": sorted(put_back),
        "capacity_notes": list(local.get("capacity_notes", [])),
        **left_as_found(registered(reconciled), registered(unboosts)),
        "failures": night_failures(engines),
        "stopped_at": stopped or None,
        "drill": drill_view or None,
        "retention_deleted": list(registered(retention).get("deleted", [])),
        "retention_increments_deleted": list(registered(retention).get("increments_deleted", [])),
        "retention_locked": sorted(registered(retention).get("locked") or {}),
        "copy": _copy_view(registered(copy)) or None,
        "recovery_points": recovery_points(rows, now or utc_now()),
        "report": report_path,
    }
    summary["subject"] = summary_subject(summary)
    return summary


def recovery_points(rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Each table's recovery point objective as the night leaves it: its newest restorable point (the time its
    backup folder is named after: a native export's instant, a scan's start) and its age now. A table not backed
    up tonight has none from this night (null: its older backups are backup_info's, its increments
    backup_increment's)."""
    points = []
    for row in rows:
        url = str(row.get("backup_url") or "")
        point = folder_time(url.rstrip("/").rsplit("/", 1)[-1]) if row.get("status") == "ok" else None
        points.append({"table": row.get("name"), "newest_point": point.isoformat() if point else None,
                       "age_s": int((now - point).total_seconds()) if point else None})
    return points


def _copy_view(copy: dict[str, Any]) -> dict[str, Any]:
    """The second copy in figures: where, how many backups copied, already there, and those not copied (and why)."""
    if not copy:
        return {}
    copied = list(copy.get("copied") or [])
    return {"destination": (copied or copy.get("already_copied") or copy.get("not_copied") or [{}])[0].get("copy_url"),
            "copied": len(copied), "bytes": sum(int(c.get("bytes") or 0) for c in copied),
            "already_copied": len(copy.get("already_copied") or []),
            "not_copied": [{"folder": f.get("folder"), "error": f.get("error")} for f in copy.get("not_copied") or []],
            "msg": copy.get("msg")}


def left_as_found(reconciled: dict[str, Any], unboosts: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """What the night's put-backs (reconcile's of earlier runs, and this run's last one) did not put back, and
    why: `capacity_retired`, records dropped without being applied ({table, reason}); `capacity_changed_by_others`,
    values someone else changed since the boost, left as they are (each as dynamodb_throughput reports it, with
    `table`)."""
    put_backs = [r for r in unboosts.get("tables") or [] if isinstance(r, dict)]
    retired = list(reconciled.get("retired") or [])
    retired += [{"table": r.get("table"), "reason": r["record_retired"]} for r in put_backs if r.get("record_retired")]
    others = list(reconciled.get("changed_by_others") or [])
    others += [{"table": r.get("table"), **one} for r in put_backs for one in r.get("changed_by_others") or []]
    return {"capacity_retired": retired, "capacity_changed_by_others": others}


def _drill_view(drill: dict[str, Any]) -> dict[str, Any]:
    if not drill:
        return {}
    keys = ("table", "backup_url", "scratch_table", "expected_items", "counted_items", "scratch_deleted",
            "duration_s")
    view = {k: drill.get(k) for k in keys}
    view["status"] = "failed" if drill.get("failed") else "ok"
    if drill.get("failed"):
        view["error"] = drill.get("msg")
    return view


def summary_subject(summary: dict[str, Any]) -> str:
    """A one-line subject: which host, ok or failed, and how many tables failed."""
    failed = len(summary["tables_failed"])
    if summary["status"] == "ok":
        verdict = f"ok, {summary['tables_ok']} table(s) backed up"
    elif failed:
        verdict = f"FAILED, {failed} table(s) not backed up"
    elif (summary.get("drill") or {}).get("status") == "failed":
        verdict = "FAILED, the restore drill failed"
    elif (summary.get("copy") or {}).get("not_copied"):
        verdict = f"FAILED, {len(summary['copy']['not_copied'])} backup(s) not copied to the second destination"
    else:
        verdict = "FAILED"
    return f"Hippolyte backup {summary['host']} ({summary['region']}): {verdict}"[:SUBJECT_MAX_CHARS]


def should_notify(summary: dict[str, Any], on_success: bool) -> bool:
    """Failures are always sent; a good night only when asked."""
    return summary["status"] != "ok" or on_success
