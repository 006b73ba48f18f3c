"""The backup planner: a pure function from tables and settings to a plan.

For every table it works out how long a backup takes at the read rate it may use, whether to boost
its read capacity, which engine runs it, and packs the tables into clusters that fit the window.
The model (docs/planning.md):

    duration_s        = activity_bootstrap_s + size_bytes / (read_units_per_second * bytes_per_rcu_s)
    cluster capacity  = window_s - cluster_bootstrap_s
    tables per cluster <= (max_objects - 2) // 3      (Data Pipeline; EMR: emr_max_steps)

Local (in-process) backups need no cluster: they run in lanes on the controller, as many side by side
as it sustains (controller_max_scans scans and controller_bytes_per_s bytes/s at any instant), and
clusters take only what does not fit there.

The same code, restricted to the seed's rules (one cluster engine, boosts only where a table cannot
fit, next-fit over ascending durations), gives the baseline every plan is compared with; a plan
never uses more clusters than that baseline and never costs more.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import (
    AutoscalingRange,
    Baseline,
    ControllerModel,
    GsiCapacity,
    Packing,
    PlanDocument,
    PlannedCluster,
    PlannedTable,
    Unplannable,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.account_headroom import account_headroom
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.controller_load import (
    Placement,
    fit_lanes,
    load_of,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.packing import lower_bound, next_fit_ascending
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import (
    CLUSTER_ENGINES,
    PLANNABLE_STATUSES,
    Model,
    PlanSettings,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_options import (
    OURS,
    SEED,
    Candidate,
    Option,
    Rules,
    choose,
    table_options,
    timing,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import TableInfo

# The plan as it is built (Plan.document() is what it writes) ----------------------------------------------------------


@dataclass(slots=True)
class PlacedTable:
    """A table while the planner places it: its option, and its start once placed."""

    table: TableInfo
    size_bytes: int
    option: Option
    start_offset_s: int = 0
    cost_usd: float = 0.0

    def planned(self) -> PlannedTable:
        t, o = self.table, self.option
        return PlannedTable(
            name=t.name, engine=o.engine, size_bytes=self.size_bytes, item_count=t.item_count,
            billing_mode=t.billing_mode, rcu=None if t.on_demand else t.rcu, boost_rcu=o.boost_rcu,
            boosted=o.added_rcu > 0, read_percentage=o.read_percentage,
            read_units_per_second=None if o.read_units_per_second is None else round(o.read_units_per_second, 2),
            read_rate_source=o.read_rate_source, start_offset_s=self.start_offset_s, duration_s=o.duration_s,
            pitr=t.pitr, autoscaling=(None if t.autoscaling_max_rcu is None else
                                      AutoscalingRange(t.autoscaling_min_rcu, t.autoscaling_max_rcu)),
            gsis=tuple(GsiCapacity(name, rcu) for name, rcu in t.gsis), estimated_cost_usd=round(self.cost_usd, 4),
            facts=t.facts)


@dataclass
class Cluster:
    id: str
    engine: str
    start_offset_s: int
    end_offset_s: int
    tables: list[PlacedTable]
    cost_usd: float = 0.0

    def planned(self) -> PlannedCluster:
        return PlannedCluster(id=self.id, engine=self.engine, tables=tuple(t.planned() for t in self.tables),
                              start_offset_s=self.start_offset_s, end_offset_s=self.end_offset_s,
                              estimated_cost_usd=round(self.cost_usd, 4))


@dataclass
class Plan:
    window_s: int
    engine: str
    clusters: list[Cluster]
    unplannable: list[dict[str, str]]
    warnings: list[str]
    packing: dict[str, dict[str, Any]]
    cost: dict[str, float]
    baseline: dict[str, Any] = field(default_factory=dict)
    controller: dict[str, Any] = field(default_factory=dict)  # its model and the planned local load's peaks
    prices: dict[str, float] = field(default_factory=dict)  # what the estimate was priced at: the report's bill too

    @property
    def estimated_cost_usd(self) -> float:
        return sum(self.cost.values())

    @property
    def cluster_count(self) -> int:
        return sum(1 for c in self.clusters if c.engine in CLUSTER_ENGINES)

    def planned(self) -> list[PlacedTable]:
        return [t for c in self.clusters for t in c.tables]

    def document(self) -> PlanDocument:
        """The plan as every reader takes it (not yet scheduled: no night, window or deadline)."""
        counts: dict[str, int] = {}
        for table in self.planned():
            counts[table.option.engine] = counts.get(table.option.engine, 0) + 1
        return PlanDocument(
            window_s=self.window_s, engine=self.engine, clusters=tuple(c.planned() for c in self.clusters),
            engine_counts=dict(sorted(counts.items())), table_count=len(self.planned()) + len(self.unplannable),
            estimated_cost_usd=round(self.estimated_cost_usd, 4),
            cost_breakdown_usd={k: round(v, 4) for k, v in self.cost.items()}, prices=dict(self.prices),
            makespan_s=max((c.end_offset_s for c in self.clusters), default=0),
            packing={e: Packing(**p) for e, p in self.packing.items()},
            baseline=Baseline(**self.baseline) if self.baseline else None,
            controller=ControllerModel(**self.controller) if self.controller else None,
            unplannable=tuple(Unplannable(**u) for u in self.unplannable), warnings=tuple(self.warnings))


def plan_backups(tables: list[TableInfo], settings: PlanSettings) -> Plan:
    """Plan every table: the cheaper of our plan and the seed's rule, which is reported beside it."""
    settings.validate()
    seen: set[str] = set()
    for table in tables:
        if table.name in seen:
            raise InputError("tables", f"table {table.name!r} is listed twice", "list each table once")
        seen.add(table.name)
    if not settings.fleet_tables:  # what the local lanes share their one interpreter with
        settings = replace(settings, fleet_tables=len(tables))
    ours = _plan(tables, settings, OURS)
    seed = _plan(tables, settings, SEED)
    baseline = {"rule": "seed: next-fit over ascending durations, boosts only where a table cannot fit, "
                        f"engine {seed.engine}",
                "clusters": seed.cluster_count, "estimated_cost_usd": round(seed.estimated_cost_usd, 4),
                "unplannable": len(seed.unplannable)}
    if len(seed.unplannable) <= len(ours.unplannable) and seed.estimated_cost_usd < ours.estimated_cost_usd - 1e-9:
        seed.warnings.append("the seed's rule came out cheaper than the optimised plan for these tables; using it")
        ours = seed
    ours.baseline = baseline
    return ours


