# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The plan document: what dynamodb_backup_plan writes (its result and the plan file) and every reader reads.

One typed, versioned shape (docs/planning.md, "The plan file"; its JSON Schema is docs/plan.schema.json). The
planner builds a `PlanDocument`; `to_json()` writes it, `PlanDocument.from_json` reads it back, the engines read
one cluster through `PlannedCluster.from_json`. A document without `version` is read as version 1; a later
version is refused, since its keys may mean something this release does not know.

Reading is lenient about absent keys (each takes the default below, as a hand-written plan or an older file
leaves them out) and strict about present ones: a key of the wrong type is refused, naming its path in the plan
and the fix. `to_json()` writes every key. No Ansible here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_instant

PLAN_VERSION = 1
ENGINES = ("local", "export", "emr", "datapipeline")
CLUSTER_BOOST_ENGINES = ("emr", "datapipeline")  # exports read no capacity; the local engine boosts per table
_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_CLUSTER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_UNCHANGED = "pass the result of dynamodb_backup_plan unchanged"

# kept as the planner wrote it, so that a plan read and written again is the same text (a union of types, valid on
# Python 3.10 and later, which pylint of ansible-test reads as an operation)
Number = int | float  # pylint: disable=unsupported-binary-operation
T = TypeVar("T")


# Reading one key: absent -> the default, present -> checked --------------------------------------------------

def _dict(raw: Any, where: str, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(where, f"is not {what} (a dict)", _UNCHANGED)
    return raw


def _number(raw: dict[str, Any], key: str, where: str, default: Number = 0) -> Number:
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}.{key}", f"must be a number, got {value!r}", _UNCHANGED)
    number: Number = value
    return number


def _optional_number(raw: dict[str, Any], key: str, where: str) -> Number | None:
    return None if raw.get(key) is None else _number(raw, key, where)


def _integer(raw: dict[str, Any], key: str, where: str, default: int = 0) -> int:
    value = _number(raw, key, where, default)
    if not isinstance(value, int):
        raise InputError(f"{where}.{key}", f"must be a whole number, got {value!r}", _UNCHANGED)
    return value


def _optional_integer(raw: dict[str, Any], key: str, where: str) -> int | None:
    return None if raw.get(key) is None else _integer(raw, key, where)


def _text(raw: dict[str, Any], key: str, where: str, default: str = "") -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        raise InputError(f"{where}.{key}", f"must be a string, got {value!r}", _UNCHANGED)
    return value


def _optional_text(raw: dict[str, Any], key: str, where: str) -> str | None:
    return None if raw.get(key) is None else _text(raw, key, where)


