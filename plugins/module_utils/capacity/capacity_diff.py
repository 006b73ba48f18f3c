"""What `--diff` shows of a capacity change: the before and after of every table it changes (or, in check
mode, would change), with its indexes and scalable targets, keyed by table name."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import Settings, boost_many
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import Targets


def capacity_diff(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Ansible's diff of per-table results (boost or put-back rows): only the tables whose capacity changes,
    so that a table left alone (held by another run, on-demand, already there) shows nothing."""
    moved = [r for r in rows if r.get("changed") and "before" in r and "after" in r]
    return {"before": {r["table"]: r["before"] for r in moved}, "after": {r["table"]: r["after"] for r in moved}}


def boost_preview(ddb: Any, aas: Any | None, boosts: list[tuple[str, Targets]],
                  settings: Settings) -> dict[str, dict[str, Any]]:
    """The diff of boosts that are not made now (check mode, or a backup that raises each table only when
    its turn comes): each table's capacity read, and what the boost would set, nothing written."""
    if not boosts:
        return {"before": {}, "after": {}}
    return capacity_diff(boost_many(ddb, aas, boosts, replace(settings, check_mode=True))["tables"])
