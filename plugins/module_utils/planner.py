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

import heapq
import math
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.controller_load import fit_lanes, load_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.cost_model import Prices
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.errors import InputError

ENGINES = ("auto", "datapipeline", "emr", "export", "local")
CLUSTER_ENGINES = ("datapipeline", "emr")
PROVISIONED = "PROVISIONED"
ON_DEMAND = "PAY_PER_REQUEST"
PLANNABLE_STATUSES = ("ACTIVE", "UPDATING")  # UPDATING tables still serve reads
SECONDS_PER_DAY = 86400
SHARE_DIGITS = 4  # decimals of a boosted read_percentage


@dataclass(frozen=True)
class Model:
    """Named constants of the duration, packing and cost model. Every one can be overridden."""

    cluster_bootstrap_s: int = 600  # EMR cluster start before the first table
    activity_bootstrap_s: int = 60  # per table, before its first read
    bytes_per_rcu_s: float = 4096.0  # bytes one read unit moves per second
    emr_max_steps: int = 256  # EMR's limit of pending and running steps per cluster
    auto_cluster_engine: str = "datapipeline"  # what engine auto uses when a cluster is cheapest
    on_demand_read_units: float = 100.0  # on-demand read rate when DescribeTable reports no warm throughput
    local_max_bytes: int = 0  # largest table engine auto runs in-process; 0: any that fits the controller
    # What one controller sustains (docs/planning.md says how the bytes/s figure was measured):
    # rate-limited scans mostly wait on I/O, so many run side by side within one aggregate read rate.
    controller_max_scans: int = 64
    controller_bytes_per_s: float = 20 * 1024**2
    local_activity_s: int = 10  # per table start-up of an in-process backup
    export_bootstrap_s: int = 900  # a native export takes at least this long, whatever the size
    export_bytes_per_s: float = 50 * 1024**2  # observed native export throughput, for the schedule only
    export_max_concurrent: int = 300  # AWS limit of concurrent exports per account
    table_max_rcu: int = 40000  # default per-table limit when DescribeLimits is not known
    account_max_rcu: int = 80000  # default per-account limit when DescribeLimits is not known
    default_item_bytes: int = 1024  # size estimate per item while TableSizeBytes still reads 0
    boost_min_saving_usd: float = 0.01  # an optional boost must save this much: decreases are rationed
    prices: Prices = field(default_factory=Prices)

    def validate(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, int | float) and value < 0:
                raise InputError(f"model.{spec.name}", f"must not be negative, got {value}", "give a value >= 0")
        for name in ("bytes_per_rcu_s", "on_demand_read_units", "export_bytes_per_s", "emr_max_steps",
                     "controller_max_scans", "controller_bytes_per_s", "export_max_concurrent", "table_max_rcu",
                     "account_max_rcu", "default_item_bytes"):
            if getattr(self, name) <= 0:
                raise InputError(f"model.{name}", f"must be greater than 0, got {getattr(self, name)}",
                                 "give a positive value")
        if self.auto_cluster_engine not in CLUSTER_ENGINES:
            raise InputError("model.auto_cluster_engine", f"unknown engine {self.auto_cluster_engine!r}",
                             f"choose one of {', '.join(CLUSTER_ENGINES)}")
        self.prices.validate()


# Deprecated model keys and the key each now sets: a lane ran one scan at a time, so N lanes were N scans.
MODEL_ALIASES = {"local_max_lanes": "controller_max_scans"}


def model_from_dict(values: dict[str, Any] | None) -> Model:
    """A Model from a flat dict of overrides (model constants and prices side by side)."""
    model_keys = {spec.name: spec.type for spec in fields(Model) if spec.name != "prices"}
    price_keys = {spec.name for spec in fields(Prices)}
    model_args: dict[str, Any] = {}
    price_args: dict[str, Any] = {}
    values = dict(values or {})
    for old, new in MODEL_ALIASES.items():
        if old in values:
            if new in values:
                raise InputError(f"model.{old}", f"is the deprecated name of {new}, and both are given",
                                 f"keep only {new}")
            values[new] = values.pop(old)
    for key, value in values.items():
        if key not in model_keys and key not in price_keys:
            known = ", ".join(sorted([*model_keys, *price_keys]))
            raise InputError(f"model.{key}", "unknown key", f"use one of {known}")
        default = getattr(Model(), key) if key in model_keys else getattr(Prices(), key)
        target = model_args if key in model_keys else price_args
        target[key] = _coerce(f"model.{key}", value, type(default))
    return Model(prices=Prices(**price_args), **model_args)


