"""What the planner knows of one table (`TableInfo`), from discovery or given inline as a descriptor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND, PROVISIONED
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import TableFacts


@dataclass(frozen=True)
class TableInfo:
    """What the planner needs to know about one table (from discovery or given inline)."""

    name: str
    size_bytes: int = 0
    item_count: int = 0
    billing_mode: str = PROVISIONED
    rcu: int = 0  # provisioned read capacity of the table (its GSIs are not read by a backup)
    pitr: bool = False
    status: str = "ACTIVE"
    autoscaling_min_rcu: int | None = None
    autoscaling_max_rcu: int | None = None
    max_rcu: int | None = None  # per-table limit; the model's table_max_rcu when unknown
    gsis: tuple[tuple[str, int], ...] = ()  # (index name, provisioned RCU): recorded, never boosted
    warm_read_units: int | None = None  # DescribeTable's WarmThroughput.ReadUnitsPerSecond, when reported
    facts: TableFacts | None = None  # tags, TTL, PITR as discovery read them, handed to the local engine

    @property
    def on_demand(self) -> bool:
        return self.billing_mode == ON_DEMAND


INLINE_KEYS = {"name", "size_bytes", "item_count", "billing_mode", "rcu", "pitr", "status", "autoscaling_min_rcu",
               "autoscaling_max_rcu", "max_rcu", "gsis", "warm_read_units"}


def table_from_descriptor(value: Any, index: int) -> TableInfo:
    """Validate one inline `tables:` entry, naming the exact field at fault."""
    where = f"tables[{index}]"
    if not isinstance(value, dict):
        raise InputError(where, f"must be a dict with at least a name, got {value!r}", "write {name: orders, ...}")
    unknown = sorted(set(value) - INLINE_KEYS)
    if unknown:
        raise InputError(f"{where}.{unknown[0]}", "unknown key", f"use only {', '.join(sorted(INLINE_KEYS))}")
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(f"{where}.name", "is required and must be a non-empty string", "give the table's name")
    mode = str(value.get("billing_mode", PROVISIONED)).upper()
    mode = ON_DEMAND if mode in ("ON_DEMAND", "ON-DEMAND") else mode
    if mode not in (PROVISIONED, ON_DEMAND):
        raise InputError(f"{where}.billing_mode", f"unknown billing mode {value['billing_mode']!r}",
                         f"use {PROVISIONED} or {ON_DEMAND}")
    numbers: dict[str, int | None] = {}
    for key in ("size_bytes", "item_count", "rcu", "autoscaling_min_rcu", "autoscaling_max_rcu", "max_rcu",
                "warm_read_units"):
        raw = value.get(key)
        if raw is None:
            numbers[key] = None
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw) or raw < 0:
            raise InputError(f"{where}.{key}", f"must be a whole number >= 0, got {raw!r}", "give a count, not a text")
        numbers[key] = int(raw)
    if mode == PROVISIONED and not numbers["rcu"]:
        raise InputError(f"{where}.rcu", "a provisioned table needs its read capacity (at least 1)",
                         f"give rcu, or billing_mode: {ON_DEMAND}")
    gsis = value.get("gsis") or []
    if not isinstance(gsis, list) or not all(isinstance(g, dict) and isinstance(g.get("name"), str) for g in gsis):
        raise InputError(f"{where}.gsis", "must be a list of {name, rcu} dicts", "or leave it out")
    return TableInfo(
        name=name, size_bytes=numbers["size_bytes"] or 0, item_count=numbers["item_count"] or 0, billing_mode=mode,
        rcu=numbers["rcu"] or 0, pitr=bool(value.get("pitr", False)), status=str(value.get("status", "ACTIVE")),
        autoscaling_min_rcu=numbers["autoscaling_min_rcu"], autoscaling_max_rcu=numbers["autoscaling_max_rcu"],
        max_rcu=numbers["max_rcu"], gsis=tuple((g["name"], int(g.get("rcu") or 0)) for g in gsis),
        warm_read_units=numbers["warm_read_units"] or None)
