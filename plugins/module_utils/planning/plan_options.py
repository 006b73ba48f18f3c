"""The ways to back up one table (engine, read rate, boost) and what each costs; the cheapest that fits wins."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.packing import (
    Packing,
    lower_bound,
    next_fit_ascending,
    pack,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import (
    CLUSTER_ENGINES,
    SHARE_DIGITS,
    PlanSettings,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import TableInfo
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.request_model import request_time_s


@dataclass(slots=True)
class Option:
    """One way to back up one table: an engine, a read rate and what it costs at the margin."""

    engine: str
    duration_s: int
    read_units_per_second: float | None
    boost_rcu: int | None  # provisioned capacity during the backup; None for on-demand tables
    added_rcu: int
    read_percentage: float | None
    cost_usd: float  # the table's own cost, used to choose between options
    mandatory_boost: bool = False
    read_rate_source: str | None = None  # provisioned | warm-throughput | default; None for exports


@dataclass(slots=True)
class Candidate:
    table: TableInfo
    size_bytes: int
    options: list[Option]
    reasons: list[str]


def timing(engine: str, settings: PlanSettings) -> tuple[int, float]:
    """(cluster bootstrap, per-table bootstrap) of a scanning engine."""
    if engine == "local":
        return 0, settings.local_startup_s()
    return settings.model.cluster_bootstrap_s, settings.model.activity_bootstrap_s


def on_demand_rate(table: TableInfo, settings: PlanSettings) -> tuple[float, str]:
    """Read units/s a backup may take from an on-demand table, and which figure it comes from."""
    if table.warm_read_units:
        # The warm throughput is what the table serves at once, without scaling up first.
        return settings.read_percentage * table.warm_read_units, "warm-throughput"
    return settings.model.on_demand_read_units, "default"


def _scan_options(table: TableInfo, size: int, engine: str, settings: PlanSettings, cost_optimal_boost: bool,
                  ) -> tuple[list[Option], str | None]:
    model, prices = settings.model, settings.model.prices
    bootstrap, activity = timing(engine, settings)
    capacity = settings.window_s - bootstrap
    per_s = prices.engine_cluster_usd_per_s(engine) if engine in CLUSTER_ENGINES else 0.0
    # The cluster a table joins is not packed yet: its boost is judged as if held all window, never cheaper
    # than it turns out (the plan's estimate charges its cluster's span).
    hold_s = settings.window_s

    bytes_per_rcu_s = settings.bytes_per_read_unit(engine)
    # The controller waits on every request of a local backup; a cluster's are inside its activity time.
    waits_s = (request_time_s(size, model.requests_per_table, model.request_latency_s) if engine == "local"
               else 0.0)
    room = capacity - activity - waits_s
    if size and room <= 0:
        return [], (f"a {settings.window_s} s window leaves no time after {engine}'s "
                    f"{bootstrap + activity + waits_s:.0f} s start-up")
    need = size / (bytes_per_rcu_s * room) if size else 0.0  # read units per second that just fit the window
    ceiling = pace = math.inf
    if engine == "local":
        # One scan can never take more than the whole controller, and reads no faster than its even
        # share of it unless the window needs it to: then the scan count and the bytes/s run out
        # together, and a short scan never holds the controller's bandwidth for itself.
        ceiling = model.controller_bytes_per_s / bytes_per_rcu_s
        # Rounded up to a hundredth of a unit, so that the duration it gives still fits the window.
        pace = min(ceiling, max(ceiling / model.controller_max_scans, math.ceil(need * 100) / 100))
    # A cluster's bootstrap is shared by the tables in it, in proportion to the time they take.
    per_busy_s = per_s * (1 + bootstrap / capacity) if capacity > 0 else 0.0
    reads = prices.on_demand_read_cost(size, bytes_per_rcu_s) if table.on_demand else 0.0
    fees = prices.pipeline_fee(engine) + prices.s3_request_cost(size)
    source = "provisioned"

    def option(rate: float, boost_rcu: int | None, added: int, share: float | None, mandatory: bool = False) -> Option:
        # An empty table reads nothing, but the local engine still backs up its schema.
        duration = (0 if size == 0 and engine != "local"
                    else math.ceil(activity + waits_s + (size / (rate * bytes_per_rcu_s) if size else 0.0)))
        # The local engine raises a boost just before its table and lowers it right after; clusters hold theirs.
        held = duration if engine == "local" else hold_s
        cost = per_busy_s * duration + reads + fees + (prices.boost_cost(added, held) if added else 0.0)
        return Option(engine, duration, rate, boost_rcu, added, share, cost, mandatory, source)

    if table.on_demand:
        allowed, source = on_demand_rate(table, settings)
        rate = min(allowed, pace)
        if size == 0:
            return [option(rate, None, 0, None)], None
    else:
        # Held to the pace by a smaller share, so that the plan's share is what the scan reads;
        # rounded up, so that the window's need is still met, but never past the controller.
        share = settings.read_percentage
        if share * table.rcu > pace:
            share = min(share, math.ceil(pace / table.rcu * 10**SHARE_DIGITS) / 10**SHARE_DIGITS)
            if share * table.rcu > ceiling:
                share = _round_down(ceiling / table.rcu)
        rate = share * table.rcu
        if size == 0:
            return [option(rate, table.rcu, 0, share)], None
    if need > ceiling:
        return [], (f"needs {math.ceil(need * bytes_per_rcu_s)} bytes/s to finish in the window, more than the "
                    f"controller reads (controller_bytes_per_s {model.controller_bytes_per_s:.0f})")
    if table.on_demand:
        if rate < need:
            figure = (f"{settings.read_percentage:g} of its warm throughput {table.warm_read_units} is {rate:g}"
                      if source == "warm-throughput"
                      else f"on_demand_read_units is {rate:g} (no warm throughput reported: raise it to read faster)")
            return [], f"needs {math.ceil(need)} read units/s to finish in the window, {figure}"
        return [option(rate, None, 0, None)], None

    options: list[Option] = []
    base = rate
    if base >= need:
        options.append(option(base, table.rcu, 0, share))
    limit = min(table.max_rcu or model.table_max_rcu, table.autoscaling_max_rcu or model.table_max_rcu)
    rates = [need] if base < need else []
    if cost_optimal_boost and per_s > 0:
        # Cluster time falls as 1/rate while boosted capacity costs in proportion to rate: the
        # cheapest rate for this table alone is where the two marginal costs meet.
        hours = max(1, math.ceil(hold_s / 3600))
        optimal = math.sqrt(per_busy_s * size / (bytes_per_rcu_s * prices.rcu_hour_usd * hours))
        if optimal > max(base, need):
            rates.append(optimal)
    for wanted in rates:
        # The backup reads only the added capacity, so the application keeps all of its own. Capacity comes
        # in whole units: rounded up past the pace (never down below the need the pace was rounded up
        # from), while the scan itself still reads no faster than the pace.
        added = min(math.ceil(wanted), limit - table.rcu, math.ceil(min(pace, 2**62)))
        rate = min(float(added), pace)
        if rate < need or rate <= base:
            continue
        boost_rcu = table.rcu + added
        # Rounded down, so that a scan held to this share never eats into the application's part.
        options.append(option(rate, boost_rcu, added, _round_down(rate / boost_rcu), mandatory=base < need))
    if not options:
        capped_by = (f"autoscaling MaxCapacity {table.autoscaling_max_rcu}" if table.autoscaling_max_rcu
                     and table.autoscaling_max_rcu < (table.max_rcu or model.table_max_rcu)
                     else f"table limit {limit}")
        return [], f"needs {math.ceil(table.rcu + need)} RCU, {capped_by}"
    return options, None


def _round_down(share: float) -> float:
    return math.floor(share * 10.0**SHARE_DIGITS) / 10.0**SHARE_DIGITS


def _export_option(table: TableInfo, size: int, settings: PlanSettings) -> tuple[list[Option], str | None]:
    if not table.pitr:
        return [], "the export engine needs point-in-time recovery; enable PITR on the table or choose another engine"
    model = settings.model
    duration = model.export_bootstrap_s + math.ceil(size / model.export_bytes_per_s)
    if settings.engine == "auto" and duration > settings.window_s:
        return [], f"an export of it takes {duration} s, longer than the {settings.window_s} s window"
    return [Option("export", duration, None, None, 0, None, model.prices.export_cost(size))], None


def _our_engines(table: TableInfo, size: int, settings: PlanSettings) -> list[str]:
    if settings.engine != "auto":
        return [settings.engine]
    engines = [settings.model.auto_cluster_engine]
    if not settings.model.local_max_bytes or size <= settings.model.local_max_bytes:
        engines.insert(0, "local")
    if table.pitr:
        engines.append("export")
    return engines


def _seed_engines(table: TableInfo, size: int, settings: PlanSettings) -> list[str]:
    return [settings.model.auto_cluster_engine if settings.engine == "auto" else settings.engine]


def _seed_pack(durations: list[int], capacity: int, per_cluster: int) -> Packing:
    bins = next_fit_ascending(durations, capacity, per_cluster)
    return Packing(bins, lower_bound(durations, capacity, per_cluster), len(bins), "next-fit-ascending")


@dataclass(frozen=True)
class Rules:
    """What a plan may choose. Hippolyte plans with OURS; the seed's narrower rules (one cluster engine, a
    boost only where a table cannot fit, next-fit over ascending durations) are planned beside them as the
    baseline every plan is compared with."""

    name: str
    engines: Callable[[TableInfo, int, PlanSettings], list[str]]
    # Also offer the boost where cluster time and boosted capacity cost the same at the margin.
    cost_optimal_boost: bool
    pack: Callable[[list[int], int, int], Packing]

    def cluster_engine(self, settings: PlanSettings) -> str:
        """The engine the plan reports as its own: the seed's `auto` is its one cluster engine."""
        return (settings.model.auto_cluster_engine if self is SEED and settings.engine == "auto"
                else settings.engine)


OURS = Rules("ours", _our_engines, True, pack)
SEED = Rules("seed", _seed_engines, False, _seed_pack)


def table_options(table: TableInfo, size: int, settings: PlanSettings, rules: Rules,
                  ) -> tuple[list[Option], list[str]]:
    options: list[Option] = []
    reasons: list[str] = []
    engines = rules.engines(table, size, settings)
    for engine in engines:
        found, reason = (_export_option(table, size, settings) if engine == "export"
                         else _scan_options(table, size, engine, settings, rules.cost_optimal_boost))
        options += found
        if reason:
            reasons.append(f"{engine}: {reason}" if len(engines) > 1 else reason)
    return options, reasons


def choose(options: list[Option], headroom: float, settings: PlanSettings) -> Option | None:
    """The cheapest option the account's headroom allows."""
    # An optional boost uses one of the day's rationed capacity decreases: it must earn its keep.
    penalty = settings.model.boost_min_saving_usd
    best, best_cost = None, math.inf
    for option in options:
        if option.added_rcu > headroom:
            continue
        cost = option.cost_usd + (penalty if option.added_rcu and not option.mandatory_boost else 0.0)
        if cost < best_cost:
            best, best_cost = option, cost
    return best
