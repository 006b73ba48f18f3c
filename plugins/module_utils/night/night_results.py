"""The night as the backup role sees it: what the engines returned, and what the report says of the plan's window.

The role registers one result per engine task (a loop's result holds one per cluster); these functions turn
them into the lists the role and its report read, so that no playbook carries run logic in Jinja filter chains.
What each phase loops over from the plan is the plan's own (`PlanDocument.role_view`, written into the plan).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlanDocument


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


def window_note(plan: PlanDocument | None) -> str | None:
    """What the report says of a run started while its window was closed: its plan and night start with it."""
    window = plan.window if plan else None
    if window is None or not window.outside:
        return None
    return (f"Started outside the window {window.start}-{window.end} {window.timezone}: planned "
            f"from the run's start ({window.starts_at.isoformat()}) for the window's length "
            "(hippolyte_outside_window: now)")