def _effective_size(table: TableInfo, model: Model) -> tuple[int, bool]:
    # TableSizeBytes is refreshed about every six hours; a new table can report items but no bytes.
    if table.size_bytes == 0 and table.item_count > 0:
        return table.item_count * model.default_item_bytes, True
    return table.size_bytes, False


def _plan(tables: list[TableInfo], settings: PlanSettings, rules: Rules) -> Plan:
    model = settings.model
    warnings: list[str] = []
    unplannable: list[dict[str, str]] = []
    candidates: list[Candidate] = []
    estimated: list[str] = []
    for table in sorted(tables, key=lambda t: t.name):
        if table.status not in PLANNABLE_STATUSES:
            unplannable.append({"name": table.name, "reason": f"table status is {table.status}, not ACTIVE"})
            continue
        size, guessed = _effective_size(table, model)
        if guessed:
            estimated.append(table.name)
        options, reasons = table_options(table, size, settings, rules)
        candidates.append(Candidate(table, size, options, reasons))
    if estimated:
        shown = ", ".join(estimated[:10]) + (f" and {len(estimated) - 10} more" if len(estimated) > 10 else "")
        warnings.append(f"size estimated from item count x {model.default_item_bytes} bytes (DynamoDB has not yet "
                        f"reported TableSizeBytes): {shown}")

    in_use = settings.account_rcu_in_use
    if in_use is None:
        in_use = sum(t.rcu + sum(rcu for _index, rcu in t.gsis) for t in tables if not t.on_demand)
    headroom, account_warning = account_headroom(model.account_max_rcu, in_use)
    # Tables that cannot fit without a boost take the account's headroom first, smallest need first.
    candidates.sort(key=lambda c: (any(o.added_rcu == 0 for o in c.options),
                                   min((o.added_rcu for o in c.options), default=0), c.table.name))
    chosen: list[tuple[Candidate, Option]] = []
    for candidate in candidates:
        pick = choose(candidate.options, headroom, settings)
        if pick is None:
            reasons = list(candidate.reasons)
            if candidate.options:
                reasons.append(f"needs {min(o.added_rcu for o in candidate.options)} more RCU, account headroom "
                               f"is {headroom:.0f} RCU (account limit {model.account_max_rcu}, in use {in_use})")
            unplannable.append({"name": candidate.table.name, "reason": "; ".join(reasons)})
            continue
        headroom -= pick.added_rcu
        chosen.append((candidate, pick))
    boosted = any(o.added_rcu for _candidate, o in chosen)
    # A contradicted limit is news whatever the plan; an unknown one matters only to a plan that boosts.
    if account_warning and (boosted or model.account_max_rcu):
        warnings.append(account_warning)
    elif settings.account_rcu_in_use is None and boosted:
        warnings.append("account read capacity in use is unknown: boost headroom counts only the planned tables")

    by_engine: dict[str, list[PlacedTable]] = {}
    for candidate, option in chosen:
        by_engine.setdefault(option.engine, []).append(PlacedTable(candidate.table, candidate.size_bytes, option))
    options_of = {c.table.name: c.options for c in candidates}
    fix = " and no other engine can run it" if settings.engine == "auto" else "; widen the window or use engine auto"

    def move(left_out: list[PlacedTable], engines: tuple[str, ...], why: str) -> None:
        """Give tables that did not fit where they were first put their cheapest option on `engines`."""
        nonlocal headroom
        for planned in left_out:
            headroom += planned.option.added_rcu
            pick = choose([o for o in options_of[planned.table.name] if o.engine in engines], headroom, settings)
            if pick is None:
                unplannable.append({"name": planned.table.name, "reason": f"{why}{fix}"})
                continue
            headroom -= pick.added_rcu
            by_engine.setdefault(pick.engine, []).append(PlacedTable(planned.table, planned.size_bytes, pick))

    lanes: list[list[PlacedTable]] = []
    order = ""
    if "local" in by_engine:
        lanes, overflow, order = _fit_controller(by_engine.pop("local"), settings)
        move(overflow, ("export", *CLUSTER_ENGINES),
             f"the controller has no room left for it in the window (controller_max_scans "
             f"{model.controller_max_scans}, controller_bytes_per_s {model.controller_bytes_per_s:.0f})")
    exports: list[Cluster] = []
    if "export" in by_engine:
        exports = _export_batches(by_engine.pop("export"), settings)
        late = [t for c in exports for t in c.tables if t.start_offset_s + t.option.duration_s > settings.window_s]
        if late and settings.engine == "auto":
            # The latest exports are the longest, at the end of the last batches: without them the
            # batches before stay as they were and end inside the window.
            move(late, CLUSTER_ENGINES, f"{model.export_max_concurrent} exports at a time end after the window")
            moved = {id(t) for t in late}
            exports = _export_batches([t for c in exports for t in c.tables if id(t) not in moved], settings)
        elif late:
            warnings.append(f"{len(late)} export(s) may finish after the window closes (they stay point-in-time "
                            f"consistent): {', '.join(t.table.name for t in late[:10])}")

    clusters: list[Cluster] = []
    packing: dict[str, dict[str, Any]] = {}
    for name in CLUSTER_ENGINES:
        if name in by_engine:
            clusters += _pack_engine(name, by_engine[name], settings, rules, packing)
    if lanes:
        durations = [p.option.duration_s for lane in lanes for p in lane]
        packing["local"] = {"clusters": len(lanes), "lower_bound": lower_bound(durations, settings.window_s, 1 << 30),
                            "next_fit_ascending": len(next_fit_ascending(durations, settings.window_s, 1 << 30)),
                            "method": f"controller: {order} into the lane free first, at most "
                                      f"{model.controller_max_scans} scans and "
                                      f"{model.controller_bytes_per_s / 1024**2:g} MiB/s at once",
                            "capacity_s": settings.window_s, "tables_per_cluster": max(len(lane) for lane in lanes)}
        clusters += [Cluster("", "local", 0, lane[-1].start_offset_s + lane[-1].option.duration_s, lane)
                     for lane in lanes]
    clusters += exports
    width = max(2, len(str(len(clusters))))
    for number, cluster in enumerate(clusters, 1):
        cluster.id = f"c{number:0{width}d}"
    cost = _cost(clusters, settings)
    unplannable.sort(key=lambda u: u["name"])
    load = load_of((p.start_offset_s, p.option.duration_s, _bytes_per_s(p, settings)) for lane in lanes
                   for p in lane)
    controller = {"max_scans": model.controller_max_scans, "bytes_per_s": model.controller_bytes_per_s,
                  "peak_scans": load.peak_scans, "peak_bytes_per_s": round(load.peak_bytes_per_s, 1),
                  "bytes_per_read_unit": settings.bytes_per_read_unit("local"),
                  "consistent_read": settings.consistent_read,
                  # What each local table costs besides its bytes: its requests, each one round trip.
                  "request_latency_s": model.request_latency_s, "requests_per_table": model.requests_per_table,
                  "local_activity_s": model.local_activity_s, "local_table_cpu_s": model.local_table_cpu_s,
                  "local_cpu_s": round(settings.local_cpu_s(), 3)}
    return Plan(settings.window_s, rules.cluster_engine(settings), clusters, unplannable, warnings, packing, cost,
                controller=controller, prices=asdict(model.prices))


