"""Boost, put back and reconcile a table's capacity through boto3 clients, following the rules in `throughput`.

Order of work, so that a run killed at any moment leaves something reconcile can repair:
  1. read the table (and its Application Auto Scaling targets), validate the request;
  2. write the record of the originals as a tag and read it back;
  3. only then change capacity (scalable targets for autoscaled dimensions, UpdateTable for the rest,
     one resource per call, each after the table and every GSI are ACTIVE);
  4. on put-back, remove the tag only once every recorded dimension is back.

("Put back" is this module's word for returning capacity; "restore" is loading a backup, restore.py.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import (
    describe_table,
    list_table_names,
    wait_table_active,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.paging import pages
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import list_tags
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import (
    UNSUPPORTED_CALL_CODES,
    HippolyteError,
    InputError,
    error_code,
    is_error,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.waiting import PollTimeout, poll_until
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND, billing_mode
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import (
    DEFAULT_HOLD,
    DEFAULT_TAG_KEY,
    DIMENSIONS,
    CapacityRecord,
    Dimension,
    ResourceKey,
    iso,
    parse_record,
    record_tag_keys,
    record_tags,
    same_run,
    validate_tag_key,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import Arn, parse_arn, sibling_table_arn
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import (
    DEFAULT_TABLE_MAX_CAPACITY,
    Change,
    DecreaseState,
    LeftAlone,
    Resource,
    Snapshot,
    Targets,
    apply_changes,
    check_targets,
    group_by_resource,
    next_decrease_slot,
    plan_boost,
    plan_restore,
    record_for,
    resource_label,
    unrestorable_today,
)

_MAX_POLL_S = 10.0  # waits of a capacity change poll ever less often, up to this


@dataclass
class Settings:
    tag_key: str = DEFAULT_TAG_KEY
    run_id: str | None = None
    hold_s: float | None = None  # how long this run may still last (its deadline); None: DEFAULT_HOLD
    force: bool = False
    wait_timeout: float = 600.0  # seconds each wait (a tag to read back, a table to be ACTIVE) may take
    # After a boost, how long to wait for the capacity to be on the table (a raised scalable-target minimum
    # arrives when autoscaling acts); None: no wait, for a reader that follows the capacity by itself.
    capacity_wait_s: float | None = None
    check_mode: bool = False
    poll_s: float = 0.5
    workers: int = 16  # reconcile reads every table of the account: its calls wait on the network, not the CPU
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = utc_now

    def validate(self) -> None:
        if self.wait_timeout < 0:
            raise InputError("wait_timeout", "must be 0 or more seconds", "leave it unset (600)")
        if self.capacity_wait_s is not None and self.capacity_wait_s < 0:
            raise InputError("capacity_wait_s", "must be 0 or more seconds", "leave it unset for no wait")
        if self.hold_s is not None and self.hold_s < 0:
            raise InputError("hold_s", "must be 0 or more seconds (the run's deadline from now)",
                             "leave it unset for the default hold")

    def hold_until(self) -> datetime:
        """Until when a record this run writes now is held for it."""
        return self.clock() + (DEFAULT_HOLD if self.hold_s is None else timedelta(seconds=self.hold_s))


def held_result(record: CapacityRecord) -> dict[str, Any]:
    """How a record of another run is reported: which run holds the table, and until when."""
    return {"held_by": record.run_id, "hold_until": iso(record.held_until())}


def _poll(settings: Settings, check: Callable[[], Any], what: str) -> Any:
    return poll_until(check, settings.wait_timeout, settings.poll_s, what, max_interval=_MAX_POLL_S,
                      sleep=settings.sleep)


def _wait_active(ddb: Any, name: str, settings: Settings) -> dict[str, Any]:
    return wait_table_active(ddb, name, settings.wait_timeout, settings.poll_s, max_interval=_MAX_POLL_S,
                             sleep=settings.sleep)


# ------------------------------------------------------------------------------------------- reading

def _scalable_dimension(resource_id: str, dimension: str) -> str:
    kind = "index" if "/index/" in resource_id else "table"
    return f"dynamodb:{kind}:{dimension.capitalize()}CapacityUnits"


def _resource_id(table: str, key: ResourceKey) -> str:
    return f"table/{table}" if key is None else f"table/{table}/index/{key}"


def scalable_targets(aas: Any, table: str, keys: list[ResourceKey]) -> dict[tuple[ResourceKey, str], tuple[int, int]]:
    """(resource, dimension) -> (MinCapacity, MaxCapacity) of every Application Auto Scaling target on the table."""
    by_id = {_resource_id(table, k): k for k in keys}
    found: dict[tuple[ResourceKey, str], tuple[int, int]] = {}
    ids = list(by_id)
    for start in range(0, len(ids), 50):  # the API takes at most 50 resource ids per call
        for page in pages(aas, "describe_scalable_targets", ServiceNamespace="dynamodb",
                          ResourceIds=ids[start:start + 50]):
            for target in page.get("ScalableTargets", []):
                for dim in DIMENSIONS:
                    if target["ScalableDimension"] == _scalable_dimension(target["ResourceId"], dim):
                        found[(by_id[target["ResourceId"]], dim)] = (int(target["MinCapacity"]),
                                                                     int(target["MaxCapacity"]))
    return found


def _decreases(throughput: dict[str, Any]) -> DecreaseState:
    last = throughput.get("LastDecreaseDateTime")
    return DecreaseState(int(throughput.get("NumberOfDecreasesToday", 0)), last if isinstance(last, datetime) else None)


def snapshot_of(desc: dict[str, Any], scaling: dict[tuple[ResourceKey, str], tuple[int, int]]) -> Snapshot:
    def resource(key: ResourceKey, throughput: dict[str, Any]) -> Resource:
        dims = {d: Dimension(int(throughput.get(f"{d.capitalize()}CapacityUnits", 0)), scaling.get((key, d)))
                for d in DIMENSIONS}
        return Resource(read=dims["read"], write=dims["write"], decreases=_decreases(throughput))

    resources: dict[ResourceKey, Resource] = {None: resource(None, desc.get("ProvisionedThroughput", {}))}
    for index in desc.get("GlobalSecondaryIndexes", []):
        resources[index["IndexName"]] = resource(index["IndexName"], index.get("ProvisionedThroughput", {}))
    return Snapshot(name=desc["TableName"], billing_mode=billing_mode(desc), resources=resources)


def read_snapshot(ddb: Any, aas: Any | None, name: str) -> tuple[dict[str, Any], Snapshot]:
    desc = describe_table(ddb, name)
    keys: list[ResourceKey] = [None, *(i["IndexName"] for i in desc.get("GlobalSecondaryIndexes", []))]
    scaling = scalable_targets(aas, name, keys) if aas is not None and billing_mode(desc) != ON_DEMAND else {}
    return desc, snapshot_of(desc, scaling)


def table_limits(ddb: Any) -> dict[str, int]:
    try:
        limits = ddb.describe_limits()
    except Exception as exc:
        if is_error(exc, *UNSUPPORTED_CALL_CODES):
            return {"read": DEFAULT_TABLE_MAX_CAPACITY, "write": DEFAULT_TABLE_MAX_CAPACITY}
        raise
    return {"read": int(limits["TableMaxReadCapacityUnits"]), "write": int(limits["TableMaxWriteCapacityUnits"])}


# ------------------------------------------------------------------------------------------- writing

def write_record(ddb: Any, arn: str, tags: list[dict[str, str]], record: Any, settings: Settings) -> None:
    """Tag the table with the record, drop chunks a shorter record no longer uses, and read it back."""
    new_tags = record_tags(record, settings.tag_key)
    ddb.tag_resource(ResourceArn=arn, Tags=new_tags)
    stale = sorted(set(record_tag_keys(tags, settings.tag_key)) - {t["Key"] for t in new_tags})
    if stale:
        ddb.untag_resource(ResourceArn=arn, TagKeys=stale)
    # Tags are applied asynchronously; capacity changes only once the record is readable.
    _poll(settings, lambda: True if parse_record(list_tags(ddb, arn), settings.tag_key) == record else None,
          f"waiting for tag {settings.tag_key} to read back")


def _throughput(desc: dict[str, Any], key: ResourceKey) -> dict[str, Any]:
    if key is None:
        return cast("dict[str, Any]", desc.get("ProvisionedThroughput", {}))
    for index in desc.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] == key:
            return cast("dict[str, Any]", index.get("ProvisionedThroughput", {}))
    raise HippolyteError(f"index {key} of {desc['TableName']} disappeared while its capacity was being changed")


def _current_units(desc: dict[str, Any], key: ResourceKey) -> dict[str, int]:
    throughput = _throughput(desc, key)
    return {d: int(throughput.get(f"{d.capitalize()}CapacityUnits", 0)) for d in DIMENSIONS}


@dataclass
class Outcome:
    key: ResourceKey
    done: bool
    next_slot: datetime | None = None
    moved: dict[str, int] = field(default_factory=dict)  # dimensions someone else changed meanwhile: left


def update_resource(ddb: Any, name: str, key: ResourceKey, units: dict[str, int], settings: Settings,
                    expected: dict[str, int] | None = None) -> Outcome:
    """Set one resource's provisioned read/write with UpdateTable; a refused decrease is an outcome, not an error.

    With `expected`, a dimension no longer at its expected value once the table is ACTIVE (someone else changed
    it while we waited, often the very change that kept the table UPDATING) is left as it is (`moved`).
    Throttling is botocore's to retry (adaptive mode); a table busy with another change is retried here.
    """
    def attempt() -> Outcome | None:
        desc = _wait_active(ddb, name, settings)
        current = _current_units(desc, key)
        moved = {d: current[d] for d, value in (expected or {}).items() if d in units and current[d] != value}
        wanted = {d: current[d] if d in moved else units.get(d, current[d]) for d in DIMENSIONS}
        if wanted == current:
            return Outcome(key, True, moved=moved)  # already there: DynamoDB would answer "will not change"
        throughput = {"ReadCapacityUnits": wanted["read"], "WriteCapacityUnits": wanted["write"]}
        request: dict[str, Any] = {"TableName": name}
        if key is None:
            request["ProvisionedThroughput"] = throughput
        else:
            update = {"IndexName": key, "ProvisionedThroughput": throughput}
            request["GlobalSecondaryIndexUpdates"] = [{"Update": update}]
        try:
            ddb.update_table(**request)
            return Outcome(key, True, moved=moved)
        except Exception as exc:
            code = error_code(exc)
            if code == "ResourceInUseException":
                return None  # another change of the table is under way: try again once it is ACTIVE
            decreasing = any(wanted[d] < current[d] for d in DIMENSIONS)
            if code == "LimitExceededException" and decreasing:
                return Outcome(key, False, _refused_slot(ddb, name, key, settings.clock()), moved)
            if code == "ValidationException" and _current_units(describe_table(ddb, name), key) == wanted:
                return Outcome(key, True, moved=moved)  # a concurrent change got there first
            raise

    busy = f"retrying UpdateTable on {resource_label(key)} of {name} (table busy)"
    return cast(Outcome, _poll(settings, attempt, busy))


def capacity_arrived(ddb: Any, name: str, changes: list[Change], settings: Settings) -> bool:
    """Whether the table has every raised dimension's capacity within `settings.capacity_wait_s`: the units of
    an UpdateTable (there once ACTIVE), at least the new minimum of a raised scalable target."""
    wanted = {(c.key, c.dimension): c.after.scaling[0] if c.after.scaling else c.after.units for c in changes}

    def there() -> bool | None:
        desc = describe_table(ddb, name)
        return True if all(_current_units(desc, key)[dim] >= units for (key, dim), units in wanted.items()) else None

    try:
        return bool(poll_until(there, settings.capacity_wait_s or 0.0, settings.poll_s, f"waiting for the "
                               f"boosted capacity of {name}", max_interval=_MAX_POLL_S, sleep=settings.sleep))
    except PollTimeout:
        return False


def _refused_slot(ddb: Any, name: str, key: ResourceKey, now: datetime) -> datetime:
    slot = next_decrease_slot(_decreases(_throughput(describe_table(ddb, name), key)), now)
    # AWS refused although its counters looked fine to us: it knows better, so try again in an hour.
    return slot if slot > now else now + timedelta(hours=1)


def set_scaling(aas: Any, table: str, key: ResourceKey, dimension: str, scaling: tuple[int, int]) -> None:
    resource_id = _resource_id(table, key)
    aas.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=resource_id,
                                 ScalableDimension=_scalable_dimension(resource_id, dimension),
                                 MinCapacity=scaling[0], MaxCapacity=scaling[1])


def _apply(ddb: Any, aas: Any | None, name: str, changes: list[Change], settings: Settings) -> list[Outcome]:
    for change in changes:
        if change.via_autoscaling and change.after.scaling:
            set_scaling(aas, name, change.key, change.dimension, change.after.scaling)
    return [update_resource(ddb, name, key, {c.dimension: c.after.units for c in group}, settings,
                            expected={c.dimension: c.before.units for c in group})
            for key, group in group_by_resource(changes).items()]


def _remove_record(ddb: Any, arn: str, tags: list[dict[str, str]], tag_key: str) -> None:
    ddb.untag_resource(ResourceArn=arn, TagKeys=record_tag_keys(tags, tag_key))


# ------------------------------------------------------------------------------------------ operations

def boost(ddb: Any, aas: Any | None, name: str, targets: Targets, settings: Settings) -> dict[str, Any]:
    """Raise the table's and GSIs' capacity to `targets`, recording the originals first."""
    targets.validate()
    validate_tag_key(settings.tag_key)
    desc, snap = read_snapshot(ddb, aas, name)
    result: dict[str, Any] = {"table": name, "before": snap.to_result(), "on_demand": snap.on_demand}
    if snap.on_demand:
        return {**result, "changed": False, "after": snap.to_result(), "original": None,
                "msg": f"{name} is on-demand (PAY_PER_REQUEST): it has no provisioned capacity to raise"}
    check_targets(targets, snap, table_limits(ddb))
    tags = list_tags(ddb, desc["TableArn"])
    existing = parse_record(tags, settings.tag_key)
    now = settings.clock()
    if existing is not None and existing.held_for_other_run(settings.run_id, now):
        # Boosting it again would stack on that run's boost, and its restore would then take back ours.
        return {**result, "changed": False, "after": snap.to_result(), "original": existing.to_result(),
                **held_result(existing),
                "msg": f"{name} is boosted by run {existing.run_id}, live until {iso(existing.held_until())}: "
                       "left as it is; plan and read on the recorded original"}
    changes = plan_boost(snap, targets)
    result["after"] = apply_changes(snap, changes).to_result()
    if not changes:
        if existing is None or not same_run(existing.run_id, settings.run_id):
            return {**result, "changed": False, "original": existing.to_result() if existing else None,
                    "msg": f"{name} is already at or above every target"}
        # This run boosting again: its hold is pushed, so no other run's reconcile takes the boost back.
        renewed = existing.renewed(settings.run_id, settings.hold_until())
        if renewed != existing and not settings.check_mode:
            write_record(ddb, desc["TableArn"], tags, renewed, settings)
        return {**result, "changed": False, "original": renewed.to_result(), "hold_until": iso(renewed.held_until()),
                "msg": f"{name} is already at or above every target; this run's hold renewed"}
    blocked = unrestorable_today(snap, changes, now)
    if blocked and not settings.force:
        detail = "; ".join(f"{resource_label(k)} not before {iso(slot)}" for k, slot in blocked.items())
        raise HippolyteError(f"{name} was not boosted: DynamoDB's decrease budget for today is spent, so it could "
                             f"not be brought back today ({detail}). Set force=true to boost anyway and pay for "
                             "the raised capacity until then")
    hold = settings.hold_until()
    record = record_for(snap, changes, now, settings.run_id, hold)
    if existing is not None:
        # Originals already recorded win; the record is now this run's (its own renewed, a dead run's taken over).
        record = existing.merged_with(record).renewed(settings.run_id, hold)
    slot = max(next_decrease_slot(snap.resources[c.key].decreases, now) for c in changes)
    result.update(changed=True, original=record.to_result(), next_decrease_slot=iso(slot),
                  hold_until=iso(record.held_until()),
                  msg=f"raised {len(changes)} capacity setting(s) of {name}; originals recorded in tag "
                      f"{settings.tag_key}")
    if settings.check_mode:
        return result
    if record != existing:
        write_record(ddb, desc["TableArn"], tags, record, settings)
    try:
        _apply(ddb, aas, name, changes, settings)
        _wait_active(ddb, name, settings)
    except Exception as exc:
        raise HippolyteError(f"boost of {name} stopped part-way ({exc}); the original capacity stays recorded in tag "
                             f"{settings.tag_key}: run state=restored or state=reconciled to put back what was raised"
                             ) from exc
    if settings.capacity_wait_s is not None:
        result["capacity_arrived"] = capacity_arrived(ddb, name, changes, settings)
        if not result["capacity_arrived"]:
            result["msg"] += (f"; the raised capacity was not on the table after {settings.capacity_wait_s:g} s "
                              "(autoscaling lagging): read it on its own capacity")
    return result


def put_back(ddb: Any, aas: Any | None, name: str, settings: Settings, any_run: bool = False) -> dict[str, Any]:
    """Put back every dimension recorded in the table's tag; remove the tag once all of them are back.

    With a run id, only that run's record is put back (another run may still be reading the table);
    `any_run` is reconcile's, which has already decided the record's run is over.
    """
    validate_tag_key(settings.tag_key)
    desc, snap = read_snapshot(ddb, aas, name)
    tags = list_tags(ddb, desc["TableArn"])
    record = parse_record(tags, settings.tag_key)
    result: dict[str, Any] = {"table": name, "before": snap.to_result(), "on_demand": snap.on_demand,
                              "after": snap.to_result(), "pending": [], "notes": [], "billing_mode_changed": False,
                              "changed_by_others": [], "record_retired": None,
                              "original": record.to_result() if record else None}
    if record is None:
        return {**result, "changed": False,
                "msg": f"{name} has no recorded original (no tag {settings.tag_key}): nothing to put back"}
    if not any_run and settings.run_id is not None and not same_run(record.run_id, settings.run_id):
        return {**result, "changed": False, **held_result(record),
                "msg": f"{name} was boosted by run {record.run_id}, not by {settings.run_id}: left for that run "
                       "to put back (or reconcile, once it is over)"}
    plan = plan_restore(snap, record, settings.clock())
    result.update(notes=list(plan.notes), changed_by_others=[one.to_result() for one in plan.left],
                  billing_mode_changed=snap.billing_mode != record.billing_mode)
    if plan.retired:
        # Retired records are dropped, never kept pending: nothing in them may be applied later.
        if not settings.check_mode:
            _remove_record(ddb, desc["TableArn"], tags, settings.tag_key)
        return {**result, "changed": True, "record_retired": plan.retired,
                "notes": [*plan.notes, f"{name}: {plan.retired}"],
                "msg": f"{name}: capacity left as it is; tag {settings.tag_key} removed: {plan.retired}"}
    if aas is None and any(d.scaling for dims in record.originals.values() for d in dims.values()):
        raise HippolyteError(f"the record on {name} has autoscaled dimensions, but autoscaling=false: "
                             "restoring them with UpdateTable would fight Application Auto Scaling; "
                             "run with autoscaling=true")
    kept = f"; left what others changed: {len(plan.left)} setting(s)" if plan.left else ""
    if settings.check_mode:
        return {**result, "changed": True, "after": apply_changes(snap, plan.changes).to_result(),
                "msg": f"would put back {len(plan.changes)} capacity setting(s) of {name} and remove tag "
                       f"{settings.tag_key}{kept}"}
    outcomes = _apply(ddb, aas, name, plan.changes, settings)
    refused = {o.key: o for o in outcomes if not o.done}
    moved = {(o.key, d): units for o in outcomes for d, units in o.moved.items()}
    for change in plan.changes:
        if (change.key, change.dimension) in moved:
            late = LeftAlone(change.key, change.dimension, record.originals[change.key][change.dimension],
                             record.boosted_value(change.key, change.dimension),
                             Dimension(moved[(change.key, change.dimension)]),
                             "changed by someone else while the put-back waited for the table")
            result["changed_by_others"].append(late.to_result())
            result["notes"].append(late.describe())
    applied = [c for c in plan.changes if (c.via_autoscaling or c.key not in refused)
               and (c.key, c.dimension) not in moved]
    result["after"] = apply_changes(snap, applied).to_result()
    if not refused:
        _wait_active(ddb, name, settings)
        _remove_record(ddb, desc["TableArn"], tags, settings.tag_key)
        return {**result, "changed": True,  # the tag is removed
                "msg": f"put back {len(applied)} capacity setting(s) of {name}; tag {settings.tag_key} "
                       f"removed{kept}"}
    slots = {k: o.next_slot or settings.clock() for k, o in refused.items()}
    first = min(slots.values())
    result["pending"] = [{"resource": resource_label(k), "reason": "DynamoDB refused the decrease (decrease budget)",
                          "next_decrease_slot": iso(slot)} for k, slot in slots.items()]
    return {**result, "changed": bool(applied), "next_decrease_slot": iso(first),
            "msg": f"{name}: DynamoDB refused {len(refused)} decrease(s); tag {settings.tag_key} is kept and "
                   f"reconcile puts the rest back from {iso(first)}"}


@dataclass
class _Found:
    name: str
    outcome: str  # restored | skipped | held | failed
    # (result keys avoid Ansible's reserved `skipped` and `failed`)
    detail: dict[str, Any] = field(default_factory=dict)


def _any_table_arn(ddb: Any, names: list[str]) -> Arn | None:
    """The ARN of the first of `names` still there (None: none is)."""
    for name in names:
        try:
            arn = describe_table(ddb, name)["TableArn"]
        except InputError:
            continue  # deleted since it was listed
        parts = parse_arn(arn)
        if parts is None:
            raise HippolyteError(f"DescribeTable gave {name!r} an ARN that is not one: {arn!r}")
        return parts
    return None


def _tags_if_there(ddb: Any, arn: str) -> list[dict[str, str]] | None:
    """The table's tags; None when it is gone."""
    try:
        return list_tags(ddb, arn)
    except Exception as exc:
        if is_error(exc, "ResourceNotFoundException"):
            return None
        raise