def _flag(raw: dict[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise InputError(f"{where}.{key}", f"must be true or false, got {value!r}", _UNCHANGED)
    return value


def _moment(raw: dict[str, Any], key: str, where: str) -> datetime | None:
    value = raw.get(key)
    return None if value is None else parse_instant(value, f"{where}.{key}")


def _items(raw: dict[str, Any], key: str, where: str, read: Callable[[Any, str], T]) -> tuple[T, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise InputError(f"{where}.{key}", f"must be a list, got {type(value).__name__}", _UNCHANGED)
    return tuple(read(one, f"{where}.{key}[{n}]") for n, one in enumerate(value))


def _numbers(raw: dict[str, Any], key: str, where: str) -> dict[str, Number]:
    value = _dict(raw.get(key, {}), f"{where}.{key}", "a map of names to numbers")
    return {name: _number(value, name, f"{where}.{key}") for name in value}


def _counts(raw: dict[str, Any], key: str, where: str) -> dict[str, int]:
    value = _dict(raw.get(key, {}), f"{where}.{key}", "a map of names to counts")
    return {name: _integer(value, name, f"{where}.{key}") for name in value}


# The tables and clusters ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AutoscalingRange:
    """The table's read autoscaling range when the plan was made (recorded, never changed by the plan)."""

    min_rcu: int | None
    max_rcu: int

    @classmethod
    def from_json(cls, raw: Any, where: str) -> AutoscalingRange:
        raw = _dict(raw, where, "an autoscaling range")
        if raw.get("max_rcu") is None:
            raise InputError(f"{where}.max_rcu", "is missing", _UNCHANGED)
        return cls(_optional_integer(raw, "min_rcu", where), _integer(raw, "max_rcu", where))

    def to_json(self) -> dict[str, Any]:
        return {"min_rcu": self.min_rcu, "max_rcu": self.max_rcu}


@dataclass(frozen=True)
class GsiCapacity:
    """A global secondary index and its provisioned read capacity (recorded, never boosted)."""

    name: str
    rcu: int

    @classmethod
    def from_json(cls, raw: Any, where: str) -> GsiCapacity:
        raw = _dict(raw, where, "an index")
        return cls(_text(raw, "name", where), _integer(raw, "rcu", where))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "rcu": self.rcu}


@dataclass(frozen=True)
class TableFacts:
    """What the plan read about a table besides its description, handed to the local engine so the backup does not
    ask again: its tags, its TTL (DescribeTimeToLive's description; None: the endpoint does not offer the call),
    its point-in-time recovery status (None: not offered), its scalable targets and scaling policies (as
    table_settings.autoscaling_of records them; None: not listed, the backup reads them), and `shape`
    (table_description.shape_of) of the description they were read with. A backup whose own description has another
    shape reads them again."""

    shape: str
    tags: tuple[tuple[str, str], ...] = ()
    time_to_live: tuple[tuple[str, str], ...] | None = None
    point_in_time_recovery: str | None = None
    autoscaling: dict[str, Any] | None = field(default=None, hash=False)

    @classmethod
    def from_json(cls, raw: Any, where: str) -> TableFacts:
        raw = _dict(raw, where, "the facts read about a table")
        shape = _text(raw, "shape", where)
        if not shape:
            raise InputError(f"{where}.shape", "is missing", _UNCHANGED)
        tags = raw.get("tags", [])
        if not isinstance(tags, list) or not all(
                isinstance(t, dict) and isinstance(t.get("Key"), str) and isinstance(t.get("Value"), str)
                for t in tags):
            raise InputError(f"{where}.tags", "must be a list of {Key, Value} strings", _UNCHANGED)
        ttl = raw.get("time_to_live")
        if ttl is not None and (not isinstance(ttl, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in ttl.items())):
            raise InputError(f"{where}.time_to_live", "must be DescribeTimeToLive's description or null", _UNCHANGED)
        scaling = raw.get("autoscaling")
        if scaling is not None and (not isinstance(scaling, dict) or set(scaling) != {"ScalableTargets",
                                                                                      "ScalingPolicies"} or not all(
                isinstance(entries, list) and all(isinstance(e, dict) and isinstance(e.get("ResourceId"), str)
                                                  for e in entries) for entries in scaling.values())):
            raise InputError(f"{where}.autoscaling", "must hold ScalableTargets and ScalingPolicies, each a list of "
                             "entries with a ResourceId, or be null", _UNCHANGED)
        return cls(shape=shape, tags=tuple((t["Key"], t["Value"]) for t in tags),
                   time_to_live=None if ttl is None else tuple(sorted(ttl.items())),
                   point_in_time_recovery=_optional_text(raw, "point_in_time_recovery", where), autoscaling=scaling)

    def to_json(self) -> dict[str, Any]:
        return {"shape": self.shape, "tags": self.tag_list(),
                "time_to_live": None if self.time_to_live is None else dict(self.time_to_live),
                "point_in_time_recovery": self.point_in_time_recovery, "autoscaling": self.autoscaling}

    def tag_list(self) -> list[dict[str, str]]:
        return [{"Key": key, "Value": value} for key, value in self.tags]


@dataclass(frozen=True)
class PlannedTable:
    """One table of a planned cluster, as the planner wrote it."""

    name: str
    engine: str = ""
    size_bytes: int = 0
    item_count: int = 0
    billing_mode: str = ""
    rcu: int | None = None  # None: on-demand
    boost_rcu: int | None = None  # read capacity during the backup (on-demand: None)
    boosted: bool = False  # boost_rcu is above the table's own capacity: raised just before the backup
    read_percentage: float | None = None  # None: on-demand, the engine's default share applies
    read_units_per_second: float | None = None  # the planned read rate
    read_rate_source: str | None = None
    start_offset_s: float = 0
    duration_s: float = 0
    pitr: bool = False
    autoscaling: AutoscalingRange | None = None
    gsis: tuple[GsiCapacity, ...] = ()
    estimated_cost_usd: float = 0.0
    facts: TableFacts | None = None  # None: not read by the plan (inline tables, an older plan, a call refused)
    # Known at run time only, never written: the boost was asked for and refused, read at the capped share.
    boost_refused: bool = field(default=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any, where: str) -> PlannedTable:
        if not isinstance(raw, dict):
            raise InputError(where, "is not a planned table (a dict)", "pass the result of dynamodb_backup_plan")
        name = raw.get("name")
        if not isinstance(name, str) or not _TABLE.match(name):
            raise InputError(f"{where}.name", f"{name!r} is not a DynamoDB table name", _UNCHANGED)
        ratio = raw.get("read_percentage")
        if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1):
            raise InputError(f"{where}.read_percentage", f"must be in (0, 1], got {ratio!r} for table {name}",
                             "re-plan; 0.5 lets a backup use half of the table's read capacity")
        autoscaling = raw.get("autoscaling")
        return cls(name=name, engine=_text(raw, "engine", where), size_bytes=_integer(raw, "size_bytes", where),
                   item_count=_integer(raw, "item_count", where), billing_mode=_text(raw, "billing_mode", where),
                   rcu=_optional_integer(raw, "rcu", where), boost_rcu=_optional_integer(raw, "boost_rcu", where),
                   boosted=_flag(raw, "boosted", where), read_percentage=ratio,
                   read_units_per_second=_optional_number(raw, "read_units_per_second", where),
                   read_rate_source=_optional_text(raw, "read_rate_source", where),
                   start_offset_s=_number(raw, "start_offset_s", where),
                   duration_s=_number(raw, "duration_s", where), pitr=_flag(raw, "pitr", where),
                   autoscaling=(None if autoscaling is None else
                                AutoscalingRange.from_json(autoscaling, f"{where}.autoscaling")),
                   gsis=_items(raw, "gsis", where, GsiCapacity.from_json),
                   estimated_cost_usd=_number(raw, "estimated_cost_usd", where),
                   facts=None if raw.get("facts") is None else TableFacts.from_json(raw["facts"], f"{where}.facts"))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "engine": self.engine, "size_bytes": self.size_bytes,
                "item_count": self.item_count, "billing_mode": self.billing_mode, "rcu": self.rcu,
                "boost_rcu": self.boost_rcu, "boosted": self.boosted, "read_percentage": self.read_percentage,
                "read_units_per_second": self.read_units_per_second, "read_rate_source": self.read_rate_source,
                "start_offset_s": self.start_offset_s, "duration_s": self.duration_s, "pitr": self.pitr,
                "autoscaling": None if self.autoscaling is None else self.autoscaling.to_json(),
                "gsis": [g.to_json() for g in self.gsis], "estimated_cost_usd": self.estimated_cost_usd,
                "facts": None if self.facts is None else self.facts.to_json()}

    @property
    def boost_target(self) -> int | None:
        """The read capacity to raise the table to just before its backup; None: no boost."""
        return self.boost_rcu if self.boosted and self.boost_rcu else None

    def share(self, default: float) -> float:
        """The share of its read capacity this table's backup may take (see `read_share`)."""
        return read_share(self.read_percentage, default, self.boost_refused)


