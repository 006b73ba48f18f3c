"""The night as the backup role sees it: what each phase needs from the plan, and what the engines returned.

The role registers one result per engine task (a loop's result holds one per cluster); these functions turn
them into the lists the role and its report read, so that no playbook carries run logic in Jinja filter chains.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import ENGINES


def role_view(plan: dict[str, Any]) -> dict[str, Any]:
    """What the role's phases loop over, computed once from the plan."""
    by_engine = {e: [c for c in plan["clusters"] if c["engine"] == e] for e in ENGINES}
    return {
        "clusters_by_engine": by_engine,
        # Exports read no capacity and the local engine holds its own boosts around each table.
        "cluster_boosts": [{"name": t["name"], "rcu": t["rcu"], "boost_rcu": t["boost_rcu"],
                            "read_capacity": t["boost_rcu"]}  # what dynamodb_throughput's `tables` reads
                           for e in ("emr", "datapipeline") for c in by_engine[e] for t in c["tables"]
                           if t.get("boosted")],
        # Every table any engine boosts: what the run's last step puts back if something still holds it.
        "boosted_tables": [t["name"] for c in plan["clusters"] for t in c["tables"] if t.get("boosted")],
        "export_tables": [t["name"] for c in by_engine["export"] for t in c["tables"]],
        "planned_tables": [t["name"] for c in plan["clusters"] for t in c["tables"]],
    }


def engine_results(registered: list[Any]) -> list[dict[str, Any]]:
    """Every module result among the registered variables: a loop's results unrolled, skipped ones left out."""
    flat: list[dict[str, Any]] = []
    for value in registered:
        if not isinstance(value, dict):
            continue  # never registered (the run stopped before that task)
        for result in value.get("results", [value]):
            if isinstance(result, dict) and not result.get("skipped"):
                flat.append(result)
    return flat


def night_tables(registered: list[Any]) -> list[dict[str, Any]]:
    """One row per table from every engine's results (the shared per-table shape), in the order given."""
    return [table for result in engine_results(registered) for table in result.get("tables", [])]


def night_failures(registered: list[Any]) -> list[str]:
    """What failed, one message per failed engine task (its tables named), for the night's final verdict."""
    return [str(result.get("msg") or "failed") for result in engine_results(registered) if result.get("failed")]


def window_note(plan: dict[str, Any]) -> str | None:
    """What the report says of a run started while its window was closed: its plan and night start with it."""
    window = plan.get("window") or {}
    if not window.get("outside"):
        return None
    return (f"Started outside the window {window.get('start')}-{window.get('end')} {window.get('timezone')}: planned "
            f"from the run's start ({window.get('starts_at')}) for the window's length (hippolyte_outside_window: now)")
