"""Throughput rules as plain data: the decrease budget, the capacity record kept in a tag, boost and restore plans.

Nothing here calls AWS; `capacity_control` reads the table, asks this module what to do, and does it.

Vocabulary: a *resource* is the table (key None) or one GSI (key: its name); each resource has a read and
a write *dimension*. A dimension is either provisioned (changed with UpdateTable) or autoscaled (its
Application Auto Scaling target's MinCapacity/MaxCapacity are changed instead, never UpdateTable).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.moments import parse_instant

# DynamoDB's decrease rations, per resource (the table and each GSI counted apart), per UTC day.
FIRST_HOUR_DECREASES = 4
DAILY_DECREASES = 27
DECREASE_INTERVAL = timedelta(hours=1)

# Used when DescribeLimits is not offered (the default per-table quota of a new account).
DEFAULT_TABLE_MAX_CAPACITY = 40000

DEFAULT_TAG_KEY = "hippolyte:capacity-original"
# Version 2 records keep what the boost set beside the originals; version 1 records (originals only) are still read.
RECORD_VERSION = 2
READABLE_VERSIONS = (1, 2)
# How long a record is held for its run when the boost names no deadline, and how long a record
# written before records had an expiry counts as held from its `at`: longer than any night's run, shorter
# than the day between two nights, so the next night's reconcile repairs a crashed run's boosts.
DEFAULT_HOLD = timedelta(hours=12)
# A record still on its table this long after its hold is stale: the next night's reconcile (a day later, or two
# when a night was skipped) is well within it. A stale record whose boosted values no longer all match the table
# is dropped, never applied: weeks later, the capacity is its owners'.
STALE_AFTER_HOLD = timedelta(days=3)
# DynamoDB tag rules: values up to 256 characters from letters, digits, spaces and + - = . _ : /
# JSON braces and quotes are not allowed, so the JSON is stored base64-encoded (that alphabet is),
# split over numbered tags when long.
TAG_VALUE_MAX = 256
TAG_KEY_MAX = 128
_TAG_KEY_CHARS = re.compile(r"^[\w\s+\-=.:/]+$")
_CHUNK_SUFFIX_ROOM = 3  # ":NN"

DIMENSIONS = ("read", "write")
PROVISIONED = "PROVISIONED"
ON_DEMAND = "PAY_PER_REQUEST"

# None is the table itself, a string names a GSI. The collection needs Python 3.11 (tests/config.yml), but
# ansible-test's pylint checks module_utils as if for Python 3.8, where `str | None` fails at run time.
ResourceKey = str | None  # pylint: disable=unsupported-binary-operation


@dataclass(frozen=True)
class DecreaseState:
    """What DescribeTable says about one resource's decreases (NumberOfDecreasesToday, LastDecreaseDateTime)."""

    count_today: int = 0
    last: datetime | None = None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def next_midnight(now: datetime) -> datetime:
    now = _utc(now)
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


def decreases_used_today(state: DecreaseState, now: datetime) -> int:
    # The counter belongs to the UTC day of the last decrease; a decrease on an earlier day means none today.
    if state.last is not None and _utc(state.last).date() < _utc(now).date():
        return 0
    return state.count_today


def next_decrease_slot(state: DecreaseState, now: datetime) -> datetime:
    """Earliest moment at or after `now` when one more decrease of this resource is allowed.

    Conservative reading of DynamoDB's rules: 4 decreases any time in the UTC day, then the Nth
    (N > 4) no earlier than hour N-4 of the day and no sooner than an hour after the previous one,
    at most 27 a day; the counter starts again at UTC midnight.
    """
    now = _utc(now)
    midnight = next_midnight(now)
    used = decreases_used_today(state, now)
    if used >= DAILY_DECREASES:
        return midnight
    slot = now
    if used >= FIRST_HOUR_DECREASES:
        slot = max(slot, midnight - timedelta(days=1) + DECREASE_INTERVAL * (used - FIRST_HOUR_DECREASES + 1))
        if state.last is not None:
            slot = max(slot, _utc(state.last) + DECREASE_INTERVAL)
    return min(slot, midnight)


def can_decrease_today(state: DecreaseState, now: datetime) -> bool:
    return next_decrease_slot(state, now) < next_midnight(now)


@dataclass(frozen=True)
class Dimension:
    """One dimension's capacity units and, when autoscaled, its scalable target's (min, max)."""

    units: int
    scaling: tuple[int, int] | None = None

    @property
    def setting(self) -> int | tuple[int, int]:
        """What a boost sets: the scalable target's (min, max) when autoscaled (its units are autoscaling's), else
        the provisioned units."""
        return self.scaling if self.scaling else self.units

    def to_result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"units": self.units}
        if self.scaling:
            out["autoscaling"] = {"min": self.scaling[0], "max": self.scaling[1]}
        return out


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
    return _index_order(item[0])