def _coerce(name: str, value: Any, kind: type) -> Any:
    if kind is str:
        if not isinstance(value, str):
            raise InputError(name, f"must be a string, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(name, f"must be a number, got {value!r}")
    if kind is int:
        if value != int(value):
            raise InputError(name, f"must be a whole number, got {value!r}")
        return int(value)
    return float(value)


def _clock(name: str, text: str) -> time:
    try:
        return time.fromisoformat(text)
    except (TypeError, ValueError):
        raise InputError(name, f"{text!r} is not a time of day", 'write it as "HH:MM", for example "00:30"') from None


@dataclass(frozen=True)
class Window:
    """The nightly window, in a time zone; it may cross midnight."""

    start: str = "00:00"
    end: str = "07:00"
    timezone: str = "UTC"

    def validate(self) -> None:
        start, end = _clock("window.start", self.start), _clock("window.end", self.end)
        self.zone()
        if start == end:
            raise InputError("window", f"start and end are both {self.start}: the window has no length",
                             "give an end different from the start (a window may cross midnight, 22:00 to 06:00)")

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError("window.timezone", f"unknown time zone {self.timezone!r}",
                             "use an IANA name such as UTC or Europe/Paris") from None

    def _bounds(self, day: date) -> tuple[datetime, datetime]:
        zone = self.zone()
        start, end = _clock("window.start", self.start), _clock("window.end", self.end)
        end_day = day if end > start else day + timedelta(days=1)
        return datetime.combine(day, start, zone), datetime.combine(end_day, end, zone)

    def seconds(self, day: date | None = None) -> int:
        """Length of the window; given the night it starts, a daylight-saving change that night counts."""
        self.validate()
        if day is None:
            start, end = _clock("window.start", self.start), _clock("window.end", self.end)
            delta = (end.hour * 3600 + end.minute * 60 + end.second) - (start.hour * 3600 + start.minute * 60
                                                                        + start.second)
            return delta % SECONDS_PER_DAY
        start_at, end_at = self._bounds(day)
        # Aware datetimes in one zone subtract as wall clocks; UTC gives the real elapsed time.
        return int((end_at.astimezone(UTC) - start_at.astimezone(UTC)).total_seconds())

    def schedule(self, now: datetime) -> tuple[datetime, datetime, int]:
        """(when the night's window opens, when its plan starts, seconds planned): a run started late
        plans only what is left of an open window; otherwise the whole next window."""
        opens = self.occurrence(now)
        length = self.seconds(opens.date())
        if opens >= now:
            return opens, opens, length
        ends = opens.astimezone(UTC) + timedelta(seconds=length)
        return opens, now, int((ends - now.astimezone(UTC)).total_seconds())

    def occurrence(self, now: datetime) -> datetime:
        """Start of the window open at `now`, or of the next one when none is open."""
        self.validate()
        today = now.astimezone(self.zone()).date()
        for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
            start_at, end_at = self._bounds(day)
            if now < end_at:
                return start_at
        raise AssertionError("unreachable: one of three consecutive windows ends after now")


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


@dataclass(frozen=True)
class PlanSettings:
    window_s: int
    engine: str = "auto"
    read_percentage: float = 0.5
    max_objects: int = 100
    model: Model = field(default_factory=Model)
    account_rcu_in_use: int | None = None  # provisioned RCU of every table and GSI in the account, if known

    def validate(self) -> None:
        if self.engine not in ENGINES:
            raise InputError("engine", f"unknown engine {self.engine!r}", f"choose one of {', '.join(ENGINES)}")
        if not 0 < self.read_percentage <= 1:
            raise InputError("read_percentage", f"must be in (0, 1], got {self.read_percentage}",
                             "0.5 lets a backup use half of the table's read capacity")
        if self.max_objects < 5:
            raise InputError("max_objects", f"must be at least 5, got {self.max_objects}",
                             "Data Pipeline's default limit is 100; a pipeline needs 3 objects per table plus 2")
        if self.window_s <= 0:
            raise InputError("window", f"must be longer than 0 s, got {self.window_s}", "widen the window")
        self.model.validate()

    def tables_per_cluster(self, engine: str) -> int:
        if engine == "datapipeline":
            return (self.max_objects - 2) // 3  # each table takes 3 pipeline objects, plus 2 shared
        if engine == "emr":
            return self.model.emr_max_steps
        return 1 << 30  # local lanes and export batches have no count limit of their own


# Packing ----------------------------------------------------------------------------------------


def lower_bound(durations: list[int], capacity: int, per_cluster: int) -> int:
    if not durations:
        return 0
    return max(math.ceil(len(durations) / per_cluster), math.ceil(sum(durations) / capacity))


def next_fit_ascending(durations: list[int], capacity: int, per_cluster: int) -> list[list[int]]:
    """The seed's packing: tables by ascending duration, a new cluster whenever the next does not fit."""
    bins: list[list[int]] = []
    load = 0
    for index in sorted(range(len(durations)), key=lambda i: durations[i]):
        if not bins or len(bins[-1]) == per_cluster or load + durations[index] > capacity:
            bins.append([])
            load = 0
        bins[-1].append(index)
        load += durations[index]
    return bins


def first_fit_decreasing(durations: list[int], capacity: int, per_cluster: int) -> list[list[int]]:
    """Longest first, each into the first cluster with room; a max segment tree keeps it O(n log n)."""
    size = 1
    while size < max(1, len(durations)):
        size *= 2
    # Leaves hold each cluster's remaining seconds (-1 once it has its table count); unopened
    # clusters are full-capacity leaves to the right, so "leftmost that fits" also opens new ones.
    tree = [capacity] * (2 * size)
    bins: list[list[int]] = []
    loads: list[int] = []
    for index in sorted(range(len(durations)), key=lambda i: -durations[i]):
        need = durations[index]
        node = 1
        while node < size:
            node = 2 * node if tree[2 * node] >= need else 2 * node + 1
        slot = node - size
        if slot == len(bins):
            bins.append([])
            loads.append(0)
        bins[slot].append(index)
        loads[slot] += need
        tree[node] = capacity - loads[slot] if len(bins[slot]) < per_cluster else -1
        node //= 2
        while node:
            tree[node] = max(tree[2 * node], tree[2 * node + 1])
            node //= 2
    return bins


def balanced_fit(durations: list[int], capacity: int, per_cluster: int, clusters: int) -> list[list[int]] | None:
    """Longest first into the least-loaded of exactly `clusters` clusters; None when they cannot hold all."""
    heap = [(0, slot) for slot in range(clusters)]
    bins: list[list[int]] = [[] for _cluster in range(clusters)]
    for index in sorted(range(len(durations)), key=lambda i: -durations[i]):
        while heap and len(bins[heap[0][1]]) == per_cluster:
            heapq.heappop(heap)
        if not heap or heap[0][0] + durations[index] > capacity:
            return None  # the least-loaded cluster with room cannot take it, so none can
        load, slot = heapq.heappop(heap)
        bins[slot].append(index)
        heapq.heappush(heap, (load + durations[index], slot))
    return [b for b in bins if b]


@dataclass
class Packing:
    bins: list[list[int]]
    lower_bound: int
    next_fit_ascending: int
    method: str


def pack(durations: list[int], capacity: int, per_cluster: int) -> Packing:
    """First-fit decreasing, then an improvement pass that retries with fewer, balanced clusters."""
    if any(d > capacity for d in durations):
        raise ValueError("every duration must fit the cluster capacity before packing")
    bound = lower_bound(durations, capacity, per_cluster)
    seed = next_fit_ascending(durations, capacity, per_cluster)
    best, method = first_fit_decreasing(durations, capacity, per_cluster), "first-fit-decreasing"
    for clusters in range(bound, len(best)):
        balanced = balanced_fit(durations, capacity, per_cluster, clusters)
        if balanced is not None:
            best, method = balanced, "balanced-longest-first"
            break
    if len(seed) < len(best):
        best, method = seed, "next-fit-ascending"
    return Packing(best, bound, len(seed), method)


# Per-table options --------------------------------------------------------------------------------


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
class _Candidate:
    table: TableInfo
    size_bytes: int
    options: list[Option]
    reasons: list[str]


def _timing(engine: str, model: Model) -> tuple[int, int]:
    """(cluster bootstrap, per-table bootstrap) of a scanning engine."""
    if engine == "local":
        return 0, model.local_activity_s
    return model.cluster_bootstrap_s, model.activity_bootstrap_s


def on_demand_rate(table: TableInfo, settings: PlanSettings) -> tuple[float, str]:
    """Read units/s a backup may take from an on-demand table, and which figure it comes from."""
    if table.warm_read_units:
        # The warm throughput is what the table serves at once, without scaling up first.
        return settings.read_percentage * table.warm_read_units, "warm-throughput"
    return settings.model.on_demand_read_units, "default"


def _scan_options(table: TableInfo, size: int, engine: str, settings: PlanSettings, seed: bool,
                  ) -> tuple[list[Option], str | None]:
    model, prices = settings.model, settings.model.prices
    bootstrap, activity = _timing(engine, model)
    capacity = settings.window_s - bootstrap
    per_s = prices.cluster_usd_per_s if engine in CLUSTER_ENGINES else 0.0
    hold_s = settings.window_s  # cluster boosts are judged as if held all window: never cheaper than they turn out

    bytes_per_rcu_s = model.bytes_per_rcu_s
    room = capacity - activity
    if size and room <= 0:
        return [], f"a {settings.window_s} s window leaves no time after {engine}'s {bootstrap + activity} s start-up"
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
    source = "provisioned"

    def option(rate: float, boost_rcu: int | None, added: int, share: float | None, mandatory: bool = False) -> Option:
        duration = 0 if size == 0 else activity + math.ceil(size / (rate * bytes_per_rcu_s))
        # The local engine raises a boost just before its table and lowers it right after; clusters hold theirs.
        held = duration if engine == "local" else hold_s
        cost = per_busy_s * duration + reads + (prices.boost_cost(added, held) if added else 0.0)
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
    if not seed and per_s > 0:
        # Cluster time falls as 1/rate while boosted capacity costs in proportion to rate: the
        # cheapest rate for this table alone is where the two marginal costs meet.
        hours = max(1, math.ceil(hold_s / 3600))
        optimal = math.sqrt(per_busy_s * size / (bytes_per_rcu_s * prices.rcu_hour_usd * hours))
        if optimal > max(base, need):
            rates.append(optimal)
    for wanted in rates:
        # The backup reads only the added capacity, so the application keeps all of its own.
        added = min(math.ceil(wanted), limit - table.rcu, math.floor(min(pace, 2**62)))
        if added < need or added <= base:
            continue
        boost_rcu = table.rcu + added
        # Rounded down, so that a scan held to this share never eats into the application's part.
        options.append(option(float(added), boost_rcu, added, _round_down(added / boost_rcu), mandatory=base < need))
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


def _engines(table: TableInfo, size: int, settings: PlanSettings, seed: bool) -> list[str]:
    if settings.engine != "auto":
        return [settings.engine]
    if seed:
        return [settings.model.auto_cluster_engine]
    engines = [settings.model.auto_cluster_engine]
    if not settings.model.local_max_bytes or size <= settings.model.local_max_bytes:
        engines.insert(0, "local")
    if table.pitr:
        engines.append("export")
    return engines


def _options(table: TableInfo, size: int, engines: list[str], settings: PlanSettings, seed: bool,
             ) -> tuple[list[Option], list[str]]:
    options: list[Option] = []
    reasons: list[str] = []
    for engine in engines:
        found, reason = (_export_option(table, size, settings) if engine == "export"
                         else _scan_options(table, size, engine, settings, seed))
        options += found
        if reason:
            reasons.append(f"{engine}: {reason}" if len(engines) > 1 else reason)
    return options, reasons


def _choose(options: list[Option], headroom: int, settings: PlanSettings) -> Option | None:
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


# The plan ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class PlannedTable:
    table: TableInfo
    size_bytes: int
    option: Option
    start_offset_s: int = 0
    cost_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        t, o = self.table, self.option
        return {
            "name": t.name, "engine": o.engine, "size_bytes": self.size_bytes, "item_count": t.item_count,
            "billing_mode": t.billing_mode, "rcu": None if t.on_demand else t.rcu,
            "boost_rcu": o.boost_rcu, "boosted": o.added_rcu > 0, "read_percentage": o.read_percentage,
            "read_units_per_second": None if o.read_units_per_second is None else round(o.read_units_per_second, 2),
            "read_rate_source": o.read_rate_source,
            "start_offset_s": self.start_offset_s, "duration_s": o.duration_s, "pitr": t.pitr,
            "autoscaling": None if t.autoscaling_max_rcu is None else {
                "min_rcu": t.autoscaling_min_rcu, "max_rcu": t.autoscaling_max_rcu},
            "gsis": [{"name": name, "rcu": rcu} for name, rcu in t.gsis],
            "estimated_cost_usd": round(self.cost_usd, 4),
        }


@dataclass
class Cluster:
    id: str
    engine: str
    start_offset_s: int
    end_offset_s: int
    tables: list[PlannedTable]
    cost_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "engine": self.engine, "start_offset_s": self.start_offset_s,
                "end_offset_s": self.end_offset_s, "estimated_cost_usd": round(self.cost_usd, 4),
                "tables": [t.to_dict() for t in self.tables]}


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

    @property
    def estimated_cost_usd(self) -> float:
        return sum(self.cost.values())

    @property
    def cluster_count(self) -> int:
        return sum(1 for c in self.clusters if c.engine in CLUSTER_ENGINES)

    def planned(self) -> list[PlannedTable]:
        return [t for c in self.clusters for t in c.tables]

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for table in self.planned():
            counts[table.option.engine] = counts.get(table.option.engine, 0) + 1
        return {
            "window_s": self.window_s, "engine": self.engine, "engine_counts": dict(sorted(counts.items())),
            "table_count": len(self.planned()) + len(self.unplannable),
            "estimated_cost_usd": round(self.estimated_cost_usd, 4),
            "cost_breakdown_usd": {k: round(v, 4) for k, v in self.cost.items()},
            "makespan_s": max((c.end_offset_s for c in self.clusters), default=0),
            "packing": self.packing, "baseline": self.baseline, "controller": self.controller,
            "clusters": [c.to_dict() for c in self.clusters],
            "unplannable": self.unplannable, "warnings": self.warnings,
        }


