"""What backup_increment does with its options: the incremental exports a cron run asks for, picked up, recorded.

`increment_settings` checks the options before any AWS call; `IncrementTask` is the run as a
`cluster_engine.ClusterTask` whose engine is the export engine's `ExportRun` (each plan one window of one table):
start the windows due (and pick up those asked for earlier), watch them, write each completed one's manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.increment_windows import parse_every
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import (
    EngineAnswer,
    EngineClients,
    RunsAnEngine,
    Watched,
    Watching,
    run_task,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.increment_plan import plan_increments
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.native_export import (
    ExportRun,
    ExportSettings,
)

RUN_ID = "increments"  # with the table and the window's start, each export's ClientToken


@dataclass(frozen=True)
class IncrementRequest:
    """backup_increment's options, checked."""

    tables: list[str]
    every: timedelta
    max_windows: int
    account_id: str | None
    maximum_retries: int
    watching: Watching


def increment_settings(options: Mapping[str, Any]) -> IncrementRequest:
    """backup_increment's options as an IncrementRequest; raises InputError naming the first bad one. No AWS call."""
    watching = Watching.from_options(options)
    if options["max_windows"] < 1:
        raise InputError("max_windows", f"must be at least 1, got {options['max_windows']}",
                         "use 96 (a day of 15-minute windows)")
    if options["maximum_retries"] < 0:
        raise InputError("maximum_retries", f"must be 0 or more, got {options['maximum_retries']}")
    return IncrementRequest(list(options["tables"]), parse_every(options["every"]), options["max_windows"],
                            options["account_id"], options["maximum_retries"], watching)


class IncrementTask(RunsAnEngine[ExportRun]):
    """A cron run's incremental exports, ready to run. Made with read calls only."""

    def __init__(self, request: IncrementRequest, clients: EngineClients,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.ddb, self.store, self.now = clients.client("dynamodb"), clients.store(), now
        self.watching = request.watching
        self.tables = plan_increments(self.ddb, self.store, request.tables, clients.region, request.every,
                                      request.max_windows, request.account_id, now())
        self.plans = [plan for table in self.tables for plan in table.plans]
        self.run = ExportRun(self.ddb, self.store, self.plans,
                             ExportSettings(run_id=RUN_ID, maximum_retries=request.maximum_retries))

    def preview(self) -> EngineAnswer:
        return EngineAnswer(False, self._facts(
            changed=bool(self.plans),
            msg=f"would ask for or pick up {len(self.plans)} incremental export(s) (check mode: nothing started)"))

    def ended(self, outcomes: list[TableOutcome]) -> None:
        """An export reads no capacity: nothing to put back."""

    def answer(self, watched: Watched) -> EngineAnswer:
        failed = [p for p in self.plans if p.status == "FAILED"]
        running = [p for p in self.plans if p.manifest is None and p.status != "FAILED"]
        changed = any(p.started or p.wrote_manifest for p in self.plans)
        done = len(self.plans) - len(failed) - len(running)
        msg = f"{done} of {len(self.plans)} incremental export(s) recorded"
        if failed:
            msg += "; failed: " + "; ".join(f"{_name(p)} ({p.failure})" for p in failed)
        if running:
            msg += f"; {len(running)} still running (the next run picks them up)"
        return EngineAnswer(bool(failed) or (self.watching.wait and bool(running)),
                            self._facts(changed=changed, msg=msg))

    def _facts(self, **facts: Any) -> dict[str, Any]:
        now = self.now()
        return {**facts, "increments": [plan.result() for plan in self.plans],
                "recovery_points": [table.view(now) for table in self.tables]}


def _name(plan: Any) -> str:
    return f"{plan.table} {plan.window.start.isoformat()}..{plan.window.end.isoformat()}"


def run_increments(options: Mapping[str, Any], clients: EngineClients, check_mode: bool,
                   now: Callable[[], datetime] = utc_now) -> EngineAnswer:
    """backup_increment: every option checked first, then preview or run the exports due."""
    clients.destination()  # asked first: a missing one fails before any AWS call
    return run_task(IncrementTask(increment_settings(options), clients, now), check_mode, clients, now)
