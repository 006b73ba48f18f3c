"""The one interface of the engines that run outside the controller (export, EMR, Data Pipeline).

An engine run is `start()` (create or find its work, idempotent on the run id), `poll()` (every table's
`TableOutcome` now, recording the manifest of each table that finished since the last poll) and
`finish()` (clean up once every table is done). `watch` drives any of them the same way: start, poll
until done or the deadline, finish; `engine_result` turns the outcomes into the module's result, so
every engine module returns `tables`, `failed_tables` and `done` and fails for the same reasons.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import error_code
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_instant
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome, failed_names


class ClusterEngine(Protocol):
    def start(self) -> bool:
        """Create (or find) this run's work; True when something was created or activated."""

    def poll(self) -> list[TableOutcome]:
        """Every table's outcome now; a table that finished gets its manifest before it is reported ok."""

    def finish(self) -> bool:
        """Clean up once every table is done; True when something changed."""


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
