"""Throughput rules as plain data: the decrease budget, the capacity record kept in a tag, boost and restore plans.

Nothing here calls AWS; `capacity_control` reads the table, asks this module what to do, and does it.

Vocabulary: a *resource* is the table (key None) or one GSI (key: its name); each resource has a read and
a write *dimension*. A dimension is either provisioned (changed with UpdateTable) or autoscaled (its
Application Auto Scaling target's MinCapacity/MaxCapacity are changed instead, never UpdateTable).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import (
    STALE_AFTER_HOLD,
    CapacityRecord,
    Dimension,
    ResourceKey,
    in_utc,
    index_order,
    iso,
)

# DynamoDB's decrease rations, per resource (the table and each GSI counted apart), per UTC day.
FIRST_HOUR_DECREASES = 4
DAILY_DECREASES = 27
DECREASE_INTERVAL = timedelta(hours=1)

# Used when DescribeLimits is not offered (the default per-table quota of a new account).
DEFAULT_TABLE_MAX_CAPACITY = 40000


@dataclass(frozen=True)
class DecreaseState:
    """What DescribeTable says about one resource's decreases (NumberOfDecreasesToday, LastDecreaseDateTime)."""

    count_today: int = 0
    last: datetime | None = None


def next_midnight(now: datetime) -> datetime:
    now = in_utc(now)
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


def decreases_used_today(state: DecreaseState, now: datetime) -> int:
    # The counter belongs to the UTC day of the last decrease; a decrease on an earlier day means none today.
    if state.last is not None and in_utc(state.last).date() < in_utc(now).date():
        return 0
    return state.count_today


def next_decrease_slot(state: DecreaseState, now: datetime) -> datetime:
    """Earliest moment at or after `now` when one more decrease of this resource is allowed.

    Conservative reading of DynamoDB's rules: 4 decreases any time in the UTC day, then the Nth
    (N > 4) no earlier than hour N-4 of the day and no sooner than an hour after the previous one,
    at most 27 a day; the counter starts again at UTC midnight.
    """
    now = in_utc(now)
    midnight = next_midnight(now)
    used = decreases_used_today(state, now)
    if used >= DAILY_DECREASES:
        return midnight
    slot = now
    if used >= FIRST_HOUR_DECREASES:
        slot = max(slot, midnight - timedelta(days=1) + DECREASE_INTERVAL * (used - FIRST_HOUR_DECREASES + 1))
        if state.last is not None:
            slot = max(slot, in_utc(state.last) + DECREASE_INTERVAL)
    return min(slot, midnight)


def can_decrease_today(state: DecreaseState, now: datetime) -> bool:
    return next_decrease_slot(state, now) < next_midnight(now)


@dataclass(frozen=True)
class Resource:
    read: Dimension
    write: Dimension
    decreases: DecreaseState = field(default_factory=DecreaseState)

    def dimension(self, name: str) -> Dimension:
        return self.read if name == "read" else self.write


@dataclass(frozen=True)
class Snapshot:
    """The capacity of a table and its GSIs as read from AWS at one moment."""

    name: str
    billing_mode: str
    resources: dict[ResourceKey, Resource]

    @property
    def on_demand(self) -> bool:
        return self.billing_mode == ON_DEMAND

    def to_result(self) -> dict[str, Any]:
        def one(res: Resource) -> dict[str, Any]:
            return {"read": res.read.to_result(), "write": res.write.to_result()}

        return {"billing_mode": self.billing_mode,
                "table": one(self.resources[None]) if None in self.resources else None,
                "indexes": {k: one(v) for k, v in sorted(self.resources.items(), key=_key_order) if k is not None}}


def _key_order(item: tuple[ResourceKey, Any]) -> str:
    return index_order(item[0])


def resource_label(key: ResourceKey) -> str:
    return "table" if key is None else f"index {key}"


# ------------------------------------------------------------------------------------------------ plans

@dataclass(frozen=True)
class Change:
    """One dimension of one resource going from `before` to `after`."""

    key: ResourceKey
    dimension: str
    before: Dimension
    after: Dimension

    @property
    def via_autoscaling(self) -> bool:
        return self.after.scaling is not None

    @property
    def decrease(self) -> bool:
        return not self.via_autoscaling and self.after.units < self.before.units


