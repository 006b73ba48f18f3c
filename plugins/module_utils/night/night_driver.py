"""The night's one driver: the local lanes and every cluster engine run side by side and are watched together.

`drive_night` starts every cluster task (`cluster_engine.ClusterTask`), runs the local lanes in a background thread,
and polls every cluster once a round, one poll interval apart, until all are done or the deadline:

- each table is handed to its task's `ended()` on the first poll that sees it end, so its boost goes back within
  one poll interval of its step's end, whatever else still runs (the local lanes, other clusters);
- a cluster that ends (fails, or dies) with tables unfinished is relaunched for just those tables through its
  `relaunch`, while the window leaves room for them (the cluster's bootstrap plus their planned durations, steps
  running one after another), at most `relaunch_limit` times; each relaunch, and each one the window had no room
  for, is reported with its reason;
- at the deadline nothing new starts (the local lanes stop starting tables themselves, by the same deadline), and
  every table still running on a cluster is handed to `ended()`, so every boost the night holds goes back;
- once the run's lease is known lost (`lease_lost`, asked before each start or relaunch, as the local lanes ask it
  before each table), no cluster starts any more: another run took the lease over and may run the same night.

The result is every table's last outcome, each task's answer (the engine module's result), the local lanes'
result and the relaunches. No Ansible here; the clock and the sleep are injected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import error_code
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.lease_loss import LeaseLoss
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome, failed_names
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import (
    RETRYABLE_START_CODES,
    ClusterTask,
    EngineAnswer,
    Watched,
)

# A new task for just the named tables of a cluster that ended with them unfinished; its argument is the attempt
# (1 for the first relaunch), so that each relaunch is a cluster of its own.
Relaunch = Callable[[list[str], int], ClusterTask]
LocalLanes = Callable[[], dict[str, Any]]  # the local lanes' run (local_lanes.run_plan), its result


@dataclass(frozen=True)
class NightCluster:
    """One cluster engine's work for the night, and what relaunching it needs."""

    name: str  # the planned cluster's id (or the engine's, for the exports)
    task: ClusterTask
    tables: Mapping[str, float]  # every table of the cluster, in planned order: its planned duration
    bootstrap_s: float = 0.0  # how long a new cluster takes before its first table
    relaunch: Relaunch | None = None  # None: this engine is not relaunched (an export ends on its own)


@dataclass(frozen=True)
class Relaunched:
    """A cluster that ended with tables unfinished: relaunched for them, or not (`relaunched`), and why."""

    cluster: str
    attempt: int
    tables: list[str]
    reason: str
    relaunched: bool

    def to_result(self) -> dict[str, Any]:
        return {"cluster": self.cluster, "attempt": self.attempt, "tables": list(self.tables), "reason": self.reason,
                "relaunched": self.relaunched}


@dataclass
class NightRun:
    """What the night did: every cluster table's last outcome, each task's answer (relaunched ones included),
    the local lanes' result (or why they failed) and the relaunches."""

    outcomes: list[TableOutcome]
    answers: list[EngineAnswer]
    relaunches: list[Relaunched]
    local: dict[str, Any] | None
    local_error: str | None
    done: bool  # every cluster table ended before the deadline
    put_back_at_deadline: list[str]  # tables still running on a cluster when the window closed
    notes: list[str]
    by_cluster: dict[str, list[EngineAnswer]] = field(default_factory=dict)  # each cluster's answers, relaunches last

    def tables(self) -> list[dict[str, Any]]:
        """Every table's outcome as a result: the local lanes' then the clusters'."""
        return [*((self.local or {}).get("tables") or []), *(o.to_result() for o in self.outcomes)]


@dataclass
class _Cluster:
    """One cluster while the night watches it: its current task (the last relaunch) and its tables' outcomes."""

    planned: NightCluster
    task: ClusterTask
    current: list[str]  # the tables its current task runs (all of them, then those relaunched)
    outcomes: dict[str, TableOutcome] = field(default_factory=dict)  # every table's last
    handed_on: set[str] = field(default_factory=set)  # tables given to the current task's ended()
    started: bool = False
    changed: bool = False
    done: bool = False
    attempts: int = 0


