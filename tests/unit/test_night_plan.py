"""Tonight's plan as the plan module makes it, on a controlled clock: waiting for the window, a run started outside
it, the night it belongs to, and the plan file and report written only when they change."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlanDocument
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.night_plan import (
    PlanClients,
    PlanRequest,
    plan_night,
)

TABLES = [{"name": "orders", "size_bytes": 2 * 1024**3, "rcu": 100}, {"name": "users", "size_bytes": 1024**2, "rcu": 5}]
WINDOW = {"start": "01:00", "end": "05:00", "timezone": "UTC"}


class Clock:
    """A clock that moves only when slept on."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)


def no_aws(*_args: Any) -> Any:
    raise AssertionError("a plan of given tables calls no AWS")


OFFLINE = PlanClients(dynamodb=no_aws, autoscaling=no_aws, datapipeline=no_aws)


def test_waiting_for_the_window_sleeps_until_it_opens_and_plans_from_then() -> None:
    clock = Clock(datetime(2026, 11, 22, 22, 30, tzinfo=UTC))
    outcome = plan_night(PlanRequest(tables=TABLES, window=WINDOW, outside_window="wait"), OFFLINE, clock.now,
                         clock.sleep)
    assert clock.slept == [2.5 * 3600]
    plan = outcome.document
    assert plan.window is not None and plan.night is not None
    opens = datetime(2026, 11, 23, 1, tzinfo=UTC)
    assert (plan.window.opens_at, plan.window.starts_at, plan.deadline) == (opens, opens, opens + timedelta(hours=4))
    assert plan.window_s == 4 * 3600 and plan.night.id == "20261123T010000Z" and not plan.window.outside


@pytest.mark.parametrize("check_mode", [True, False])
def test_only_a_real_run_waits(check_mode: bool) -> None:
    """Check mode, and a run given its start, plan the next window at once (a what-if)."""
    clock = Clock(datetime(2026, 11, 22, 22, 30, tzinfo=UTC))
    for request in (PlanRequest(tables=TABLES, window=WINDOW, outside_window="wait", check_mode=True),
                    PlanRequest(tables=TABLES, window=WINDOW, outside_window="wait", check_mode=check_mode,
                                starts_at="2026-11-22T22:30:00Z")):
        plan = plan_night(request, OFFLINE, clock.now, clock.sleep).document
        assert plan.window is not None and plan.window.starts_at == datetime(2026, 11, 23, 1, tzinfo=UTC)
    assert clock.slept == []


def test_a_run_started_outside_the_window_plans_the_window_length_from_now() -> None:
    clock = Clock(datetime(2026, 11, 23, 9, 15, 42, tzinfo=UTC))
    plan = plan_night(PlanRequest(tables=TABLES, window=WINDOW, outside_window="now"), OFFLINE, clock.now,
                      clock.sleep).document
    assert plan.window is not None and plan.window.outside
    assert plan.window.starts_at == clock.at and plan.deadline == clock.at + timedelta(hours=4)
    assert plan.night is not None and plan.night.at == clock.at.isoformat()


def test_a_late_run_inside_the_window_is_the_same_night_with_what_is_left() -> None:
    clock = Clock(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    plan = plan_night(PlanRequest(tables=TABLES, window=WINDOW), OFFLINE, clock.now, clock.sleep).document
    assert plan.night is not None and plan.night.id == "20261123T010000Z"
    assert plan.window_s == 2 * 3600 and plan.schedule()[1] == clock.at


def test_bad_input_fails_before_any_call() -> None:
    clock = Clock(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    for request, field in ((PlanRequest(tables=TABLES, workers=0), "workers"),
                           (PlanRequest(tables=TABLES, starts_at="not a time"), "starts_at"),
                           (PlanRequest(read_percentage=1.5), "read_percentage")):
        with pytest.raises(InputError) as refused:
            plan_night(request, OFFLINE, clock.now, clock.sleep)
        assert refused.value.field == field


def test_the_plan_file_and_report_are_written_once_and_only_when_they_change(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    paths = {"plan_path": str(tmp_path / "plan.json"), "report_path": str(tmp_path / "plan.md")}

    def run(check_mode: bool = False, tables: list[dict[str, Any]] | None = None) -> Any:
        request = PlanRequest(tables=TABLES if tables is None else tables, window=WINDOW, check_mode=check_mode,
                              **paths)
        return plan_night(request, OFFLINE, clock.now, clock.sleep)

    preview = run(check_mode=True)
    assert preview.changed and not list(tmp_path.iterdir())
    first = run()
    assert first.changed and first.files == dict(paths, gantt_path=str(tmp_path / "plan.svg"))
    written = json.loads((tmp_path / "plan.json").read_text())
    assert written == first.document.to_json() and written["version"] == 1
    assert PlanDocument.from_json(written) == first.document
    assert stat.S_IMODE((tmp_path / "plan.json").stat().st_mode) == 0o600  # a plan names the account's tables
    assert (tmp_path / "plan.md").read_text() == first.report and (tmp_path / "plan.svg").exists()
    assert not run().changed and not run(check_mode=True).changed
    assert run(tables=TABLES[:1]).changed


def test_the_result_carries_the_plan_its_warnings_and_a_message() -> None:
    clock = Clock(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    result = plan_night(PlanRequest(tables=TABLES, window=WINDOW), OFFLINE, clock.now, clock.sleep).result()
    assert result["version"] == 1 and sorted(result["planned_tables"]) == ["orders", "users"]
    assert result["changed"] is False and "warnings" not in result and isinstance(result["plan_warnings"], list)
    assert result["msg"].startswith("planned 2 table(s) in ")
    assert result["report_markdown"].startswith("# DynamoDB backup plan")
