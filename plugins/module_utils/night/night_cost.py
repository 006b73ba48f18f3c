"""What a night actually cost, from what it did: the same parts and prices as the plan's estimate
(planning/planner.py `_cost`), applied to the tables as they ran instead of as planned.

- boosts: the read units each boost added, for as long as it was held. A local table's boost is raised just
  before its backup and put back right after; a cluster table's is raised before the clusters start (the
  plan's start) and put back when its step ended, or at the end of the run. Billed per started hour.
- clusters: each planned cluster from its launch (its planned start) to its last table's end.
- on-demand reads: the read units a local scan counted; for a cluster table, its bytes at the engine's
  bytes per read unit (the engines do not count them).
- exports: the bytes each native export wrote (AWS bills the table's size: the nearest figure a night has).
- pipeline fees and S3 requests: per table that ran, as the plan charges them.

A table kept from earlier tonight (`resumed`) or never started costs nothing tonight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.prices import (
    OBJECTS_PER_BACKUP,
    PART_BYTES,
    SECONDS_PER_HOUR,
    Prices,
    usd,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.read_units import bytes_per_read_unit
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.human_units import human_bytes, parse_time
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_results import engine_results
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_summary import registered
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import CLUSTER_ENGINES

RAN = ("ok", "failed", "running")  # a table in these states started, and paid for what it did


@dataclass
class NightCost:
    """The night's bill by part (the keys of the plan's `cost_breakdown_usd`) and the quantities behind it."""

    usd: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("clusters", "boosts", "on_demand_reads", "exports", "pipeline_fees", "s3_requests"), 0.0))
    boosted_rcu_hours: float = 0.0  # read units added, times the hours each was held
    cluster_seconds: float = 0.0
    on_demand_read_units: float = 0.0
    exported_bytes: int = 0
    s3_puts: int = 0

    @property
    def total_usd(self) -> float:
        return sum(self.usd.values())

    def to_result(self) -> dict[str, Any]:
        # Six decimals: a small night's parts are fractions of a cent, and a part rounded to 0 would vanish.
        return {"total_usd": round(self.total_usd, 6), "usd": {k: round(v, 6) for k, v in self.usd.items()},
                "boosted_rcu_hours": round(self.boosted_rcu_hours, 3), "cluster_seconds": round(self.cluster_seconds),
                "on_demand_read_units": round(self.on_demand_read_units, 1), "exported_bytes": self.exported_bytes,
                "s3_puts": self.s3_puts}


def night_cost(plan: dict[str, Any], rows: list[dict[str, Any]], prices: Prices,
               cluster_boosts: dict[str, tuple[int, bool]] | None = None) -> NightCost:
    """The cost of the tables in `rows` (night_report.table_rows) under `plan`; `cluster_boosts` maps a cluster
    table to (read units its boost added, whether it went back when its step ended rather than at the run's end)."""
    cost = NightCost()
    start = parse_time((plan.get("window") or {}).get("starts_at"))
    planned = {t["name"]: (cluster, t) for cluster in plan.get("clusters") or [] for t in cluster.get("tables") or []}
    ran = [r for r in rows if r.get("status") in RAN and not r.get("resumed")]
    run_end = max(filter(None, (parse_time(r.get("finished_at")) for r in ran)), default=None)
    consistent = bool((plan.get("controller") or {}).get("consistent_read"))
    cluster_ends: dict[str, datetime] = {}
    for row in ran:
        cluster, table = planned.get(row["name"], ({}, {}))
        engine = str(row.get("engine") or cluster.get("engine") or "")
        finished = parse_time(row.get("finished_at")) or run_end
        if engine in CLUSTER_ENGINES and cluster.get("id") and finished:
            lane = cluster["id"]
            cluster_ends[lane] = max(cluster_ends.get(lane, finished), finished)
        _add_boost(cost, prices, row, table, engine, start, finished, run_end, (cluster_boosts or {}))
        if engine == "export":
            exported = int(row.get("bytes") or 0) or int(table.get("size_bytes") or 0)
            cost.exported_bytes += exported
            cost.usd["exports"] += prices.export_cost(exported)
            continue
        if table.get("billing_mode") == ON_DEMAND:
            units = (float(row["read_units_consumed"]) if row.get("read_units_consumed")
                     else math.ceil(int(row.get("bytes") or 0) / bytes_per_read_unit(consistent)))
            cost.on_demand_read_units += units
            cost.usd["on_demand_reads"] += units * prices.on_demand_read_million_usd / 1e6
        cost.usd["pipeline_fees"] += prices.pipeline_fee(engine)
        puts = math.ceil(int(row.get("bytes") or 0) / PART_BYTES) + OBJECTS_PER_BACKUP
        cost.s3_puts += puts
        cost.usd["s3_requests"] += puts * prices.s3_put_thousand_usd / 1000
    for cluster in plan.get("clusters") or []:
        end = cluster_ends.get(cluster.get("id"))
        if start and end and cluster.get("engine") in CLUSTER_ENGINES:
            launched = float(cluster.get("start_offset_s") or 0)
            seconds = max(0.0, (end - start).total_seconds() - launched)
            cost.cluster_seconds += seconds
            cost.usd["clusters"] += prices.cluster_cost(seconds, cluster["engine"])
    return cost


def _add_boost(cost: NightCost, prices: Prices, row: dict[str, Any], table: dict[str, Any], engine: str,
               start: datetime | None, finished: datetime | None, run_end: datetime | None,
               cluster_boosts: dict[str, tuple[int, bool]]) -> None:
    if engine in CLUSTER_ENGINES:
        added, at_step_end = cluster_boosts.get(row["name"], (0, False))
        began, ended = start, finished if at_step_end else run_end
    else:
        added = int(table.get("boost_rcu") or 0) - int(table.get("rcu") or 0) if row.get("boosted") else 0
        began, ended = parse_time(row.get("started_at")), finished
    if added <= 0 or not began or not ended:
        return
    held_s = max(0.0, (ended - began).total_seconds())
    cost.boosted_rcu_hours += added * held_s / SECONDS_PER_HOUR
    cost.usd["boosts"] += prices.boost_cost(added, held_s)


def plan_prices(plan: dict[str, Any]) -> Prices:
    """The prices the plan was estimated with (its `prices`), so that estimate and bill compare like with like;
    the defaults for a plan that does not carry them."""
    given = plan.get("prices")
    known = {f.name for f in fields(Prices)}
    return Prices(**{k: v for k, v in given.items() if k in known}) if isinstance(given, dict) else Prices()


def cluster_boosts(boosts: Any, engines: list[Any]) -> dict[str, tuple[int, bool]]:
    """Each cluster table's boost as the role registered it: (read units added, put back when its step ended)."""
    at_step_end = {t for r in engine_results(engines) for t in r.get("capacity_put_back") or []}
    found = {}
    for boost in registered(boosts).get("per_table") or []:
        if boost.get("changed") and "error" not in boost:
            added = _read_units(boost.get("after")) - _read_units(boost.get("before"))
            found[str(boost.get("table"))] = (added, boost.get("table") in at_step_end)
    return found


def _read_units(capacity: Any) -> int:
    units = ((capacity or {}).get("table") or {}).get("read", {}).get("units")
    return int(units) if isinstance(units, int | float) else 0


def bill_text(cost: dict[str, Any]) -> str:
    """A night's bill (`NightCost.to_result`) in one line: the total, its parts, and what they measure."""
    parts = ", ".join(f"{k.replace('_', ' ')} {usd(v)}" for k, v in cost["usd"].items() if v)
    return (usd(cost["total_usd"]) + (f" ({parts})" if parts else "")
            + f"; boosts held {cost['boosted_rcu_hours']:,.2f} RCU-hours, clusters ran {cost['cluster_seconds']:,} s, "
              f"{human_bytes(cost['exported_bytes'])} exported, {cost['s3_puts']:,} S3 writes")