def _bytes_per_s(planned: PlacedTable, settings: PlanSettings) -> float:
    if not planned.size_bytes:
        return 0.0  # an empty table's backup reads no data
    option = planned.option
    return (option.read_units_per_second or 0.0) * settings.bytes_per_read_unit(option.engine)


def _fit_controller(planned: list[PlacedTable], settings: PlanSettings,
                    ) -> tuple[list[list[PlacedTable]], list[PlacedTable], str]:
    """Spread the local tables over the controller's lanes, each lane's tables one after another: longest
    first, each into the lane that frees first (an idle lane costs nothing, and the longest lane, the
    night's end, stays within 4/3 of the shortest possible). When that leaves tables out, shortest first
    instead, so that most tables stay in-process. Returns lanes, the tables that did not fit, and the order."""
    model = settings.model

    def place(ordered: list[PlacedTable]) -> list[Placement | None]:
        return fit_lanes([(p.option.duration_s, _bytes_per_s(p, settings)) for p in ordered],
                         settings.window_s, model.controller_max_scans, model.controller_bytes_per_s)

    order = "shortest first"
    ordered = sorted(planned, key=lambda p: (p.option.duration_s, p.table.name))
    placements = place(ordered)
    # Longest first may fit every table where shortest first did not; not when the lanes cannot hold the
    # tables' total time (one pass then, on a fleet that overflows the controller).
    total_s = sum(p.option.duration_s for p in planned)
    if all(p is not None for p in placements) or total_s <= model.controller_max_scans * settings.window_s:
        longest = ordered[::-1]
        spread = place(longest)
        if all(placement is not None for placement in spread):
            order, ordered, placements = "longest first", longest, spread
    lanes: dict[int, list[PlacedTable]] = {}
    overflow: list[PlacedTable] = []
    for table, placement in zip(ordered, placements, strict=True):
        if placement is None:
            overflow.append(table)
            continue
        table.start_offset_s = placement.start_s
        lanes.setdefault(placement.lane, []).append(table)
    return [lanes[lane] for lane in sorted(lanes)], overflow, order