class _Night:
    def __init__(self, deadline: datetime, relaunch_limit: int, now: Callable[[], datetime],
                 lease_lost: Callable[[], str | None] | None) -> None:
        self.deadline, self.relaunch_limit, self.now = deadline, relaunch_limit, now
        self.lease = LeaseLoss(lease_lost)  # once known, who took the lease: nothing starts any more
        self.opened = now()
        self.answers: list[EngineAnswer] = []
        self.by_cluster: dict[str, list[EngineAnswer]] = {}
        self.relaunches: list[Relaunched] = []
        self.notes: list[str] = []

    def answered(self, cluster: _Cluster, answer: EngineAnswer) -> None:
        self.answers.append(answer)
        self.by_cluster.setdefault(cluster.planned.name, []).append(answer)

    def left_s(self) -> float:
        return (self.deadline - self.now()).total_seconds()

    def lease_gone(self) -> str | None:
        """Why nothing may start any more for the lease's sake (LeaseLoss)."""
        return self.lease.gone()

    def start(self, cluster: _Cluster) -> None:
        """Start its task; AWS saying "not now" is tried again next round, anything else ends the cluster's tables."""
        lost = self.lease_gone()
        if lost:
            self.ended(cluster, [TableOutcome(name, "", "not run", error=f"not started: the run's {lost}",
                                              lane=cluster.planned.name) for name in cluster.current],
                       all_done=True)
            return
        try:
            cluster.changed = cluster.task.start() or cluster.changed
            cluster.started = True
        except Exception as exc:
            if error_code(exc) in RETRYABLE_START_CODES:
                self.notes.append(f"{cluster.planned.name}: start refused for now ({exc}); tried again next round")
                return
            failed = [TableOutcome(name, "", "failed", error=f"the cluster did not start: {exc}",
                                   lane=cluster.planned.name) for name in cluster.current]
            self.ended(cluster, failed, all_done=True)

    def poll(self, cluster: _Cluster) -> None:
        try:
            outcomes = cluster.task.poll()
        except Exception as exc:  # one poll AWS did not answer is not the end of the cluster
            self.notes.append(f"{cluster.planned.name}: poll failed ({exc}); polled again next round")
            return
        for o in outcomes:
            cluster.outcomes[o.name] = o
        newly = [o for o in outcomes if o.done and o.name not in cluster.handed_on]
        self.ended(cluster, newly, all_done=all(o.done for o in outcomes))

    def ended(self, cluster: _Cluster, newly: list[TableOutcome], all_done: bool) -> None:
        """Hand the tables that ended to the task (their boosts go back now); a task whose tables all ended is
        finished, then relaunched for its failed tables when it may be."""
        for o in newly:
            cluster.outcomes[o.name] = o
        if newly:
            cluster.task.ended(newly)
            cluster.handed_on.update(o.name for o in newly)
        if not all_done:
            return
        if cluster.started:
            cluster.changed = cluster.task.finish() or cluster.changed
        outcomes = [cluster.outcomes[name] for name in cluster.current]
        self.answered(cluster, cluster.task.answer(Watched(outcomes, True, cluster.changed, self.window_s())))
        cluster.done = True
        unfinished = failed_names(outcomes)
        if unfinished and cluster.planned.relaunch is not None:
            self.relaunch(cluster, cluster.planned.relaunch, unfinished)

    def window_s(self) -> float:
        return max(0.0, (self.deadline - self.opened).total_seconds())

    def relaunch(self, cluster: _Cluster, relaunch: Relaunch, tables: list[str]) -> None:
        planned = cluster.planned
        reason = "; ".join(f"{name}: {cluster.outcomes[name].error or cluster.outcomes[name].engine_state}"
                           for name in tables)
        needed = planned.bootstrap_s + sum(planned.tables.get(name, 0.0) for name in tables)
        left = self.left_s()
        attempt = cluster.attempts + 1
        lost = self.lease_gone()
        if lost:
            why = f"not relaunched: the run's {lost}; {reason}"
        elif cluster.attempts >= self.relaunch_limit:
            why = f"not relaunched: {self.relaunch_limit} relaunch(es) already; {reason}"
        elif needed > left:
            why = f"not relaunched: needs {needed:.0f} s, the window has {max(0.0, left):.0f} s left; {reason}"
        else:
            self.relaunches.append(Relaunched(planned.name, attempt, tables, reason, True))
            for name in tables:  # running again, until the new task's first poll says otherwise
                cluster.outcomes[name] = replace(cluster.outcomes[name], status="running", engine_state="RELAUNCHED")
            cluster.task, cluster.attempts, cluster.current = relaunch(tables, attempt), attempt, list(tables)
            cluster.handed_on -= set(tables)
            cluster.started = cluster.changed = cluster.done = False
            self.start(cluster)
            return
        self.relaunches.append(Relaunched(planned.name, attempt, tables, why, False))


