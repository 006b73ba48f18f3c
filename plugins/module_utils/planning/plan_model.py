"""The planner's model: engines, billing modes, the named constants of the duration, packing and cost
model (`Model`, every one overridable), and a plan's settings (`PlanSettings`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.prices import Prices
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.read_units import bytes_per_read_unit

ENGINES = ("auto", "datapipeline", "emr", "export", "local")
CLUSTER_ENGINES = ("datapipeline", "emr")
PLANNABLE_STATUSES = ("ACTIVE", "UPDATING")  # UPDATING tables still serve reads
SHARE_DIGITS = 4  # decimals of a boosted read_percentage
# Size estimate per item while DynamoDB's TableSizeBytes and ItemCount still read 0 (up to six hours
# after a table's creation); a typical item is well under DynamoDB's 4 KB read unit.
DEFAULT_ITEM_BYTES = 1024


@dataclass(frozen=True)
class Model:
    """Named constants of the duration, packing and cost model. Every one can be overridden."""

    cluster_bootstrap_s: int = 600  # EMR cluster start before the first table
    activity_bootstrap_s: int = 60  # per table, before its first read
    bytes_per_rcu_s: float = 0.0  # bytes one read unit moves per second; 0: from the read consistency
    emr_max_steps: int = 256  # EMR's limit of pending and running steps per cluster
    auto_cluster_engine: str = "datapipeline"  # what engine auto uses when a cluster is cheapest
    on_demand_read_units: float = 100.0  # on-demand read rate when DescribeTable reports no warm throughput
    local_max_bytes: int = 0  # largest table engine auto runs in-process; 0: any that fits the controller
    # What one controller sustains (docs/planning.md says how the bytes/s figure was measured):
    # rate-limited scans mostly wait on I/O, so many run side by side within one aggregate read rate.
    controller_max_scans: int = 64
    controller_bytes_per_s: float = 20 * 1024**2
    local_activity_s: float = 0.2  # per table start-up of an in-process backup, besides its requests and CPU
    # Controller CPU one in-process backup takes besides its bytes (its requests' encoding, its folder and
    # manifest). The lanes share one interpreter, so this is served one table at a time: a table's time in
    # its lane counts it once per busy lane (`local_cpu_s`). `make bench-fleet` measures yours.
    local_table_cpu_s: float = 0.03
    # Each request of a local backup waits one round trip: measured by the plan module unless set here.
    request_latency_s: float = 0.01  # a controller in the tables' region
    requests_per_table: int = 9  # besides its Scan pages: describe, settings, tags, folder claim, manifest
    export_bootstrap_s: int = 900  # a native export takes at least this long, whatever the size
    export_bytes_per_s: float = 50 * 1024**2  # observed native export throughput, for the schedule only
    export_max_concurrent: int = 300  # AWS limit of concurrent exports per account
    table_max_rcu: int = 40000  # default per-table limit when DescribeLimits is not known
    # The account's limit from DescribeLimits; 0: unknown, and boosts are then planned without an account cap.
    account_max_rcu: int = 0
    default_item_bytes: int = DEFAULT_ITEM_BYTES
    boost_min_saving_usd: float = 0.01  # an optional boost must save this much: decreases are rationed
    prices: Prices = field(default_factory=Prices)

    def validate(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, int | float) and value < 0:
                raise InputError(f"model.{spec.name}", f"must not be negative, got {value}", "give a value >= 0")
        for name in ("on_demand_read_units", "export_bytes_per_s", "emr_max_steps",
                     "controller_max_scans", "controller_bytes_per_s", "export_max_concurrent", "table_max_rcu",
                     "default_item_bytes"):
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


@dataclass(frozen=True)
class PlanSettings:
    window_s: int
    engine: str = "auto"
    read_percentage: float = 0.5
    max_objects: int = 100
    model: Model = field(default_factory=Model)
    account_rcu_in_use: int | None = None  # provisioned RCU of every table and GSI in the account, if known
    consistent_read: bool = False  # the local scan's read consistency
    fleet_tables: int = 0  # tables the night plans; 0: unknown, counted as a full controller (local_cpu_s)

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

    def bytes_per_read_unit(self, engine: str) -> float:
        """Bytes one read unit moves per second on `engine`'s scans: model.bytes_per_rcu_s when set, else
        from the read consistency (the local scan's setting; the cluster engines read eventually consistent)."""
        if self.model.bytes_per_rcu_s:
            return self.model.bytes_per_rcu_s
        return float(bytes_per_read_unit(self.consistent_read and engine == "local"))

    def local_startup_s(self) -> float:
        """What a local table takes besides its requests and its bytes: its start-up and its CPU in its lane."""
        return self.model.local_activity_s + self.local_cpu_s()

    def local_cpu_s(self) -> float:
        """A local table's CPU as its lane sees it: every busy lane's table takes its turn on the one interpreter,
        so N lanes side by side stretch each table's CPU N times (and the night's is the sum over its tables)."""
        lanes = min(self.model.controller_max_scans, self.fleet_tables or self.model.controller_max_scans)
        return self.model.local_table_cpu_s * lanes

    def tables_per_cluster(self, engine: str) -> int:
        if engine == "datapipeline":
            return (self.max_objects - 2) // 3  # each table takes 3 pipeline objects, plus 2 shared
        if engine == "emr":
            return self.model.emr_max_steps
        return 1 << 30  # local lanes and export batches have no count limit of their own