def _index_order(key: ResourceKey) -> str:
    return "" if key is None else f"~{key}"


def resource_label(key: ResourceKey) -> str:
    return "table" if key is None else f"index {key}"


# ----------------------------------------------------------------------------------------------- record

@dataclass(frozen=True)
class CapacityRecord:
    """What a boost changed, kept as a tag on the table until put back: every dimension's original and what the
    boost set it to (`boosted`). A dimension missing from `boosted` (records of version 1) is one whose boosted
    value is unknown: it is never lowered."""

    billing_mode: str
    at: str
    run_id: str | None
    originals: dict[ResourceKey, dict[str, Dimension]]
    hold_until: str | None = None  # UTC ISO; until then the record belongs to its live run
    boosted: dict[ResourceKey, dict[str, Dimension]] = field(default_factory=dict)

    def held_until(self) -> datetime:
        """When the run that wrote the record is over at the latest (records without expiry: `at` + DEFAULT_HOLD)."""
        if self.hold_until:
            return parse_instant(self.hold_until, "record.hold_until")
        return parse_instant(self.at, "record.at") + DEFAULT_HOLD

    def held_for_other_run(self, run_id: str | None, now: datetime) -> bool:
        """True when another run, still live, owns this record: its boost must be neither redone nor taken back."""
        return not same_run(self.run_id, run_id) and self.held_until() > _utc(now)

    def stale(self, now: datetime) -> bool:
        return _utc(now) > self.held_until() + STALE_AFTER_HOLD

    def boosted_value(self, key: ResourceKey, name: str) -> Dimension | None:
        return self.boosted.get(key, {}).get(name)

    def to_json(self) -> str:
        def dims(key: ResourceKey) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, dim in self.originals[key].items():
                out[name[0]] = dim.units
                if dim.scaling:
                    out[name[0] + "s"] = list(dim.scaling)
                done = self.boosted_value(key, name)
                if done is not None:
                    out[name[0] + "b"] = done.units
                    if done.scaling:
                        out[name[0] + "bs"] = list(done.scaling)
            return out

        doc: dict[str, Any] = {"v": RECORD_VERSION, "run": self.run_id, "at": self.at, "bm": self.billing_mode}
        if self.hold_until:
            doc["u"] = self.hold_until
        if None in self.originals:
            doc["t"] = dims(None)
        indexes = {k: dims(k) for k in sorted(self.originals, key=_index_order) if k is not None}
        if indexes:
            doc["g"] = indexes
        return json.dumps(doc, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CapacityRecord:
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("v") not in READABLE_VERSIONS:
            raise ValueError(f"unknown record version {doc.get('v') if isinstance(doc, dict) else doc!r}")

        def dimension(d: dict[str, Any], prefix: str) -> Dimension:
            scaling = d.get(prefix + "s")
            return Dimension(int(d[prefix]), (int(scaling[0]), int(scaling[1])) if scaling else None)

        originals: dict[ResourceKey, dict[str, Dimension]] = {}
        boosted: dict[ResourceKey, dict[str, Dimension]] = {}
        resources = ([(None, doc["t"])] if "t" in doc else []) + list(doc.get("g", {}).items())
        for key, d in resources:
            for name in DIMENSIONS:
                if name[0] in d:
                    originals.setdefault(key, {})[name] = dimension(d, name[0])
                if name[0] + "b" in d:
                    boosted.setdefault(key, {})[name] = dimension(d, name[0] + "b")
        record = cls(billing_mode=str(doc["bm"]), at=str(doc["at"]), run_id=doc.get("run"), originals=originals,
                     hold_until=str(doc["u"]) if doc.get("u") else None, boosted=boosted)
        record.held_until()  # a record whose times cannot be read is unreadable, not held forever
        return record

    def to_result(self) -> dict[str, Any]:
        def one(key: ResourceKey) -> dict[str, Any]:
            out = {}
            for name, dim in self.originals[key].items():
                done = self.boosted_value(key, name)
                out[name] = {**dim.to_result(), "boosted": done.to_result() if done else None}
            return out

        return {"billing_mode": self.billing_mode, "at": self.at, "run_id": self.run_id,
                "hold_until": iso(self.held_until()),
                "table": one(None) if None in self.originals else None,
                "indexes": {k: one(k) for k in sorted(self.originals, key=_index_order) if k is not None}}

    def merged_with(self, other: CapacityRecord) -> CapacityRecord:
        """This record plus a later boost `other` of the same table: what `other` set is now what was boosted.

        An original already recorded is kept while the later boost started from what this record's boost set
        (our own boost, raised further); when it started from anything else, someone changed that value in
        between, so the value before the later boost is the original to go back to."""
        originals = {k: dict(v) for k, v in self.originals.items()}
        boosted = {k: dict(v) for k, v in self.boosted.items()}
        for key, dims in other.originals.items():
            for name, before in dims.items():
                earlier = self.boosted_value(key, name)
                if name not in originals.get(key, {}) or earlier is None or earlier.setting != before.setting:
                    originals.setdefault(key, {})[name] = before
                done = other.boosted_value(key, name)
                if done is not None:
                    boosted.setdefault(key, {})[name] = done
        return replace(self, originals=originals, boosted=boosted)

    def renewed(self, run_id: str | None, hold_until: datetime) -> CapacityRecord:
        """The record held by `run_id` until `hold_until` (or later, when it already was): the same run
        boosting again pushes its expiry, and a run boosting a dead run's table takes its record over."""
        return replace(self, run_id=run_id, hold_until=iso(max(hold_until, self.held_until())))


def same_run(a: str | None, b: str | None) -> bool:
    """Records without a run id belong to whoever calls without one (the module used on its own)."""
    return a == b


def original_read_units(tags: list[dict[str, str]], except_run: str | None = None,
                        tag_key: str = DEFAULT_TAG_KEY) -> int | None:
    """The table's own read capacity when a boost of another run than `except_run` is on it (the recorded
    original), else None (the live figure is the table's own). A plan or a backup must never take a
    boost it does not own for the table's capacity: that run takes it back when it ends."""
    record = parse_record(tags, tag_key)
    if record is None or (except_run is not None and same_run(record.run_id, except_run)):
        return None
    read = record.originals.get(None, {}).get("read")
    return read.units if read is not None else None


def read_boost(tags: list[dict[str, str]], run_id: str | None,
               tag_key: str = DEFAULT_TAG_KEY) -> tuple[int | None, int | None]:
    """(the table's own read capacity, the read capacity the boost of `run_id` set) from the record on the table.

    (None, None) without a record of the table's read. Another run's boost gives its original and no boosted
    value: that boost is not the reader's to read on. Without a run id, any record is taken for the caller's
    (the modules used on their own). An autoscaled boost sets the minimum: the capacity it brings at least."""
    record = parse_record(tags, tag_key)
    read = record.originals.get(None, {}).get("read") if record else None
    if record is None or read is None:
        return None, None
    if run_id is not None and not same_run(record.run_id, run_id):
        return read.units, None
    done = record.boosted_value(None, "read")
    return read.units, (done.scaling[0] if done and done.scaling else done.units if done else None)


def validate_tag_key(tag_key: str) -> None:
    if not tag_key or len(tag_key) > TAG_KEY_MAX - _CHUNK_SUFFIX_ROOM or not _TAG_KEY_CHARS.match(tag_key):
        raise InputError("tag_key", f"{tag_key!r} is not a usable DynamoDB tag key",
                         f"use 1 to {TAG_KEY_MAX - _CHUNK_SUFFIX_ROOM} letters, digits, spaces or + - = . _ : /")
    if tag_key.lower().startswith("aws:"):
        raise InputError("tag_key", "keys starting with 'aws:' are reserved by AWS", "choose another prefix")


def chunk_key(tag_key: str, index: int) -> str:
    return tag_key if index == 0 else f"{tag_key}:{index + 1}"


def record_tags(record: CapacityRecord, tag_key: str) -> list[dict[str, str]]:
    encoded = base64.b64encode(record.to_json().encode()).decode()
    chunks = [encoded[i:i + TAG_VALUE_MAX] for i in range(0, len(encoded), TAG_VALUE_MAX)]
    return [{"Key": chunk_key(tag_key, i), "Value": chunk} for i, chunk in enumerate(chunks)]


def record_tag_keys(tags: list[dict[str, str]], tag_key: str) -> list[str]:
    """Every key of ours present among `tags` (the record and all its chunks)."""
    pattern = re.compile(re.escape(tag_key) + r"(:\d+)?$")
    return [t["Key"] for t in tags if pattern.match(t["Key"])]


def parse_record(tags: list[dict[str, str]], tag_key: str) -> CapacityRecord | None:
    """The record kept in `tags`, None when there is none; HippolyteError when it is there but unreadable."""
    values = {t["Key"]: t["Value"] for t in tags}
    if tag_key not in values:
        return None
    encoded, i = "", 0
    while chunk_key(tag_key, i) in values:
        encoded += values[chunk_key(tag_key, i)]
        i += 1
    try:
        return CapacityRecord.from_json(base64.b64decode(encoded, validate=True).decode())
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error, UnicodeDecodeError, InputError) as exc:
        raise HippolyteError(
            f"the capacity record in tag {tag_key!r} cannot be read ({exc}); capacity was left as it is. "
            f"Put the capacity back by hand, then remove the tag{'s' if i > 1 else ''} "
            f"{', '.join(chunk_key(tag_key, n) for n in range(max(i, 1)))}") from exc


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
            for key in sorted(keys, key=_index_order)
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


def iso(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