@dataclass(frozen=True)
class Targets:
    """What `state: boosted` asks for, per dimension; None leaves a dimension alone."""

    read: int | None = None
    write: int | None = None
    gsi_read: int | None = None
    gsi_write: int | None = None
    indexes: dict[str, dict[str, int | None]] = field(default_factory=dict)

    def validate(self) -> None:
        values = {"read_capacity": self.read, "write_capacity": self.write,
                  "gsi_read_capacity": self.gsi_read, "gsi_write_capacity": self.gsi_write}
        for index, dims in self.indexes.items():
            for name, value in dims.items():
                values[f"indexes.{index}.{name}_capacity"] = value
        for name, value in values.items():
            if value is not None and value < 1:
                raise InputError(name, f"{value} is not a capacity", "give a whole number of units, 1 or more")
        if all(v is None for v in values.values()):
            raise InputError("read_capacity", "state=boosted needs a target",
                             "set read_capacity, write_capacity, gsi_read_capacity, gsi_write_capacity or indexes")

    def for_resource(self, key: ResourceKey) -> dict[str, int | None]:
        if key is None:
            return {"read": self.read, "write": self.write}
        own = self.indexes.get(key, {})
        return {"read": own.get("read", self.gsi_read), "write": own.get("write", self.gsi_write)}


def check_targets(targets: Targets, snapshot: Snapshot, table_max: dict[str, int]) -> None:
    """Input errors that need the table: unknown index names and capacities above the account's table maximum."""
    unknown = sorted(set(targets.indexes) - {k for k in snapshot.resources if k is not None})
    if unknown:
        known = ", ".join(sorted(k for k in snapshot.resources if k is not None)) or "none"
        raise InputError("indexes", f"table {snapshot.name} has no index {', '.join(unknown)}",
                         f"use one of its GSIs ({known})")
    for key in snapshot.resources:
        for name, value in targets.for_resource(key).items():
            if value is not None and value > table_max[name]:
                field_name = (f"{name}_capacity" if key is None else
                              f"indexes.{key}.{name}_capacity" if name in targets.indexes.get(key, {})
                              else f"gsi_{name}_capacity")
                raise InputError(field_name, f"{value} is above this account's table maximum of {table_max[name]} "
                                 f"{name} units", f"ask for at most {table_max[name]} or raise the quota first")


def plan_boost(snapshot: Snapshot, targets: Targets) -> list[Change]:
    """Raise every targeted dimension that is below its target; a boost never lowers anything."""
    changes = []
    for key, resource in sorted(snapshot.resources.items(), key=_key_order):
        for name, target in targets.for_resource(key).items():
            dim = resource.dimension(name)
            if target is None:
                continue
            if dim.scaling:
                low, high = dim.scaling
                if target > low:
                    # Autoscaling brings capacity up to the new minimum by itself.
                    raised = Dimension(max(dim.units, target), (target, max(high, target)))
                    changes.append(Change(key, name, dim, raised))
            elif target > dim.units:
                changes.append(Change(key, name, dim, Dimension(target)))
    return changes


def record_for(snapshot: Snapshot, changes: list[Change], at: datetime, run_id: str | None,
               hold_until: datetime) -> CapacityRecord:
    originals: dict[ResourceKey, dict[str, Dimension]] = {}
    boosted: dict[ResourceKey, dict[str, Dimension]] = {}
    for change in changes:
        originals.setdefault(change.key, {})[change.dimension] = change.before
        boosted.setdefault(change.key, {})[change.dimension] = change.after
    return CapacityRecord(billing_mode=snapshot.billing_mode, at=iso(at), run_id=run_id, originals=originals,
                          hold_until=iso(hold_until), boosted=boosted)


def unrestorable_today(snapshot: Snapshot, changes: list[Change], now: datetime) -> dict[ResourceKey, datetime]:
    """Resources a boost would raise that could not be decreased back before UTC midnight, with their next slot."""
    keys = {c.key for c in changes}
    return {key: next_decrease_slot(snapshot.resources[key].decreases, now)
            for key in sorted(keys, key=index_order)
            if not can_decrease_today(snapshot.resources[key].decreases, now)}


def put_back_value(original: int, boosted: int | None, current: int) -> int:
    """The value a put-back leaves: the original only where the value is still exactly what the boost set.

    Anything else (raised or lowered since by the application, an operator or autoscaling, or a boosted
    value the record does not know) is its owner's and stays as it is."""
    return original if boosted is not None and current == boosted else current


