"""The one interface of the engines that run outside the controller (export, EMR, Data Pipeline).

An engine run is `start()` (create or find its work, idempotent on the run id), `poll()` (every table's
`TableOutcome` now, recording the manifest of each table that finished since the last poll) and
`finish()` (clean up once every table is done). `watch` drives any of them the same way: start, poll
until done or the deadline, finish; `engine_result` turns the outcomes into the module's result, so
every engine module returns `tables`, `failed_tables` and `done` and fails for the same reasons.

A `ClusterTask` is one engine's work for one call, ready to run: its options checked (each engine's
`*_settings`), its clients from an `EngineClients`. Every task is run the same way by `run_task`: settings ->
`preview()` in check mode, else start -> watch (each table handed to `ended` as it ends) -> `answer`.
A caller that runs several engines at once (a night's driver) holds their tasks and polls them itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError, error_code
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_instant
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome, failed_names
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlannedCluster
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore


class ClusterEngine(Protocol):
    def start(self) -> bool:
        """Create (or find) this run's work; True when something was created or activated."""

    def poll(self) -> list[TableOutcome]:
        """Every table's outcome now; a table that finished gets its manifest before it is reported ok."""

    def finish(self) -> bool:
        """Clean up once every table is done; True when something changed."""


class EngineClients(Protocol):
    """What an engine task gets from whoever runs it (a module, a night's driver): one account and region."""

    region: str

    def destination(self) -> str:
        """The backups' root URL; raises InputError when it is not set (asked before any AWS call)."""

    def client(self, service: str) -> Any:
        """A boto3 client of `service`, with the collection's retry policy."""

    def store(self) -> BackupStore:
        """The destination, opened (an S3 bucket is checked to belong to the expected owner)."""

    def watch_sleep(self) -> Callable[[float], None]:
        """The sleep between two polls; it raises once whoever asked for the work is gone."""


@dataclass(frozen=True)
class Watching:
    """How a task watches its engine (options wait, wait_timeout, deadline, poll_interval): until every table is
    done (`wait`; else one poll), at most until `deadline` or else `wait_timeout_s`, one poll every `poll_s`."""

    wait: bool
    wait_timeout_s: int
    poll_s: int
    deadline: str | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any], wait: bool | None = None) -> Watching:
        """From a module's options, checked; `wait` overrides the option (an engine that waits only when active)."""
        for name, least in (("wait_timeout", 0), ("poll_interval", 1)):
            if options[name] < least:
                raise InputError(name, f"must be at least {least}, got {options[name]}")
        if options["deadline"]:
            parse_instant(options["deadline"], "deadline")  # a bad deadline fails before any AWS call
        return cls(options["wait"] if wait is None else wait, options["wait_timeout"], options["poll_interval"],
                   options["deadline"])

    def timeout_s(self, now: datetime) -> float:
        return seconds_left(self.deadline, self.wait_timeout_s, now)


class Watched(NamedTuple):
    outcomes: list[TableOutcome]
    done: bool  # every table ended
    changed: bool
    timeout_s: float  # how long the watch was allowed


@dataclass(frozen=True)
class EngineAnswer:
    """A task's answer: the module result, and whether the task failed (then `result` has its `msg`)."""

    failed: bool
    result: dict[str, Any]


class ClusterTask(ClusterEngine, Protocol):
    """One engine's work, its options checked and its clients at hand (see the module docstring)."""

    watching: Watching

    def preview(self) -> EngineAnswer:
        """Check mode: what start would do, found with read calls only; nothing is created or written."""

    def ended(self, outcomes: list[TableOutcome]) -> None:
        """The tables that ended since the last poll (a boost goes back here, as soon as its table ends)."""

    def answer(self, watched: Watched) -> EngineAnswer:
        """The result of a watch."""


Engine = TypeVar("Engine", bound=ClusterEngine)


class RunsAnEngine(Generic[Engine]):
    """Base of a task whose start, poll and finish are those of its engine run, `run`."""

    run: Engine

    def start(self) -> bool:
        return self.run.start()

    def poll(self) -> list[TableOutcome]:
        return self.run.poll()

    def finish(self) -> bool:
        return self.run.finish()


def relaunch_cluster(cluster: PlannedCluster, tables: list[str], attempt: int) -> PlannedCluster:
    """The planned cluster for a relaunch of `tables`: a cluster of its own (`<id>-r<attempt>`, so the run's
    idempotent start does not find the dead one). Their boosts went back as they failed: they read at the host's
    share, as a refused boost does."""
    return replace(cluster, id=f"{cluster.id}-r{attempt}",
                   tables=tuple(t for t in cluster.tables if t.name in tables)).with_refused_boosts(tables)


