# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The plan as every engine reads it: a planned cluster and table (parsed once from the plan), and the
read-share rule. The per-table result is outcome.py's `TableOutcome`; the manifest is written by manifest_io.py.

No Ansible here. An engine reads a plan only through `PlannedCluster.from_plan`, so a plan that is not
one is refused the same way, with the same field names, whichever engine is asked to run it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError

ENGINES = ("local", "export", "emr", "datapipeline")
_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


@dataclass(frozen=True)
class PlannedTable:
    """One table of a planned cluster, as the planner wrote it."""

    name: str
    read_percentage: float | None = None  # None: on-demand, the engine's default share applies
    start_offset_s: float = 0.0
    duration_s: float = 0.0
    size_bytes: int = 0
    read_units_per_second: float | None = None  # on-demand tables: the planned read rate
    boost_rcu: int | None = None  # raise read capacity to this just before the backup (None: no boost)
    boost_refused: bool = False  # the boost was asked for and refused: read at the capped share

    @classmethod
    def from_plan(cls, raw: Any, where: str) -> PlannedTable:
        if not isinstance(raw, dict):
            raise InputError(where, "is not a planned table (a dict)", "pass the result of dynamodb_backup_plan")
        name = raw.get("name")
        if not isinstance(name, str) or not _TABLE.match(name):
            raise InputError(f"{where}.name", f"{name!r} is not a DynamoDB table name",
                             "pass the result of dynamodb_backup_plan unchanged")
        ratio = raw.get("read_percentage")
        if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1):
            raise InputError(f"{where}.read_percentage", f"must be in (0, 1], got {ratio!r} for table {name}",
                             "re-plan; 0.5 lets a backup use half of the table's read capacity")
        try:
            boost = raw.get("boost_rcu") if raw.get("boosted") else None
            return cls(name=name, read_percentage=float(ratio) if ratio is not None else None,
                       start_offset_s=float(raw.get("start_offset_s") or 0),
                       duration_s=float(raw.get("duration_s") or 0), size_bytes=int(raw.get("size_bytes") or 0),
                       read_units_per_second=(float(raw["read_units_per_second"])
                                              if raw.get("read_units_per_second") else None),
                       boost_rcu=int(boost) if boost else None)
        except (TypeError, ValueError) as exc:
            raise InputError(where, f"table {name} has a field that is not a number ({exc})",
                             "pass the result of dynamodb_backup_plan unchanged") from exc

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
    start_offset_s: float = 0.0
    end_offset_s: float = 0.0

    @classmethod
    def from_plan(cls, raw: Any, field: str = "cluster", engines: tuple[str, ...] = ENGINES,
                  default_engine: str = "") -> PlannedCluster:
        if isinstance(raw, PlannedCluster):
            return raw
        if not isinstance(raw, dict):
            raise InputError(field, "must be one planned cluster (a dict of dynamodb_backup_plan's clusters)",
                             "pass plan.clusters[N] unchanged")
        cid = raw.get("id")
        if not isinstance(cid, str) or not re.match(r"^[A-Za-z0-9_-]{1,64}$", cid):
            raise InputError(f"{field}.id", f"{cid!r} is not a cluster id",
                             "pass a cluster of dynamodb_backup_plan's result unchanged")
        engine = raw.get("engine") or default_engine
        if engine not in engines:
            raise InputError(f"{field}.engine", f"cluster {cid} is planned for the {engine} engine, not for "
                             f"{' or '.join(engines)}", "run it with its own engine")
        tables = raw.get("tables")
        if not isinstance(tables, list):
            raise InputError(f"{field}.tables", f"cluster {cid} has no tables list",
                             "pass a cluster of dynamodb_backup_plan's result unchanged")
        parsed = tuple(PlannedTable.from_plan(t, f"{field}.tables[{n}]") for n, t in enumerate(tables))
        names = [t.name for t in parsed]
        for n, name in enumerate(names):
            if name in names[:n]:
                raise InputError(f"{field}.tables[{n}].name", f"table {name} appears twice in cluster {cid}",
                                 "plan each table once")
        try:
            return cls(id=cid, engine=engine, tables=parsed, start_offset_s=float(raw.get("start_offset_s") or 0),
                       end_offset_s=float(raw.get("end_offset_s") or 0))
        except (TypeError, ValueError) as exc:
            raise InputError(field, f"cluster {cid} has an offset that is not a number ({exc})",
                             "pass a cluster of dynamodb_backup_plan's result unchanged") from exc

    def require_tables(self, field: str = "cluster") -> PlannedCluster:
        if not self.tables:
            raise InputError(f"{field}.tables", f"cluster {self.id} has no tables",
                             "pass a cluster with at least one table")
        return self

    def with_refused_boosts(self, names: list[str] | None) -> PlannedCluster:
        """The cluster with the named tables' boosts marked refused (their share is then capped)."""
        refused = set(names or ())
        return replace(self, tables=tuple(replace(t, boost_refused=t.name in refused) for t in self.tables))


def plan_clusters(plan: Any, engine: str) -> list[PlannedCluster]:
    """The plan's clusters of one engine, parsed; a plan without a clusters list is refused."""
    clusters = plan.get("clusters") if isinstance(plan, dict) else None
    if not isinstance(clusters, list):
        raise InputError("plan", "has no clusters list", "pass the result of dynamodb_backup_plan")
    return [PlannedCluster.from_plan(c, f"plan.clusters[{n}]") for n, c in enumerate(clusters)
            if isinstance(c, dict) and c.get("engine") == engine]


def planned_times(window_start: datetime | None, offset_s: float, duration_s: float) -> tuple[str | None, str | None]:
    """(planned start, planned end) as ISO strings, when the window's start is known."""
    if window_start is None:
        return None, None
    start = window_start + timedelta(seconds=offset_s)
    return start.isoformat(), (start + timedelta(seconds=duration_s)).isoformat()