def reconcile(ddb: Any, aas: Any | None, settings: Settings, only: str | None = None) -> dict[str, Any]:
    """Find every table (or only `only`) carrying a capacity record and put its capacity back.

    A record written under this very run id belongs to a live run and is left alone; so is one of
    another run still within its hold (`held`): only records of runs that are over are repaired.
    """
    validate_tag_key(settings.tag_key)
    if only is not None:
        describe_table(ddb, only)  # an unknown table is bad input, reported before anything changes
    names = [only] if only is not None else list_table_names(ddb)
    # Every table here is in one account and region: one ARN names them all, so the tags are read without a
    # DescribeTable each. A put-back still reads the live table itself before changing it.
    like = _any_table_arn(ddb, names)

    def one(name: str) -> _Found | None:
        try:
            tags = _tags_if_there(ddb, sibling_table_arn(like, name)) if like else None
            if tags is None:
                return None  # deleted since it was listed
            record = parse_record(tags, settings.tag_key)
            if record is None:
                return None
            if settings.run_id is not None and record.run_id == settings.run_id:
                return _Found(name, "skipped", {"reason": f"recorded by this run ({settings.run_id})"})
            if record.held_for_other_run(settings.run_id, settings.clock()):
                return _Found(name, "held", held_result(record))
            return _Found(name, "restored", put_back(ddb, aas, name, settings, any_run=True))
        except Exception as exc:  # one table's trouble must not stop the others from being repaired
            if not isinstance(exc, HippolyteError) and not error_code(exc):
                raise
            return _Found(name, "failed", {"error": str(exc)})

    with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
        found = [f for f in pool.map(one, names) if f is not None]
    restored = [f for f in found if f.outcome == "restored"]
    return {
        "changed": any(f.detail["changed"] for f in restored),
        "checked": len(names),
        "repaired": sorted(f.name for f in restored if not f.detail["pending"] and not f.detail["record_retired"]),
        "retired": sorted(({"table": f.name, "reason": f.detail["record_retired"]} for f in restored
                           if f.detail["record_retired"]), key=lambda p: p["table"]),
        "changed_by_others": sorted(({"table": f.name, **one} for f in restored
                                     for one in f.detail["changed_by_others"]),
                                    key=lambda p: (p["table"], p["resource"], p["dimension"])),
        "pending": sorted(({"table": f.name, **p} for f in restored for p in f.detail["pending"]),
                          key=lambda p: p["table"]),
        "left_alone": sorted(({"table": f.name, **f.detail} for f in found if f.outcome == "skipped"),
                             key=lambda p: p["table"]),
        "held": sorted(({"table": f.name, **f.detail} for f in found if f.outcome == "held"),
                       key=lambda p: p["table"]),
        "errors": sorted(({"table": f.name, **f.detail} for f in found if f.outcome == "failed"),
                         key=lambda p: p["table"]),
        "tables": {f.name: f.detail for f in restored},
    }