def put_back_dimension(original: Dimension, boosted: Dimension | None, current: Dimension) -> Dimension:
    """`put_back_value` on each value a boost sets: the provisioned units, or the scalable target's min and max
    (the units of an autoscaled dimension are autoscaling's). A dimension whose kind changed since the boost
    (autoscaling added or removed) is its owner's. A maximum going back never goes below a minimum someone else
    set."""
    if boosted is None or (original.scaling is None) != (current.scaling is None) or \
            (boosted.scaling is None) != (current.scaling is None):
        return current
    if current.scaling is None:
        return Dimension(put_back_value(original.units, boosted.units, current.units))
    (low0, high0), (low1, high1) = cast("tuple[int, int]", original.scaling), cast("tuple[int, int]", boosted.scaling)
    low = put_back_value(low0, low1, current.scaling[0])
    high = put_back_value(high0, high1, current.scaling[1])
    if high != current.scaling[1]:
        high = max(high, low)
    return Dimension(current.units, (low, high))


@dataclass(frozen=True)
class LeftAlone:
    """A recorded dimension whose value someone else changed since the boost: left as it is, and reported."""

    key: ResourceKey
    dimension: str
    original: Dimension
    boosted: Dimension | None
    current: Dimension
    reason: str

    def to_result(self) -> dict[str, Any]:
        return {"resource": resource_label(self.key), "dimension": self.dimension,
                "original": self.original.to_result(),
                "boosted": self.boosted.to_result() if self.boosted else None,
                "current": self.current.to_result(), "reason": self.reason}

    def describe(self) -> str:
        def show(d: Dimension | None) -> str:
            if d is None:
                return "unknown"
            return f"min {d.scaling[0]} max {d.scaling[1]}" if d.scaling else f"{d.units}"

        return (f"{resource_label(self.key)} {self.dimension}: {self.reason}; left at {show(self.current)} "
                f"(original {show(self.original)}, boost set {show(self.boosted)})")


def _why_left(original: Dimension, boosted: Dimension | None, current: Dimension) -> str:
    if boosted is None:
        return "the record does not say what the boost set (written by an older version), so it is not lowered"
    if (original.scaling is None) != (current.scaling is None):
        return ("autoscaling was added since the boost" if current.scaling else
                "autoscaling was removed since the boost")
    return "changed by someone else since the boost"


@dataclass
class RestorePlan:
    changes: list[Change]
    notes: list[str]
    left: list[LeftAlone] = field(default_factory=list)
    retired: str | None = None  # why the record is dropped without putting anything back


def plan_restore(snapshot: Snapshot, record: CapacityRecord, now: datetime) -> RestorePlan:
    """Changes that put back every recorded value still at what the boost set; what someone else changed is
    left (`left`). A billing-mode switch retires the record; so does staleness when anything no longer matches
    (`retired`: then nothing is changed)."""
    if snapshot.billing_mode != record.billing_mode:
        return RestorePlan([], [], retired=f"billing mode switched from {record.billing_mode} to "
                                           f"{snapshot.billing_mode} since the boost: the capacity is the new "
                                           "mode's, the record no longer applies")
    changes: list[Change] = []
    notes: list[str] = []
    left: list[LeftAlone] = []
    for key, dims in sorted(record.originals.items(), key=_key_order):
        resource = snapshot.resources.get(key)
        if resource is None:
            notes.append(f"{resource_label(key)} no longer exists; nothing to put back for it")
            continue
        for name, original in sorted(dims.items()):
            current = resource.dimension(name)
            boosted = record.boosted_value(key, name)
            after = put_back_dimension(original, boosted, current)
            if after.setting != current.setting:
                changes.append(Change(key, name, current, after))
            if after.setting != original.setting:
                left.append(LeftAlone(key, name, original, boosted, current, _why_left(original, boosted, current)))
    if left and record.stale(now):
        return RestorePlan([], [], left, retired=(
            f"the record is stale (its hold ended {iso(record.held_until())}, over "
            f"{STALE_AFTER_HOLD.days} days ago) and the table no longer has the boosted values; "
            "dropped, not applied"))
    notes += [one.describe() for one in left]
    return RestorePlan(changes, notes, left)


def apply_changes(snapshot: Snapshot, changes: list[Change]) -> Snapshot:
    """The snapshot as it is once `changes` are in effect (for `after` and diffs)."""
    resources = dict(snapshot.resources)
    for change in changes:
        res = resources[change.key]
        resources[change.key] = replace(res, **cast("dict[str, Any]", {change.dimension: change.after}))
    return replace(snapshot, resources=resources)


def group_by_resource(changes: list[Change]) -> dict[ResourceKey, list[Change]]:
    """UpdateTable changes grouped per resource (read and write of one resource go in one call, one decrease)."""
    grouped: dict[ResourceKey, list[Change]] = {}
    for change in changes:
        if not change.via_autoscaling:
            grouped.setdefault(change.key, []).append(change)
    return grouped