def _pack_engine(engine: str, planned: list[PlacedTable], settings: PlanSettings, rules: Rules,
                 packing: dict[str, dict[str, Any]]) -> list[Cluster]:
    bootstrap, _per_table = timing(engine, settings)
    capacity = settings.window_s - bootstrap
    per_cluster = settings.tables_per_cluster(engine)
    durations = [p.option.duration_s for p in planned]
    result = rules.pack(durations, capacity, per_cluster)
    bins = result.bins
    packing[engine] = {"clusters": len(bins), "lower_bound": result.lower_bound,
                       "next_fit_ascending": result.next_fit_ascending,
                       "method": result.method,
                       "capacity_s": capacity, "tables_per_cluster": min(per_cluster, len(planned))}
    return [_cluster(engine, [planned[i] for i in members], bootstrap) for members in bins]


def _cluster(engine: str, members: list[PlacedTable], bootstrap: int) -> Cluster:
    # Shortest first: if the window is cut short, the most tables are already done.
    ordered = sorted(members, key=lambda p: (p.option.duration_s, p.table.name))
    offset = bootstrap
    for table in ordered:
        table.start_offset_s = offset
        offset += table.option.duration_s
    return Cluster("", engine, 0, offset, ordered)


def _export_batches(planned: list[PlacedTable], settings: PlanSettings) -> list[Cluster]:
    """Exports run side by side, at most export_max_concurrent at a time."""
    ordered = sorted(planned, key=lambda p: (p.option.duration_s, p.table.name))
    step = settings.model.export_max_concurrent
    clusters: list[Cluster] = []
    start = 0
    for first in range(0, len(ordered), step):
        batch = ordered[first:first + step]
        for table in batch:
            table.start_offset_s = start
        end = start + max(t.option.duration_s for t in batch)
        clusters.append(Cluster("", "export", start, end, batch))
        start = end
    return clusters