def read_boosts(raw: Any) -> list[tuple[str, Targets]]:
    """The `tables` option of a many-table boost: each element a dict with `name` and `read_capacity` (other
    keys, such as the rest of a plan's `cluster_boosts` row, are ignored)."""
    if not isinstance(raw, list):
        raise InputError("tables", f"{raw!r} is not a list", "give a list of {name, read_capacity}")
    out: list[tuple[str, Targets]] = []
    for n, row in enumerate(raw):
        name = row.get("name") if isinstance(row, dict) else None
        if not isinstance(name, str) or not name:
            raise InputError(f"tables[{n}].name", f"{row!r} names no table", "give each element a name")
        units = row.get("read_capacity")
        if isinstance(units, bool) or not isinstance(units, int | str) or not str(units).isdigit():
            raise InputError(f"tables[{n}].read_capacity", f"{units!r} is not a whole number for table {name}",
                             "give the read capacity to raise it to, e.g. the plan's cluster_boosts unchanged")
        targets = Targets(read=int(units))
        targets.validate()
        out.append((name, targets))
    return out


def table_names(field_name: str, raw: Any) -> list[str]:
    """A list of tables given as names or as dicts with `name` (a plan's rows pass unchanged)."""
    if not isinstance(raw, list):
        raise InputError(field_name, f"{raw!r} is not a list", "give a list of table names")
    names: list[str] = []
    for n, row in enumerate(raw):
        name = row.get("name") if isinstance(row, dict) else row
        if not isinstance(name, str) or not name:
            raise InputError(f"{field_name}[{n}]", f"{row!r} names no table", "give a table name or {name: ...}")
        names.append(name)
    return names


