"""What dynamodb_throughput does, from its options to its answer: boost, put back or reconcile one table or many.

Every option is checked before a client is made (clients come from callables), so bad input changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import capacity_record
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.answer import Answer
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import (
    Settings,
    boost,
    boost_many,
    put_back,
    put_back_many,
    read_boosts,
    reconcile,
    table_names,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_diff import capacity_diff
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import Targets

DEFAULT_TAG_KEY = capacity_record.DEFAULT_TAG_KEY  # the module's default for tag_key


def index_targets(indexes: dict[str, Any]) -> dict[str, dict[str, int | None]]:
    """The `indexes` option as {index: {"read": n, "write": n}}, rejecting shapes it cannot mean."""
    out: dict[str, dict[str, int | None]] = {}
    for name, spec in indexes.items():
        if not isinstance(spec, dict) or not spec or set(spec) - {"read_capacity", "write_capacity"}:
            raise InputError(f"indexes.{name}", f"{spec!r} is not an index target",
                             "give a dictionary with read_capacity and/or write_capacity")
        dims: dict[str, int | None] = {}
        for key, value in spec.items():
            try:
                dims[key.split("_")[0]] = int(value)
            except (TypeError, ValueError) as exc:
                raise InputError(f"indexes.{name}.{key}", f"{value!r} is not a whole number",
                                 "give capacity units as an integer") from exc
        out[name] = dims
    return out


@dataclass(frozen=True)
class ThroughputRequest:
    """dynamodb_throughput's options: `state` on one `table` (reconciled: every table when unset) or on `tables`."""

    state: str  # boosted, restored, reconciled
    settings: Settings
    table: str | None = None
    tables: Any = None  # names, or rows with name (and read_capacity for a boost), such as a plan's
    read_capacity: int | None = None
    write_capacity: int | None = None
    gsi_read_capacity: int | None = None
    gsi_write_capacity: int | None = None
    indexes: dict[str, Any] = field(default_factory=dict)

    def targets(self) -> Targets:
        """One table's boost targets (checked by boost itself against the table)."""
        return Targets(read=self.read_capacity, write=self.write_capacity, gsi_read=self.gsi_read_capacity,
                       gsi_write=self.gsi_write_capacity, indexes=index_targets(self.indexes))

    def validate(self) -> None:
        self.settings.validate()
        if self.state == "boosted" and self.tables is None:
            self.targets()  # the shape of `indexes`


@dataclass(frozen=True)
class CapacityClients:
    """How to get the clients, once the request is known good: DynamoDB for this many threads, and Application
    Auto Scaling (None: autoscaling is left alone)."""

    dynamodb: Callable[[int], Any]
    autoscaling: Callable[[], Any] | None = None


def _left_as_found(table: str, result: dict[str, Any]) -> list[str]:
    """A put-back that left capacity as it found it says so: a retired record, values someone else changed."""
    if result.get("record_retired"):
        return [f"{table}: record dropped, nothing put back: {result['record_retired']}"]
    return [f"{table} {note}" for note in result.get("notes", [])]


def _pending(table: str | None, pending: list[dict[str, Any]]) -> list[str]:
    return [f"{table or item['table']} {item['resource']}: not yet put back ({item['reason']})" for item in pending]


def apply_state(request: ThroughputRequest, clients: CapacityClients, diff: bool = False) -> Answer:
    """Bring the capacity to `request.state`; `diff` adds Ansible's before/after."""
    request.validate()
    settings = request.settings
    ddb = clients.dynamodb(settings.workers)
    aas = clients.autoscaling() if clients.autoscaling else None
    if request.state == "reconciled":
        return _reconciled(reconcile(ddb, aas, settings, only=request.table), diff)
    if request.tables is not None:
        if request.state == "boosted":
            result = boost_many(ddb, aas, read_boosts(request.tables), settings)
        else:
            result = put_back_many(ddb, aas, table_names("tables", request.tables), settings)
        warnings = [w for row in result["tables"] for w in _left_as_found(row["table"], row)]
        if diff:
            result["diff"] = capacity_diff(result["tables"])
        result["per_table"] = result.pop("tables")
        return Answer(result, warnings=tuple(warnings))
    if request.table is None:
        raise InputError("table", f"state={request.state} needs the table", "set table or tables")
    warnings = []
    if request.state == "boosted":
        result = boost(ddb, aas, request.table, request.targets(), settings)
    else:
        result = put_back(ddb, aas, request.table, settings)
        warnings = _pending(request.table, result["pending"]) + _left_as_found(request.table, result)
    if diff:
        result["diff"] = {"before": result["before"], "after": result["after"]}
    return Answer(result, warnings=tuple(warnings))


def _reconciled(result: dict[str, Any], diff: bool) -> Answer:
    warnings = _pending(None, result["pending"])
    warnings += [w for name, detail in result["tables"].items() for w in _left_as_found(name, detail)]
    if diff:
        result["diff"] = capacity_diff(list(result["tables"].values()))
    if result["errors"]:
        return Answer({**result, "msg": "could not repair: " + "; ".join(
            f"{f['table']}: {f['error']}" for f in result["errors"])}, failed=True, warnings=tuple(warnings))
    return Answer({**result, "msg": f"checked {result['checked']} table(s): repaired "
                             f"{len(result['repaired'])}, pending {len({x['table'] for x in result['pending']})}, "
                             f"held by live runs {len(result['held'])}"}, warnings=tuple(warnings))