def run_task(task: ClusterTask, check_mode: bool, clients: EngineClients, now: Callable[[], datetime] = utc_now,
             clock: Callable[[], float] = time.monotonic) -> EngineAnswer:
    """Run one task as every engine module does: its preview in check mode, else start, watch and answer."""
    if check_mode:
        return task.preview()
    timeout_s = task.watching.timeout_s(now())
    outcomes, done, changed = watch(task, task.watching.wait, timeout_s, task.watching.poll_s,
                                    sleep=clients.watch_sleep(), clock=clock, on_done=task.ended)
    return task.answer(Watched(outcomes, done, changed, timeout_s))


def seconds_left(deadline: str | None, timeout_s: float, now: datetime) -> float:
    """How long a watch may last: until `deadline` (read as every time is, see moments) when given, else
    `timeout_s`."""
    if not deadline:
        return timeout_s
    return max(0.0, (parse_instant(deadline, "deadline") - now).total_seconds())


# AWS answers that say "not now" (capacity, limits, throttling, a service hiccup), not "never".
RETRYABLE_START_CODES = ("ThrottlingException", "Throttling", "RequestLimitExceeded", "LimitExceededException",
                         "InternalServerError", "InternalFailure", "InternalServiceError", "ServiceUnavailable",
                         "InsufficientInstanceCapacity", "InsufficientCapacity", "500", "502", "503", "504")


def _start(engine: ClusterEngine, wait: bool, ends: float, poll_s: float, sleep: Callable[[float], None],
           clock: Callable[[], float]) -> bool:
    """engine.start(); while watching (`wait`), a start AWS refuses for now is tried again every `poll_s` until
    the deadline, since a cluster that starts late still backs up what it can. Without `wait` (the role's
    first call, which must not hold up the local engine) the refusal is reported and the watch tries again."""
    while True:
        try:
            return engine.start()
        except Exception as exc:
            if not wait or error_code(exc) not in RETRYABLE_START_CODES or clock() + poll_s >= ends:
                raise
        sleep(poll_s)


def watch(engine: ClusterEngine, wait: bool, timeout_s: float, poll_s: float,
          sleep: Callable[[float], None] = time.sleep,
          clock: Callable[[], float] = time.monotonic,
          on_done: Callable[[list[TableOutcome]], None] | None = None) -> tuple[list[TableOutcome], bool, bool]:
    """Start, then poll until every table is done (or once without `wait`, or until `timeout_s` passes);
    finish when done. Returns (outcomes, all done, changed).

    `on_done` gets the tables that ended (ok or failed) since the last poll, as soon as a poll sees them:
    a boost is put back when its table's step ends, not when the whole cluster does."""
    ends = clock() + timeout_s
    changed = _start(engine, wait, ends, poll_s, sleep, clock)
    ended: set[str] = set()
    while True:
        outcomes = engine.poll()
        done = all(o.done for o in outcomes)
        newly = [o for o in outcomes if o.done and o.name not in ended]
        if newly and on_done:
            on_done(newly)
        ended.update(o.name for o in newly)
        if done or not wait or clock() >= ends:
            break
        sleep(max(0.0, min(poll_s, ends - clock())))
    if done:
        changed = engine.finish() or changed
    return outcomes, done, changed


def engine_result(outcomes: list[TableOutcome], done: bool, wait: bool, timeout_s: float, what: str,
                  **facts: Any) -> tuple[bool, dict[str, Any]]:
    """(failed, module result): a task fails when a table failed, or when it waited and time ran out."""
    failed = failed_names(outcomes)
    running = [o.name for o in outcomes if not o.done]
    result = {**facts, "tables": [o.to_result() for o in outcomes], "failed_tables": failed, "done": done}
    if failed:
        return True, {**result, "msg": f"{what}: backup failed for {len(failed)} table(s): "
                      + "; ".join(f"{o.name} ({o.error or o.engine_state})" for o in outcomes if o.status == "failed")}
    if wait and running:
        return True, {**result, "msg": f"{what}: {', '.join(running)} still running after {int(timeout_s)} s; "
                      "they go on in AWS: run again with the same run_id to pick them up"}
    ok = len(outcomes) - len(running)
    return False, {**result, "msg": f"{what}: {ok} of {len(outcomes)} table(s) backed up"
                   + (f", {len(running)} still running" if running else "")}