def _each(names: list[str], action: Callable[[str], dict[str, Any]], workers: int) -> list[dict[str, Any]]:
    """`action` on every table side by side (their calls wait on the network); one table's AWS or
    Hippolyte error becomes its row's `error`, so the others still get their turn."""
    def one(name: str) -> dict[str, Any]:
        try:
            return action(name)
        except Exception as exc:
            if not isinstance(exc, HippolyteError) and not error_code(exc):
                raise
            return {"table": name, "changed": False, "error": str(exc)}

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(names) or 1))) as pool:
        return list(pool.map(one, names))


def boost_many(ddb: Any, aas: Any | None, boosts: list[tuple[str, Targets]], settings: Settings) -> dict[str, Any]:
    """Boost several tables at once; a refusal (decrease budget, another live run, an error, a raised capacity
    not on the table within `capacity_wait_s`) is a row of `refused`, not a failure: that table is read on its
    own capacity."""
    targets = dict(boosts)
    rows = _each(list(targets), lambda name: boost(ddb, aas, name, targets[name], settings), settings.workers)
    # A boost whose capacity has not arrived is held (and put back later) but not read on.
    refused = [r["table"] for r in rows if r.get("error") or r.get("held_by") or r.get("capacity_arrived") is False]
    return {"changed": any(r["changed"] for r in rows), "tables": rows, "refused": refused,
            "boosted": [r["table"] for r in rows if r["changed"]],
            "msg": f"boosted {sum(1 for r in rows if r['changed'])} of {len(rows)} table(s)"
                   + (f"; refused: {', '.join(refused)}" if refused else "")}