def read_share(planned: float | None, default: float, boost_refused: bool = False) -> float:
    """A table's read share: the plan's, or `default` (the host's share) for a table the plan gives none.

    The plan raises a boosted table's share against its boosted capacity; when that boost was refused,
    the table is read on its own capacity, so the host's share is the most it may take."""
    share = default if planned is None else planned
    return min(share, default) if boost_refused else share


@dataclass(frozen=True)
class PlannedCluster:
    """One element of a plan's `clusters`: an engine, a span of the window, tables in planned order."""

    id: str
    engine: str
    tables: tuple[PlannedTable, ...]
    start_offset_s: float = 0
    end_offset_s: float = 0
    estimated_cost_usd: float = 0.0

    @classmethod
    def from_json(cls, raw: Any, where: str = "cluster", engines: tuple[str, ...] = ENGINES,
                  default_engine: str = "") -> PlannedCluster:
        """A cluster of the plan, refused unless its engine is one of `engines` (the engine reading it)."""
        if isinstance(raw, PlannedCluster):
            return raw
        if not isinstance(raw, dict):
            raise InputError(where, "must be one planned cluster (a dict of dynamodb_backup_plan's clusters)",
                             "pass plan.clusters[N] unchanged")
        cid = raw.get("id")
        if not isinstance(cid, str) or not _CLUSTER_ID.match(cid):
            raise InputError(f"{where}.id", f"{cid!r} is not a cluster id",
                             "pass a cluster of dynamodb_backup_plan's result unchanged")
        engine = raw.get("engine") or default_engine
        if engine not in engines:
            raise InputError(f"{where}.engine", f"cluster {cid} is planned for the {engine} engine, not for "
                             f"{' or '.join(engines)}", "run it with its own engine")
        tables = raw.get("tables")
        if not isinstance(tables, list):
            raise InputError(f"{where}.tables", f"cluster {cid} has no tables list",
                             "pass a cluster of dynamodb_backup_plan's result unchanged")
        parsed = tuple(PlannedTable.from_json(t, f"{where}.tables[{n}]") for n, t in enumerate(tables))
        names = [t.name for t in parsed]
        for n, name in enumerate(names):
            if name in names[:n]:
                raise InputError(f"{where}.tables[{n}].name", f"table {name} appears twice in cluster {cid}",
                                 "plan each table once")
        return cls(id=cid, engine=engine, tables=parsed, start_offset_s=_number(raw, "start_offset_s", where),
                   end_offset_s=_number(raw, "end_offset_s", where),
                   estimated_cost_usd=_number(raw, "estimated_cost_usd", where))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "engine": self.engine, "start_offset_s": self.start_offset_s,
                "end_offset_s": self.end_offset_s, "estimated_cost_usd": self.estimated_cost_usd,
                "tables": [t.to_json() for t in self.tables]}

    def require_tables(self, field: str = "cluster") -> PlannedCluster:
        if not self.tables:
            raise InputError(f"{field}.tables", f"cluster {self.id} has no tables",
                             "pass a cluster with at least one table")
        return self

    def with_refused_boosts(self, names: list[str] | None) -> PlannedCluster:
        """The cluster with the named tables' boosts marked refused (their share is then capped)."""
        refused = set(names or ())
        return replace(self, tables=tuple(replace(t, boost_refused=t.name in refused) for t in self.tables))


