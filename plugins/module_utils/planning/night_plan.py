"""Tonight's plan, as dynamodb_backup_plan makes it: the options checked, the night and its window scheduled
(sleeping until the window opens when asked to wait), the tables found and planned, and the plan file and its
report written when their content changed.

No Ansible here: the module passes its options as a `PlanRequest` and its AWS clients as `PlanClients`
(made only when a call needs them: a plan of given tables calls nothing), and the clock and sleep to use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_instant
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.waiting import sleep_until
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import (
    Night,
    PlanDocument,
    Unplannable,
    WindowTimes,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.window import Window
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.private_files import write_private
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import (
    PlanSettings,
    model_from_dict,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_report import gantt_svg, markdown
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import table_from_descriptor
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.planner import plan_backups
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.request_model import measured_round_trip_s
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.table_discovery import (
    discover,
    select,
    usable_cluster_engine,
    validate_patterns,
)

LIMIT_KEYS = ("table_max_rcu", "account_max_rcu")
DEFAULT_WINDOW = {"start": "00:00", "end": "07:00", "timezone": "UTC"}


@dataclass(frozen=True)
class PlanRequest:
    """The plan module's options (docs/planning.md)."""

    include: list[str] = field(default_factory=lambda: ["*"])
    exclude: list[str] = field(default_factory=list)
    tables: list[Any] | None = None  # given tables: a what-if without AWS
    starts_at: str | None = None
    outside_window: str = "next"
    window: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_WINDOW))
    engine: str = "auto"
    read_percentage: float = 0.5
    consistent_read: bool = False
    max_objects: int = 100
    model: dict[str, Any] = field(default_factory=dict)
    workers: int = 16
    plan_path: str | None = None
    report_path: str | None = None
    check_mode: bool = False


@dataclass(frozen=True)
class PlanClients:
    """Makes each AWS client on first need; `dynamodb` takes the pool size (concurrent describe calls)."""

    dynamodb: Callable[[int], Any]
    autoscaling: Callable[[], Any]
    datapipeline: Callable[[], Any]


@dataclass(frozen=True)
class PlanOutcome:
    """The scheduled plan, its Markdown report, the files written (or that would be) and whether any changed."""

    document: PlanDocument
    report: str
    files: dict[str, str]
    changed: bool

    def result(self) -> dict[str, Any]:
        """The module's result: the plan's keys, its warnings under their own name (Ansible owns a result's
        `warnings`), the report, the files and a one-line message."""
        plan = self.document.to_json()
        plan_warnings = plan.pop("warnings")
        planned = sum(plan["engine_counts"].values())
        return dict(plan, changed=self.changed, plan_warnings=plan_warnings, report_markdown=self.report,
                    **self.files,
                    msg=f"planned {planned} table(s) in {len(plan['clusters'])} cluster(s), "
                        f"{len(plan['unplannable'])} unplannable, {len(plan_warnings)} warning(s), "
                        f"estimated ${plan['estimated_cost_usd']:.2f}")


def settings_from(request: PlanRequest, now: datetime) -> tuple[datetime, datetime, PlanSettings]:
    """Every option checked, before any AWS call: (window opening, plan start, settings)."""
    outside = "next" if request.outside_window == "wait" else request.outside_window
    opens, starts_at, window_s = Window(**request.window).schedule(now, outside)
    settings = PlanSettings(window_s=window_s, engine=request.engine, read_percentage=request.read_percentage,
                            max_objects=request.max_objects, model=model_from_dict(request.model),
                            consistent_read=request.consistent_read)
    settings.validate()
    validate_patterns(request.include, request.exclude)
    if request.workers < 1:
        raise InputError("workers", f"must be at least 1, got {request.workers}", "16 suits most accounts")
    return opens, starts_at, settings


