"""What dynamodb_export does with its options: preview the exports (check mode) or run them.

`export_settings` checks the options before any AWS call; `ExportTask` is the run as a
`cluster_engine.ClusterTask` (start or pick up every table's export at the night's time, watch, record the
manifests, answer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_instant
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import (
    EngineAnswer,
    EngineClients,
    RunsAnEngine,
    Watched,
    Watching,
    engine_result,
    run_task,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.native_export import (
    ExportRun,
    ExportSettings,
    prepare,
)


@dataclass(frozen=True)
class ExportRequest:
    """dynamodb_export's options, checked."""

    tables: list[str]
    settings: ExportSettings
    watching: Watching


def export_settings(options: Mapping[str, Any]) -> ExportRequest:
    """dynamodb_export's options as an ExportRequest; raises InputError naming the first bad option. No AWS call."""
    watching = Watching.from_options(options)
    at = parse_instant(options["export_time"], "export_time") if options["export_time"] else None
    return ExportRequest(list(options["tables"]), ExportSettings(
        run_id=options["run_id"], export_time=at, account_id=options["account_id"],
        maximum_retries=options["maximum_retries"], clamp_export_time=options["clamp_export_time"]), watching)


class ExportTask(RunsAnEngine[ExportRun]):
    """A call's exports, ready to run (a `cluster_engine.ClusterTask`). Made with read calls only: every table
    described and its PITR window checked, the bucket checked writable; the export time fixed."""

    def __init__(self, request: ExportRequest, clients: EngineClients, now: Callable[[], datetime] = utc_now) -> None:
        self.ddb, self.store = clients.client("dynamodb"), clients.store()
        self.settings, self.watching = request.settings, request.watching
        self.plans = prepare(self.ddb, self.store, request.tables, clients.region, self.settings, now())
        self.at = self.settings.export_time.isoformat() if self.settings.export_time else ""
        self.run = ExportRun(self.ddb, self.store, self.plans, self.settings)

    def preview(self) -> EngineAnswer:
        return EngineAnswer(False, dict(
            changed=True, export_time=self.at, exports=[plan.result() for plan in self.plans],
            msg=f"would export {len(self.plans)} table(s) at {self.at} (check mode: nothing started)"))

    def ended(self, outcomes: list[TableOutcome]) -> None:
        """An export reads no capacity: nothing to put back."""

    def answer(self, watched: Watched) -> EngineAnswer:
        failed, result = engine_result(
            watched.outcomes, watched.done, self.watching.wait, watched.timeout_s, f"exports at {self.at}",
            changed=any(plan.started or plan.wrote_manifest for plan in self.plans), export_time=self.at,
            exports=[plan.result() for plan in self.plans])
        return EngineAnswer(failed, result)


def run_exports(options: Mapping[str, Any], clients: EngineClients, check_mode: bool,
                now: Callable[[], datetime] = utc_now) -> EngineAnswer:
    """dynamodb_export: every option checked first, then preview or run the exports."""
    clients.destination()  # asked first: a missing one fails before any AWS call
    return run_task(ExportTask(export_settings(options), clients, now), check_mode, clients, now)