def plan_backups(tables: list[TableInfo], settings: PlanSettings) -> Plan:
    """Plan every table: the cheaper of our plan and the seed's rule, which is reported beside it."""
    settings.validate()
    seen: set[str] = set()
    for table in tables:
        if table.name in seen:
            raise InputError("tables", f"table {table.name!r} is listed twice", "list each table once")
        seen.add(table.name)
    ours = _plan(tables, settings, seed=False)
    seed = _plan(tables, settings, seed=True)
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


def _plan(tables: list[TableInfo], settings: PlanSettings, seed: bool) -> Plan:
    model = settings.model
    engine = settings.model.auto_cluster_engine if seed and settings.engine == "auto" else settings.engine
    warnings: list[str] = []
    unplannable: list[dict[str, str]] = []
    candidates: list[_Candidate] = []
    estimated: list[str] = []
    for table in sorted(tables, key=lambda t: t.name):
        if table.status not in PLANNABLE_STATUSES:
            unplannable.append({"name": table.name, "reason": f"table status is {table.status}, not ACTIVE"})
            continue
        size, guessed = _effective_size(table, model)
        if guessed:
            estimated.append(table.name)
        options, reasons = _options(table, size, _engines(table, size, settings, seed), settings, seed)
        candidates.append(_Candidate(table, size, options, reasons))
    if estimated:
        shown = ", ".join(estimated[:10]) + (f" and {len(estimated) - 10} more" if len(estimated) > 10 else "")
        warnings.append(f"size estimated from item count x {model.default_item_bytes} bytes (DynamoDB has not yet "
                        f"reported TableSizeBytes): {shown}")

    in_use = settings.account_rcu_in_use
    if in_use is None:
        in_use = sum(t.rcu + sum(rcu for _index, rcu in t.gsis) for t in tables if not t.on_demand)
    headroom = max(0, model.account_max_rcu - in_use)
    # Tables that cannot fit without a boost take the account's headroom first, smallest need first.
    candidates.sort(key=lambda c: (any(o.added_rcu == 0 for o in c.options),
                                   min((o.added_rcu for o in c.options), default=0), c.table.name))
    chosen: list[tuple[_Candidate, Option]] = []
    for candidate in candidates:
        pick = _choose(candidate.options, headroom, settings)
        if pick is None:
            reasons = list(candidate.reasons)
            if candidate.options:
                reasons.append(f"needs {min(o.added_rcu for o in candidate.options)} more RCU, account headroom "
                               f"is {headroom} RCU (account limit {model.account_max_rcu}, in use {in_use})")
            unplannable.append({"name": candidate.table.name, "reason": "; ".join(reasons)})
            continue
        headroom -= pick.added_rcu
        chosen.append((candidate, pick))
    if settings.account_rcu_in_use is None and any(o.added_rcu for _candidate, o in chosen):
        warnings.append("account read capacity in use is unknown: boost headroom counts only the planned tables")

    by_engine: dict[str, list[PlannedTable]] = {}
    for candidate, option in chosen:
        by_engine.setdefault(option.engine, []).append(PlannedTable(candidate.table, candidate.size_bytes, option))
    options_of = {c.table.name: c.options for c in candidates}
    fix = " and no other engine can run it" if settings.engine == "auto" else "; widen the window or use engine auto"

    def move(left_out: list[PlannedTable], engines: tuple[str, ...], why: str) -> None:
        """Give tables that did not fit where they were first put their cheapest option on `engines`."""
        nonlocal headroom
        for planned in left_out:
            headroom += planned.option.added_rcu
            pick = _choose([o for o in options_of[planned.table.name] if o.engine in engines], headroom, settings)
            if pick is None:
                unplannable.append({"name": planned.table.name, "reason": f"{why}{fix}"})
                continue
            headroom -= pick.added_rcu
            by_engine.setdefault(pick.engine, []).append(PlannedTable(planned.table, planned.size_bytes, pick))

    lanes: list[list[PlannedTable]] = []
    if "local" in by_engine:
        lanes, overflow = _fit_controller(by_engine.pop("local"), settings)
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
            clusters += _pack_engine(name, by_engine[name], settings, seed, packing)
    if lanes:
        durations = [p.option.duration_s for lane in lanes for p in lane]
        packing["local"] = {"clusters": len(lanes), "lower_bound": lower_bound(durations, settings.window_s, 1 << 30),
                            "next_fit_ascending": len(next_fit_ascending(durations, settings.window_s, 1 << 30)),
                            "method": f"controller: shortest first, at most {model.controller_max_scans} scans and "
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
    load = load_of((p.start_offset_s, p.option.duration_s, _bytes_per_s(p.option, model)) for lane in lanes
                   for p in lane)
    controller = {"max_scans": model.controller_max_scans, "bytes_per_s": model.controller_bytes_per_s,
                  "peak_scans": load.peak_scans, "peak_bytes_per_s": round(load.peak_bytes_per_s, 1),
                  "bytes_per_read_unit": model.bytes_per_rcu_s}
    return Plan(settings.window_s, engine, clusters, unplannable, warnings, packing, cost, controller=controller)


def _bytes_per_s(option: Option, model: Model) -> float:
    return (option.read_units_per_second or 0.0) * model.bytes_per_rcu_s


def _fit_controller(planned: list[PlannedTable], settings: PlanSettings,
                    ) -> tuple[list[list[PlannedTable]], list[PlannedTable]]:
    """Keep in-process the tables that fit the controller's scans and bytes/s in the window, shortest
    first so that most tables stay; each lane's tables run one after another. Returns lanes and the rest."""
    model = settings.model
    ordered = sorted(planned, key=lambda p: (p.option.duration_s, p.table.name))
    placements = fit_lanes([(p.option.duration_s, _bytes_per_s(p.option, model)) for p in ordered],
                           settings.window_s, model.controller_max_scans, model.controller_bytes_per_s)
    lanes: dict[int, list[PlannedTable]] = {}
    overflow: list[PlannedTable] = []
    for table, placement in zip(ordered, placements, strict=True):
        if placement is None:
            overflow.append(table)
            continue
        table.start_offset_s = placement.start_s
        lanes.setdefault(placement.lane, []).append(table)
    return [lanes[lane] for lane in sorted(lanes)], overflow


def _pack_engine(engine: str, planned: list[PlannedTable], settings: PlanSettings, seed: bool,
                 packing: dict[str, dict[str, Any]]) -> list[Cluster]:
    bootstrap, _per_table = _timing(engine, settings.model)
    capacity = settings.window_s - bootstrap
    per_cluster = settings.tables_per_cluster(engine)
    durations = [p.option.duration_s for p in planned]
    if seed:
        bins = next_fit_ascending(durations, capacity, per_cluster)
        result = Packing(bins, lower_bound(durations, capacity, per_cluster), len(bins), "next-fit-ascending")
    else:
        result = pack(durations, capacity, per_cluster)
        bins = result.bins
    packing[engine] = {"clusters": len(bins), "lower_bound": result.lower_bound,
                       "next_fit_ascending": result.next_fit_ascending,
                       "method": result.method,
                       "capacity_s": capacity, "tables_per_cluster": min(per_cluster, len(planned))}
    return [_cluster(engine, [planned[i] for i in members], bootstrap) for members in bins]


def _cluster(engine: str, members: list[PlannedTable], bootstrap: int) -> Cluster:
    # Shortest first: if the window is cut short, the most tables are already done.
    ordered = sorted(members, key=lambda p: (p.option.duration_s, p.table.name))
    offset = bootstrap
    for table in ordered:
        table.start_offset_s = offset
        offset += table.option.duration_s
    return Cluster("", engine, 0, offset, ordered)


def _export_batches(planned: list[PlannedTable], settings: PlanSettings) -> list[Cluster]:
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
    prices, model = settings.model.prices, settings.model
    # Boosted capacity is raised before the run and put back when it finishes.
    held_s = max((c.end_offset_s for c in clusters), default=0)
    totals = {"clusters": 0.0, "boosts": 0.0, "on_demand_reads": 0.0, "exports": 0.0}
    for cluster in clusters:
        scanning_cluster = cluster.engine in CLUSTER_ENGINES
        cluster.cost_usd = prices.cluster_cost(cluster.end_offset_s - cluster.start_offset_s) if scanning_cluster \
            else 0.0
        totals["clusters"] += cluster.cost_usd
        for planned in cluster.tables:
            option = planned.option
            boost = prices.boost_cost(option.added_rcu, held_s)
            reads = (prices.on_demand_read_cost(planned.size_bytes, model.bytes_per_rcu_s)
                     if planned.table.on_demand and option.engine != "export" else 0.0)
            export = prices.export_cost(planned.size_bytes) if option.engine == "export" else 0.0
            compute = prices.cluster_cost(option.duration_s) if scanning_cluster else 0.0
            planned.cost_usd = boost + reads + export + compute
            totals["boosts"] += boost
            totals["on_demand_reads"] += reads
            totals["exports"] += export
    return totals