# The rest of the plan ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ControllerModel:
    """The controller model the local lanes were planned against, and the planned local load's peaks."""

    max_scans: int = 0
    bytes_per_s: float = 0
    peak_scans: int = 0
    peak_bytes_per_s: float = 0
    bytes_per_read_unit: float = 0
    consistent_read: bool = False
    request_latency_s: float | None = None  # what a local table costs besides its bytes (None: an older plan)
    requests_per_table: int | None = None
    local_activity_s: float | None = None
    local_table_cpu_s: float | None = None  # a local table's controller CPU, and as its lane sees it (None: older)
    local_cpu_s: float | None = None

    @classmethod
    def from_json(cls, raw: Any, where: str) -> ControllerModel:
        raw = _dict(raw, where, "the controller model")
        return cls(max_scans=_integer(raw, "max_scans", where), bytes_per_s=_number(raw, "bytes_per_s", where),
                   peak_scans=_integer(raw, "peak_scans", where),
                   peak_bytes_per_s=_number(raw, "peak_bytes_per_s", where),
                   bytes_per_read_unit=_number(raw, "bytes_per_read_unit", where),
                   consistent_read=_flag(raw, "consistent_read", where),
                   request_latency_s=_optional_number(raw, "request_latency_s", where),
                   requests_per_table=_optional_integer(raw, "requests_per_table", where),
                   local_activity_s=_optional_number(raw, "local_activity_s", where),
                   local_table_cpu_s=_optional_number(raw, "local_table_cpu_s", where),
                   local_cpu_s=_optional_number(raw, "local_cpu_s", where))

    def to_json(self) -> dict[str, Any]:
        return {"max_scans": self.max_scans, "bytes_per_s": self.bytes_per_s, "peak_scans": self.peak_scans,
                "peak_bytes_per_s": self.peak_bytes_per_s, "bytes_per_read_unit": self.bytes_per_read_unit,
                "consistent_read": self.consistent_read, "request_latency_s": self.request_latency_s,
                "requests_per_table": self.requests_per_table, "local_activity_s": self.local_activity_s,
                "local_table_cpu_s": self.local_table_cpu_s, "local_cpu_s": self.local_cpu_s}


