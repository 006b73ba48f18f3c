"""The plan's local lanes, run side by side in one process: the night's in-process backups.

A lane is a list of tables the planner put one after another; lanes run concurrently, each in its own
thread, taking its tables in planned order. Every table gets its own rate limit (its plan share of its
read capacity) through `backup_table`, while two controller-wide limits hold the sum: at most
`max_scans` tables are read at once, and all of them together draw at most `read_units_per_second`.
A table's boost is raised just before its backup and put back right after (`capacity`), so a table
whose turn comes late does not pay for boosted capacity all night. One failing table never stops the
others: each ends as one `TableOutcome`. At the window's end no table starts any more (each is reported
`not run`); a table in flight finishes, with its boost, and the run ends. Likewise once the run's lease is known
lost (`lease_lost`, asked before each table): another run took it over and may be backing up the same tables.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import describe_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.lease_loss import LeaseLoss
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import is_future, parse_instant
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.process_memory import cap_malloc_arenas
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import account_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome, failed_names
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import (
    PlanDocument,
    PlannedTable,
    planned_times,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.read_units import bytes_per_read_unit
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import (
    BackupRef,
    backup_folder,
    list_backups,
    read_manifest,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import (
    Settings as CapacitySettings,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import boosted_while
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_diff import boost_preview
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.rate_limiter import TokenBucket
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import Targets
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import EngineAnswer
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table

# A table this small is read by one Scan worker: more segments only add calls.
SMALL_TABLE_BYTES = 64 * 1024**2


@dataclass(frozen=True)
class LaneTable(PlannedTable):
    """A planned local table and the lane (the plan's local cluster) that runs it."""

    lane: str = ""


@dataclass(frozen=True)
class ControllerLimits:
    max_scans: int = 16
    read_units_per_second: float | None = None  # all local scans together; None: no controller cap

    def validate(self) -> None:
        if self.max_scans < 1:
            raise InputError("max_concurrent_scans", f"must be at least 1, got {self.max_scans}", "use 1 to 256")
        if self.read_units_per_second is not None and self.read_units_per_second <= 0:
            raise InputError("max_read_units_per_second", "must be positive", "leave it unset for no controller cap")


def controller_limits(plan: PlanDocument, max_scans: int | None = None,
                      read_units_per_second: float | None = None) -> ControllerLimits:
    """The limits the plan's lanes were packed for (its `controller`), unless given explicitly; 0 units: no cap."""
    controller = plan.controller
    if read_units_per_second is None and controller is not None and controller.bytes_per_s:
        per_unit = controller.bytes_per_read_unit or bytes_per_read_unit(controller.consistent_read)
        read_units_per_second = float(controller.bytes_per_s) / float(per_unit)
    planned_scans = controller.max_scans if controller is not None else 0
    limits = ControllerLimits(max_scans=int(max_scans or planned_scans or ControllerLimits.max_scans),
                              read_units_per_second=read_units_per_second or None)
    limits.validate()
    return limits


def local_lanes(plan: PlanDocument) -> list[list[LaneTable]]:
    """The plan's local clusters as lanes of tables in planned order."""
    return [sorted((LaneTable(**vars(t), lane=cluster.id) for t in cluster.tables), key=lambda t: t.start_offset_s)
            for cluster in plan.clusters_of("local")]


CapacityHold = Callable[[LaneTable], AbstractContextManager[bool]]


@dataclass
class _Night:
    ddb: Any
    store: BackupStore
    region: str
    base: ScanSettings
    window_start: datetime
    scans: threading.BoundedSemaphore
    controller: TokenBucket | None
    capacity: CapacityHold | None
    on_finish: Callable[[TableOutcome, int], None] | None
    stop: threading.Event
    resume_since: datetime | None
    deadline: datetime | None  # the window's end: no table starts after it
    lease_lost: Callable[[], str | None] | None  # why this run's lease is not its own any more (None: it is)
    now: Callable[[], datetime]
    left: int
    aas: Any | None  # Application Auto Scaling, to record each table's scalable targets in its manifest
    lock: threading.Lock
    outcomes: list[TableOutcome]
    account: str | None = None  # every table of a night is in one account: read from the first ARN
    account_lock: threading.Lock = field(default_factory=threading.Lock)  # one lookup a night, whatever the lanes
    lease: LeaseLoss = field(init=False)  # once the lease is known lost, no table starts

    def __post_init__(self) -> None:
        self.lease = LeaseLoss(self.lease_lost)

    def lease_gone(self) -> str | None:
        """Why no table may start any more for the lease's sake (LeaseLoss)."""
        return self.lease.gone()

    def settings_for(self, table: LaneTable) -> ScanSettings:
        workers = 1 if table.size_bytes <= SMALL_TABLE_BYTES else self.base.workers
        changes: dict[str, Any] = {"workers": workers, "segments": None if workers > 1 else 1}
        # A refused boost caps the table's share at the host's (see plan_document.read_share).
        changes["read_percentage"] = table.share(self.base.read_percentage)
        # The plan's share applies to the boosted capacity; of the table's own, the host's share at most.
        changes["original_share"] = self.base.read_percentage
        if table.read_units_per_second:
            changes["on_demand_read_units"] = float(table.read_units_per_second)
        return replace(self.base, **changes)

    def run_lane(self, lane: list[LaneTable]) -> None:
        for table in lane:
            outcome = self.run_table(table)
            with self.lock:
                self.outcomes.append(outcome)
                self.left -= 1
                left = self.left
            if self.on_finish:
                self.on_finish(outcome, left)

    def run_table(self, table: LaneTable) -> TableOutcome:
        planned_start, planned_end = planned_times(self.window_start, table.start_offset_s, table.duration_s)
        outcome = TableOutcome(name=table.name, engine="local", status="failed", lane=table.lane,
                               planned_start=planned_start, planned_end=planned_end)
        if self.stop.is_set():
            outcome.error = "not started: the run was stopped"
            return outcome
        with self.scans:
            if self.resume_since and self.keep_earlier(table, outcome):
                return outcome
            if self.deadline is not None and self.now() >= self.deadline:
                outcome.status, outcome.error = "not run", f"not started: the window closed at {self.deadline}"
                return outcome
            lost = self.lease_gone()
            if lost:
                outcome.status, outcome.error = "not run", f"not started: the run's {lost}"
                return outcome
            outcome.started_at = self.now().isoformat()
            try:
                hold = self.capacity(table) if self.capacity and table.boost_target else nullcontext(False)
                with hold as boosted:
                    outcome.boosted = bool(boosted)
                    refused = bool(table.boost_target) and not boosted
                    settings = self.settings_for(replace(table, boost_refused=refused))
                    # What the plan read is used unless a boost (its capacity record a tag) came since.
                    result = backup_table(self.ddb, self.store, table.name, self.region, settings,
                                          controller=self.controller, stop=self.stop, aas=self.aas,
                                          known=None if table.boost_target else table.facts)
            except HippolyteError as exc:  # one table's failure is reported, the night goes on
                outcome.error = str(exc)
            except Exception as exc:
                outcome.error = f"{type(exc).__name__}: {exc}"
            else:
                outcome.status, outcome.backup_url = "ok", result.url
                outcome.record(result.manifest, f"{result.url}/{manifest_file.MANIFEST_NAME}")
                outcome.read_units_consumed = round(result.read_units_consumed, 2)
            outcome.finished_at = self.now().isoformat()
        return outcome

    def keep_earlier(self, table: LaneTable, outcome: TableOutcome) -> bool:
        """Keep the table's backup from earlier tonight (`earlier_backup`) as this night's. False when there is
        none, or when the table cannot be looked at (the backup then says why)."""
        if not self.base.night_id or not self.resume_since:
            return False
        try:
            with self.account_lock:
                if self.account is None:  # an account given explicitly needs no table ARN
                    arn = None if self.base.account_id else describe_table(self.ddb, table.name).get("TableArn")
                    self.account = account_of(arn, self.base.account_id)
            found = earlier_backup(self.store, self.region, self.account, table.name, self.base.night_id,
                                   self.resume_since, utc_now())
        except HippolyteError:
            return False
        if found is None:
            return False
        ref, doc = found
        url = url_under(self.store.url, ref.folder, manifest_file.MANIFEST_NAME)
        outcome.status, outcome.resumed, outcome.backup_url = "ok", True, url.rsplit("/", 1)[0]
        outcome.record(doc, url)
        outcome.started_at, outcome.finished_at = doc["started"], doc["finished"]
        return True


def earlier_backup(store: BackupStore, region: str, account: str, table: str, night_id: str, since: datetime,
                   now: datetime) -> tuple[BackupRef, dict[str, Any]] | None:
    """The backup a rerun of the night keeps instead of reading the table again: the newest intact one an earlier
    run of this very night wrote (its manifest's origin names `night_id`), taken since `since` (the window's
    opening) and not dated after `now`. Never an import, a folder of unknown origin or a future-dated one."""
    done = [r for r in list_backups(store, table, region, account)
            if r.complete and since <= r.taken_at and not is_future(r.taken_at, now)]
    for ref in reversed(done):
        doc, _error = read_manifest(store, ref)
        if doc is not None and manifest_file.origin_of(doc)["kind"] == manifest_file.NIGHT \
                and manifest_file.origin_of(doc)["night"] == night_id:
            return ref, doc
    return None


def lanes_to_run(ddb: Any, store: BackupStore, region: str, plan: PlanDocument, account_id: str | None = None,
                 resume: bool = False) -> tuple[list[list[LaneTable]], list[str]]:
    """What a run of the plan would do, read without writing (check mode): the lanes with only the tables it would
    back up, and the tables it would keep from earlier tonight (with `resume`, the rule of `earlier_backup`).
    A table that cannot be looked at would be backed up, as in a real run."""
    lanes = local_lanes(plan)
    night_id = plan.night.id if plan.night else None
    if not resume or not night_id or not any(lanes):
        return lanes, []
    opens, _start, _deadline = plan.schedule()
    now = utc_now()
    account: str | None = None
    kept: list[str] = []
    for lane in lanes:
        for table in lane:
            try:
                if account is None:  # as in a real run: an account given explicitly needs no table ARN
                    account = account_of(None if account_id else describe_table(ddb, table.name).get("TableArn"),
                                         account_id)
                if earlier_backup(store, region, account, table.name, night_id, opens, now) is not None:
                    kept.append(table.name)
            except HippolyteError:
                pass  # the real run would back it up, and its backup would say why
    return [[t for t in lane if t.name not in kept] for lane in lanes], kept


def run_lanes(ddb: Any, store: BackupStore, region: str, lanes: list[list[LaneTable]], base: ScanSettings,
              limits: ControllerLimits, window_start: datetime, capacity: CapacityHold | None = None,
              on_finish: Callable[[TableOutcome, int], None] | None = None,
              stop: threading.Event | None = None, resume_since: datetime | None = None,
              deadline: datetime | None = None, now: Callable[[], datetime] = utc_now,
              lease_lost: Callable[[], str | None] | None = None,
              aas: Any | None = None) -> list[TableOutcome]:
    """Back up every table of every lane, lanes side by side; one outcome per table, in finishing order.

    With `resume_since` (the window's opening), a table already backed up since then (an earlier run of the
    same night) is kept as it is, so a rerun backs up only what is missing. No table starts at or after
    `deadline` (by the clock `now`), nor once `lease_lost` names who took the run's lease: each left is `not run`."""
    cap_malloc_arenas()
    base.validate()
    limits.validate()
    store.check_writable()
    night = _Night(ddb=ddb, store=store, region=region, base=base, window_start=window_start,
                   scans=threading.BoundedSemaphore(limits.max_scans),
                   controller=(TokenBucket(limits.read_units_per_second, burst=limits.read_units_per_second * 0.2)
                               if limits.read_units_per_second else None),
                   capacity=capacity, on_finish=on_finish, stop=stop or threading.Event(),
                   resume_since=resume_since, deadline=deadline, lease_lost=lease_lost, now=now,
                   left=sum(len(lane) for lane in lanes), lock=threading.Lock(), outcomes=[], aas=aas)
    threads = [threading.Thread(target=night.run_lane, args=(lane,), name=f"lane-{n}", daemon=True)
               for n, lane in enumerate(lanes) if lane]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return night.outcomes


def progress_line(outcome: TableOutcome, left: int, deadline: datetime | None, now: datetime | None = None) -> str:
    """One line per finished table: what an operator tailing the progress file reads."""
    now = now or utc_now()
    seconds = ""
    if outcome.started_at and outcome.finished_at:
        took = (parse_instant(outcome.finished_at, "finished_at")
                - parse_instant(outcome.started_at, "started_at"))
        seconds = f" in {took.total_seconds():.0f} s"
    window = f", window left {max(0, int((deadline - now).total_seconds()))} s" if deadline else ""
    state = (f"{outcome.items} items{seconds}" if outcome.status == "ok" else
             f"NOT RUN: {outcome.error}" if outcome.status == "not run" else f"FAILED: {outcome.error}")
    return f"{now.isoformat()} {outcome.name} [{outcome.lane}] {state}; {left} table(s) left{window}"


def run_plan(ddb: Any, aas: Any | None, store: BackupStore, region: str, plan: PlanDocument, base: ScanSettings,
             limits: ControllerLimits, capacity: CapacitySettings, progress_path: str | None = None,
             stop: threading.Event | None = None, resume: bool = False,
             now: Callable[[], datetime] = utc_now, lease_lost: Callable[[], str | None] | None = None
             ) -> dict[str, Any]:
    """Back up the plan's local lanes until the window's end; the module's result (per-table outcomes,
    failures, tables not run, overruns)."""
    lanes = local_lanes(plan)
    opens, window_start, deadline = plan.schedule()
    base = replace(base, night_id=plan.night.id if plan.night else None)  # recorded in each backup's origin
    problems: list[str] = []
    clock = time.monotonic()

    if capacity.hold_s is None:  # a boost is this run's until the window closes, with an hour's margin
        capacity = replace(capacity, hold_s=max(0.0, (deadline - now()).total_seconds()) + 3600)

    def hold(table: LaneTable) -> AbstractContextManager[bool]:
        return boosted_while(ddb, aas, table.name, Targets(read=table.boost_target), capacity, problems)

    def report(outcome: TableOutcome, left: int) -> None:
        if progress_path:
            line = progress_line(outcome, left, deadline, now()) + "\n"
            # Owner-only, like the backups it describes; appended so `tail -f` follows the night.
            descriptor = os.open(progress_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(descriptor, "a", encoding="utf-8") as log:
                log.write(line)

    lost: list[str] = []  # who took the lease, once known

    def lease_check() -> str | None:
        why = lease_lost() if lease_lost else None
        if why:
            lost.append(why)
        return why

    outcomes = run_lanes(ddb, store, region, lanes, base, limits, window_start, hold, report, stop,
                         opens if resume else None, deadline, now, lease_check if lease_lost else None, aas)
    failed = failed_names(outcomes)
    late = [o.name for o in outcomes if o.finished_at and parse_instant(o.finished_at, "finished_at") > deadline]
    return {"tables": [o.to_result() for o in outcomes], "failed_tables": failed, "capacity_notes": problems,
            "not_run": [o.name for o in outcomes if o.status == "not run"],
            "lease_lost": lost[0] if lost else None,
            "deadline": deadline.isoformat(), "overran": late, "duration_s": round(time.monotonic() - clock, 3),
            "item_count": sum(o.items for o in outcomes), "byte_count": sum(o.bytes for o in outcomes),
            "lanes": len(lanes), "resumed": [o.name for o in outcomes if o.resumed]}


# Said when a run learns its lease was taken over while its lanes ran (backup_lease says it too).
TWICE = "tables started after that may have been backed up twice"


@dataclass(frozen=True)
class LanesRequest:
    """What dynamodb_scan_backup's `plan` runs: the plan as registered, and the options that shape the night."""

    plan: Any
    region: str
    settings: ScanSettings
    max_scans: int | None = None
    read_units_per_second: float | None = None
    progress_path: str | None = None
    resume: bool = False
    account_id: str | None = None
    run_id: str | None = None


def run_lanes_task(request: LanesRequest, ddb: Any, aas: Any | None, store: BackupStore, *, check_mode: bool = False,
                   diff: bool = False, stop: threading.Event | None = None,
                   lease_lost: Callable[[], str | None] | None = None) -> EngineAnswer:
    """Every local lane of the plan in one call (the night's in-process backups), or in check mode what it would
    write. `aas` is Application Auto Scaling (None: scalable targets left alone)."""
    plan = PlanDocument.from_json(request.plan)
    limits = controller_limits(plan, request.max_scans, request.read_units_per_second)
    if check_mode:
        # The same rule as a real run decides which tables a rerun of the night keeps: only the others would be
        # written, so only they make a change.
        lanes, kept = lanes_to_run(ddb, store, request.region, plan, request.account_id, request.resume)
        written = sum(len(lane) for lane in lanes)
        result: dict[str, Any] = dict(
            changed=written > 0, tables=[], failed_tables=[], not_run=[], capacity_notes=[], overran=[],
            lease_lost=None, resumed=kept,
            msg=f"would back up {written} of {written + len(kept)} table(s) ({len(kept)} kept from earlier tonight)")
        if diff:
            result["diff"] = lanes_diff(ddb, aas, store, request, lanes)
        return EngineAnswer(False, result)
    capacity = CapacitySettings(run_id=request.run_id)
    result = run_plan(ddb, aas, store, request.region, plan, request.settings, limits, capacity,
                      request.progress_path, stop, request.resume, lease_lost=lease_lost)
    written = len(result["tables"]) - len(result["failed_tables"]) - len(result["not_run"]) - len(result["resumed"])
    msg = f"backed up {written} of {len(result['tables'])} table(s) in {result['lanes']} lane(s)"
    if result["resumed"]:
        msg += f"; {len(result['resumed'])} kept from earlier in the window"
    if result["overran"]:
        msg += f"; {len(result['overran'])} finished after the window closed at {result['deadline']}"
    if result["lease_lost"]:
        msg += f"; this run's {result['lease_lost']}: {TWICE}"
    if result["not_run"]:
        why = "the lease lost" if result["lease_lost"] else f"the window closed at {result['deadline']}"
        msg += f"; not run, {why}: {', '.join(result['not_run'])}"
    if result["failed_tables"]:
        msg += f"; failed: {', '.join(result['failed_tables'])}"
    if result["failed_tables"] or result["not_run"]:
        return EngineAnswer(True, dict(result, msg=msg, changed=True))
    # Only a table backed up now wrote anything (and only it held a boost): a rerun that kept every table from
    # earlier in the window changed nothing.
    return EngineAnswer(False, dict(result, msg=msg, changed=written > 0))


def lanes_diff(ddb: Any, aas: Any | None, store: BackupStore, request: LanesRequest,
               lanes: list[list[LaneTable]]) -> dict[str, Any]:
    """What the night would write, for --diff: a backup of each table under the destination, and the boost
    each would hold while it is read (its capacity read now; nothing is written)."""
    boosts = [(t.name, Targets(read=t.boost_target)) for lane in lanes for t in lane if t.boost_target]
    capacity = boost_preview(ddb, aas, boosts, CapacitySettings(run_id=request.run_id))
    tables = [t for lane in lanes for t in lane]
    now = utc_now()
    account = account_of(describe_table(ddb, tables[0].name).get("TableArn"), request.account_id) if tables else ""
    backups = {t.name: f"{url_under(store.url, backup_folder(account, request.region, t.name, now))} (lane {t.lane})"
               for t in tables}
    return {"before": {"backups": {}, "capacity": capacity["before"]},
            "after": {"backups": backups, "capacity": capacity["after"]}}