def left_notes(result: dict[str, Any]) -> list[str]:
    """What a put-back left as it found it, one line each: a retired record, values someone else changed."""
    if result.get("record_retired"):
        return [f"{result['table']}: record dropped, nothing put back: {result['record_retired']}"]
    return [f"{result['table']} {one['resource']} {one['dimension']}: {one['reason']}; left as it is"
            for one in result.get("changed_by_others", [])]


def put_back_many(ddb: Any, aas: Any | None, names: list[str], settings: Settings) -> dict[str, Any]:
    """Put back this run's boost on several tables at once; a table without its record is left as it is.
    What could not be put back (decrease budget, an error) stays recorded for reconcile, named in `notes`, as
    are the values someone else changed (left as they are) and retired records."""
    rows = _each(names, lambda name: put_back(ddb, aas, name, settings), settings.workers)
    notes = [f"{r['table']}: boost not put back ({r['error']}); reconcile puts it back" if r.get("error")
             else f"{r['table']}: {r['msg']}" for r in rows if r.get("error") or r.get("pending")]
    notes += [note for r in rows for note in left_notes(r)]
    put = [r["table"] for r in rows if r["changed"]]
    return {"changed": bool(put), "tables": rows, "put_back": put, "notes": notes,
            "pending": [{"table": r["table"], **p} for r in rows for p in r.get("pending", [])],
            "msg": f"put back {len(put)} of {len(rows)} table(s)" + (f"; {len(notes)} not yet" if notes else "")}