@dataclass(frozen=True)
class Packing:
    """How one engine's tables were packed: clusters used, the lower bound, the seed's count, the method."""

    clusters: int
    lower_bound: int
    next_fit_ascending: int
    method: str
    capacity_s: float
    tables_per_cluster: int

    @classmethod
    def from_json(cls, raw: Any, where: str) -> Packing:
        raw = _dict(raw, where, "an engine's packing")
        return cls(_integer(raw, "clusters", where), _integer(raw, "lower_bound", where),
                   _integer(raw, "next_fit_ascending", where), _text(raw, "method", where),
                   _number(raw, "capacity_s", where), _integer(raw, "tables_per_cluster", where))

    def to_json(self) -> dict[str, Any]:
        return {"clusters": self.clusters, "lower_bound": self.lower_bound,
                "next_fit_ascending": self.next_fit_ascending, "method": self.method,
                "capacity_s": self.capacity_s, "tables_per_cluster": self.tables_per_cluster}


@dataclass(frozen=True)
class Baseline:
    """The seed rule's plan of the same tables, for comparison."""

    rule: str
    clusters: int
    estimated_cost_usd: float
    unplannable: int

    @classmethod
    def from_json(cls, raw: Any, where: str) -> Baseline:
        raw = _dict(raw, where, "the baseline")
        return cls(_text(raw, "rule", where), _integer(raw, "clusters", where),
                   _number(raw, "estimated_cost_usd", where), _integer(raw, "unplannable", where))

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "clusters": self.clusters, "estimated_cost_usd": self.estimated_cost_usd,
                "unplannable": self.unplannable}


@dataclass(frozen=True)
class Unplannable:
    """A table the plan leaves out, and why (its name may be one DynamoDB itself would refuse)."""

    name: str
    reason: str

    @classmethod
    def from_json(cls, raw: Any, where: str) -> Unplannable:
        raw = _dict(raw, where, "an unplannable table")
        return cls(_text(raw, "name", where), _text(raw, "reason", where))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "reason": self.reason}


@dataclass(frozen=True)
class Night:
    """The night a run belongs to: every run inside one window (or before it opens) is the same night."""

    id: str
    at: str = ""  # the window's opening, ISO 8601 UTC
    stamp: str = ""  # the same moment as a backup folder names it

    @classmethod
    def opening_at(cls, opens: datetime) -> Night:
        return cls(id=opens.strftime("%Y%m%dT%H%M%SZ"), at=opens.isoformat(), stamp=opens.strftime("%Y-%m-%d-%H-%M-%S"))

    @classmethod
    def from_json(cls, raw: Any, where: str) -> Night:
        raw = _dict(raw, where, "the night")
        night = _text(raw, "id", where)
        if not night:
            raise InputError(f"{where}.id", "is missing", _UNCHANGED)
        return cls(id=night, at=_text(raw, "at", where), stamp=_text(raw, "stamp", where))

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "id": self.id, "stamp": self.stamp}