def drive_night(clusters: list[NightCluster], local: LocalLanes | None, deadline: datetime, poll_s: float,
                now: Callable[[], datetime] = utc_now, sleep: Callable[[float], None] = time.sleep,
                relaunch_limit: int = 2, lease_lost: Callable[[], str | None] | None = None) -> NightRun:
    """Run the night: local lanes in a thread, every cluster polled each round until done or `deadline`.
    `lease_lost` says why the run's lease is not its own any more (None: it is)."""
    night = _Night(deadline, relaunch_limit, now, lease_lost)
    local_result: dict[str, Any] = {}
    local_errors: list[str] = []

    def run_local() -> None:
        try:
            if local is not None:
                local_result.update(local())
        except Exception as exc:  # reported with the night's result, after every boost is back
            local_errors.append(f"{type(exc).__name__}: {exc}")

    lanes = threading.Thread(target=run_local, name="local-lanes", daemon=True)
    lanes.start()
    watched = [_Cluster(c, c.task, list(c.tables)) for c in clusters]
    while True:
        for cluster in watched:
            if cluster.done:
                continue
            if not cluster.started:
                night.start(cluster)
            if cluster.started:
                night.poll(cluster)
        if all(c.done for c in watched) or night.left_s() <= 0:
            break
        sleep(max(0.0, min(poll_s, night.left_s())))
    put_back = _close(night, [c for c in watched if not c.done])
    lanes.join()
    outcomes = [o for c in watched for o in c.outcomes.values()]
    return NightRun(outcomes, night.answers, night.relaunches, local_result if local is not None else None,
                    local_errors[0] if local_errors else None, all(c.done for c in watched), put_back, night.notes,
                    night.by_cluster)


def _close(night: _Night, running: list[_Cluster]) -> list[str]:
    """The window closed: every table still on a cluster is handed on (its boost goes back; the cluster goes on in
    AWS, and a rerun of the night picks it up); each task answers. Returns those tables."""
    put_back: list[str] = []
    for cluster in running:
        for name in cluster.current:  # not started, or no poll answered: its tables' boosts were raised too
            if not cluster.started:
                cluster.outcomes[name] = TableOutcome(name, "", "not run", lane=cluster.planned.name,
                                                      error="the window closed before its cluster started")
            cluster.outcomes.setdefault(name, TableOutcome(name, "", "running", lane=cluster.planned.name,
                                                           error="no poll answered before the window closed"))
        left = [cluster.outcomes[name] for name in cluster.current if not cluster.outcomes[name].done]
        if left:
            cluster.task.ended(left)
            put_back += [o.name for o in left]
        night.answered(cluster, cluster.task.answer(
            Watched([cluster.outcomes[name] for name in cluster.current], False, cluster.changed, night.window_s())))
    return put_back