@contextmanager
def boosted_while(ddb: Any, aas: Any | None, name: str, targets: Targets, settings: Settings,
                  problems: list[str]) -> Iterator[bool]:
    """Hold a boost only while the body runs: raised just before, put back right after (yields whether it held).

    A refused boost is not an error here: the caller reads at what the table has. What could not be put
    back stays recorded on the table for the next run's reconcile; both are noted in `problems`.
    """
    try:
        raised = boost(ddb, aas, name, targets, settings)
    except Exception as exc:  # refused or failed part-way: the record (if any) stays for reconcile
        problems.append(f"{name}: boost refused ({exc})")
        yield False
        return
    if raised.get("held_by"):
        problems.append(f"{name}: held by live run {raised['held_by']} until {raised.get('hold_until')}: "
                        "read on its original capacity, not boosted again")
    try:
        yield not raised.get("on_demand", False) and not raised.get("held_by")
    finally:
        try:
            back = put_back(ddb, aas, name, settings)
            problems.extend(left_notes(back))
            if back.get("pending"):
                problems.append(f"{name}: capacity goes back at DynamoDB's next allowed decrease "
                                f"({back.get('next_decrease_slot')}); reconcile will do it")
        except Exception as exc:
            problems.append(f"{name}: capacity not put back yet ({exc}); the next run's reconcile will")