def plan_from(request: PlanRequest, clients: PlanClients, settings: PlanSettings) -> PlanDocument:
    """The given tables planned, or those discovery finds (with the account's limits and the measured round trip,
    unless the model pins them); discovery's warnings come first."""
    if request.tables is not None:
        tables = [table_from_descriptor(value, index) for index, value in enumerate(request.tables)]
        chosen = set(select([t.name for t in tables], request.include, request.exclude))
        return plan_backups([t for t in tables if t.name in chosen], settings).document()
    ddb = clients.dynamodb(request.workers)
    found = discover(ddb, clients.autoscaling(), request.include, request.exclude, request.workers)
    # The account's own limits, unless the user pinned them in the model.
    limits = {key: getattr(found, key) for key in LIMIT_KEYS if getattr(found, key) and key not in request.model}
    model_values = dict(request.model, **limits)
    if "request_latency_s" not in model_values:
        # The round trip every request of the night pays, timed on a call discovery already needs.
        model_values["request_latency_s"] = measured_round_trip_s(lambda: ddb.list_tables(Limit=1))
    settings = replace(settings, model=model_from_dict(model_values), account_rcu_in_use=found.account_rcu_in_use)
    document = plan_backups(found.tables, settings).document()
    found_out = tuple(Unplannable(**u) for u in found.unplannable)
    return replace(document, unplannable=tuple(sorted(document.unplannable + found_out, key=lambda u: u.name)),
                   warnings=(*found.warnings, *document.warnings))


def write_if_changed(path: str, text: str, check_mode: bool) -> bool:
    """True when the file's content differs (and, outside check mode, it has been replaced)."""
    target = Path(path)
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return False
    if not check_mode:
        write_private(target, text.encode("utf-8"))  # 0600: a plan names the account's tables
    return True


def plan_night(request: PlanRequest, clients: PlanClients, now: Callable[[], datetime] = utc_now,
               sleep: Callable[[float], None] = time.sleep) -> PlanOutcome:
    """Tonight's plan, scheduled in its window, with the plan file and report written when they changed."""
    if request.model.get("auto_cluster_engine") == "auto":
        request = replace(request, model=dict(request.model, auto_cluster_engine=usable_cluster_engine(
            clients.datapipeline())))
    # Whole seconds: the role reads `starts_at` with a seconds-only format, and a run started inside the
    # window starts its plan now.
    started = parse_instant(request.starts_at, "starts_at").replace(microsecond=0) if request.starts_at else now()
    opens, starts_at, settings = settings_from(request, started)
    if request.outside_window == "wait" and opens > started and not request.starts_at and not request.check_mode:
        # Planned at the opening, not hours before it: tables and capacities are read when the night starts.
        started = sleep_until(opens, now, sleep)  # it may have opened while planning: then at once
        opens, starts_at, settings = settings_from(request, started)
    night = opens.astimezone(UTC)  # every run inside one window (or before it opens) belongs to the same night
    window = WindowTimes(starts_at=starts_at.astimezone(UTC), opens_at=night, **request.window,
                         # A run that started while the window was closed and was planned from its start.
                         outside=request.outside_window == "now" and Window(**request.window).closed(started))
    document = replace(plan_from(request, clients, settings), night=Night.opening_at(night), window=window,
                       # Every engine stops watching when the window closes.
                       deadline=(starts_at + timedelta(seconds=settings.window_s)).astimezone(UTC))
    files: dict[str, str] = {}
    gantt_name = None
    if request.report_path:
        gantt = str(Path(request.report_path).with_suffix(".svg"))
        gantt_name = Path(gantt).name
        files.update(report_path=request.report_path, gantt_path=gantt)
    report = markdown(document, gantt_name)
    changed = False
    if request.plan_path:
        files["plan_path"] = request.plan_path
        changed |= write_if_changed(request.plan_path, json.dumps(document.to_json(), indent=2, sort_keys=True) + "\n",
                                    request.check_mode)
    if request.report_path:
        changed |= write_if_changed(files["report_path"], report, request.check_mode)
        changed |= write_if_changed(files["gantt_path"], gantt_svg(document), request.check_mode)
    return PlanOutcome(document, report, files, changed)