@dataclass(frozen=True)
class WindowTimes:
    """The window as asked (start, end, timezone) and as scheduled: when it opens, when the plan starts (later
    for a run started late), and whether the run was planned from a start outside it."""

    starts_at: datetime
    opens_at: datetime | None = None
    start: str = ""
    end: str = ""
    timezone: str = ""
    outside: bool = False

    @classmethod
    def from_json(cls, raw: Any, where: str) -> WindowTimes:
        raw = _dict(raw, where, "the window")
        starts_at = _moment(raw, "starts_at", where)
        if starts_at is None:
            raise InputError(f"{where}.starts_at", "is missing", _UNCHANGED)
        return cls(starts_at=starts_at, opens_at=_moment(raw, "opens_at", where), start=_text(raw, "start", where),
                   end=_text(raw, "end", where), timezone=_text(raw, "timezone", where),
                   outside=_flag(raw, "outside", where))

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "timezone": self.timezone,
                "opens_at": None if self.opens_at is None else self.opens_at.isoformat(),
                "starts_at": self.starts_at.isoformat(), "outside": self.outside}

    @property
    def opens(self) -> datetime:
        """When the window opened: offsets and a rerun's `since` count from here."""
        return self.opens_at or self.starts_at


def _version(raw: dict[str, Any], where: str) -> int:
    version = raw.get("version", 1)  # the plan files written before the key was added are version 1
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"{where}.version", f"must be a whole number from 1, got {version!r}", _UNCHANGED)
    known: int = version
    if version > PLAN_VERSION:
        raise InputError(f"{where}.version", f"is {version}; this release of hippolyte.dynamodb reads plan version "
                         f"{PLAN_VERSION} or older", "upgrade the collection to the release that wrote the plan, "
                         "or plan again with this one")
    return known