def _cost(clusters: list[Cluster], settings: PlanSettings) -> dict[str, float]:
    prices = settings.model.prices
    totals = {"clusters": 0.0, "boosts": 0.0, "on_demand_reads": 0.0, "exports": 0.0, "pipeline_fees": 0.0,
              "s3_requests": 0.0}
    for cluster in clusters:
        scanning_cluster = cluster.engine in CLUSTER_ENGINES
        span_s = cluster.end_offset_s - cluster.start_offset_s
        cluster.cost_usd = prices.cluster_cost(span_s, cluster.engine) if scanning_cluster else 0.0
        totals["clusters"] += cluster.cost_usd
        for planned in cluster.tables:
            option = planned.option
            # A boost is held for its own table: the local engine raises it just before the table and puts it
            # back right after; a cluster's tables are boosted before it starts, each put back when its step
            # ends, at the latest when the cluster's last step does.
            boost = prices.boost_cost(option.added_rcu, span_s if scanning_cluster else option.duration_s)
            reads = (prices.on_demand_read_cost(planned.size_bytes, settings.bytes_per_read_unit(option.engine))
                     if planned.table.on_demand and option.engine != "export" else 0.0)
            export = prices.export_cost(planned.size_bytes) if option.engine == "export" else 0.0
            compute = prices.cluster_cost(option.duration_s, cluster.engine) if scanning_cluster else 0.0
            fee = prices.pipeline_fee(option.engine)
            puts = prices.s3_request_cost(planned.size_bytes) if option.engine != "export" else 0.0
            planned.cost_usd = boost + reads + export + compute + fee + puts
            totals["boosts"] += boost
            totals["on_demand_reads"] += reads
            totals["exports"] += export
            totals["pipeline_fees"] += fee
            totals["s3_requests"] += puts
    return totals