@dataclass(frozen=True)
class PlanDocument:
    """The whole plan: figures, the controller model, the clusters, what could not be planned, and (once the
    plan module has scheduled it) the night, the window and its deadline."""

    window_s: int
    engine: str
    clusters: tuple[PlannedCluster, ...]
    version: int = PLAN_VERSION
    engine_counts: Mapping[str, int] = field(default_factory=dict)
    table_count: int = 0
    estimated_cost_usd: float = 0.0
    cost_breakdown_usd: Mapping[str, float] = field(default_factory=dict)
    prices: Mapping[str, float] = field(default_factory=dict)  # what the estimate was priced at (the bill's too)
    makespan_s: float = 0
    packing: Mapping[str, Packing] = field(default_factory=dict)
    baseline: Baseline | None = None
    controller: ControllerModel | None = None
    unplannable: tuple[Unplannable, ...] = ()
    warnings: tuple[str, ...] = ()
    night: Night | None = None
    window: WindowTimes | None = None
    deadline: datetime | None = None

    @classmethod
    def from_json(cls, raw: Any, where: str = "plan") -> PlanDocument:
        if not isinstance(raw, dict):
            raise InputError(where, "is not a plan (a dict)", "pass the result of dynamodb_backup_plan")
        version = _version(raw, where)
        if not isinstance(raw.get("clusters"), list):
            raise InputError(where, "has no clusters list", "pass the result of dynamodb_backup_plan")
        packing = _dict(raw.get("packing", {}), f"{where}.packing", "a map of engines to their packing")
        controller, baseline = raw.get("controller"), raw.get("baseline")
        night, window = raw.get("night"), raw.get("window")
        return cls(window_s=_integer(raw, "window_s", where), engine=_text(raw, "engine", where),
                   clusters=_items(raw, "clusters", where, PlannedCluster.from_json), version=version,
                   engine_counts=_counts(raw, "engine_counts", where),
                   table_count=_integer(raw, "table_count", where),
                   estimated_cost_usd=_number(raw, "estimated_cost_usd", where),
                   cost_breakdown_usd=_numbers(raw, "cost_breakdown_usd", where),
                   prices=_numbers(raw, "prices", where),
                   makespan_s=_number(raw, "makespan_s", where),
                   packing={e: Packing.from_json(p, f"{where}.packing.{e}") for e, p in packing.items()},
                   baseline=Baseline.from_json(baseline, f"{where}.baseline") if baseline else None,
                   controller=ControllerModel.from_json(controller, f"{where}.controller") if controller else None,
                   unplannable=_items(raw, "unplannable", where, Unplannable.from_json),
                   warnings=_items(raw, "warnings", where, _warning),
                   night=None if night is None else Night.from_json(night, f"{where}.night"),
                   window=None if window is None else WindowTimes.from_json(window, f"{where}.window"),
                   deadline=_moment(raw, "deadline", where))

    @classmethod
    def from_result(cls, registered: Any) -> PlanDocument | None:
        """The plan in dynamodb_backup_plan's registered result; None when planning failed or never ran."""
        if not isinstance(registered, dict) or registered.get("failed") or "clusters" not in registered:
            return None
        if "plan_warnings" in registered:  # the result carries the plan's warnings under their own name
            registered = dict(registered, warnings=registered["plan_warnings"])
        return cls.from_json(registered)

    def to_json(self) -> dict[str, Any]:
        """The plan file's keys (the derived `role_view` keys included); night, window and deadline once set."""
        out: dict[str, Any] = {
            "version": self.version, "window_s": self.window_s, "engine": self.engine,
            "engine_counts": dict(self.engine_counts), "table_count": self.table_count,
            "estimated_cost_usd": self.estimated_cost_usd, "cost_breakdown_usd": dict(self.cost_breakdown_usd),
            "prices": dict(self.prices),
            "makespan_s": self.makespan_s, "packing": {e: p.to_json() for e, p in self.packing.items()},
            "baseline": {} if self.baseline is None else self.baseline.to_json(),
            "controller": {} if self.controller is None else self.controller.to_json(),
            "clusters": [c.to_json() for c in self.clusters],
            "unplannable": [u.to_json() for u in self.unplannable], "warnings": list(self.warnings),
        }
        if self.night is not None:
            out["night"] = self.night.to_json()
        if self.window is not None:
            out["window"] = self.window.to_json()
        if self.deadline is not None:
            out["deadline"] = self.deadline.isoformat()
        out.update(self.role_view())
        return out

    def clusters_of(self, engine: str) -> list[PlannedCluster]:
        return [c for c in self.clusters if c.engine == engine]

    def tables(self) -> list[PlannedTable]:
        """Every planned table, cluster by cluster in planned order."""
        return [t for c in self.clusters for t in c.tables]

    def role_view(self) -> dict[str, Any]:
        """What the backup role's phases loop over, derived from the clusters (written into the plan file)."""
        boosted = [t for t in self.tables() if t.boosted]
        return {
            # "auto" too, always empty: version 1 files have the key.
            "clusters_by_engine": {e: [c.to_json() for c in self.clusters_of(e)] for e in ("auto", *ENGINES)},
            # What dynamodb_throughput's `tables` reads, for the tables boosted before their cluster starts.
            "cluster_boosts": [{"name": t.name, "rcu": t.rcu, "boost_rcu": t.boost_rcu, "read_capacity": t.boost_rcu}
                               for e in CLUSTER_BOOST_ENGINES for c in self.clusters_of(e) for t in c.tables
                               if t.boosted],
            # Every table any engine boosts: what the run's last step puts back if something still holds it.
            "boosted_tables": [t.name for t in boosted],
            "export_tables": [t.name for c in self.clusters_of("export") for t in c.tables],
            "planned_tables": [t.name for t in self.tables()],
        }

    def schedule(self) -> tuple[datetime, datetime, datetime]:
        """(window opening, plan start, deadline): offsets count from the plan's start (later than the opening
        for a run started late); every engine stops at the deadline."""
        if self.window is None or not self.window_s:
            raise InputError("plan", "has no usable window (window.starts_at and window_s)", _UNCHANGED)
        start = self.window.starts_at
        return self.window.opens, start, start + timedelta(seconds=self.window_s)


def _warning(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise InputError(where, f"must be a string, got {raw!r}", _UNCHANGED)
    return raw


def planned_times(window_start: datetime | None, offset_s: float, duration_s: float) -> tuple[str | None, str | None]:
    """(planned start, planned end) as ISO strings, when the window's start is known."""
    if window_start is None:
        return None, None
    start = window_start + timedelta(seconds=offset_s)
    return start.isoformat(), (start + timedelta(seconds=duration_s)).isoformat()
