"""The shared watch of the cluster engines: start retries, deadline, tables handed on as they end; run_task, the one
way every engine task is run (preview in check mode, else start, watch, answer); the watch options.

The engine is a stand-in with scripted answers: which start AWS refuses, and when, is what no emulator
produces on demand (moto starts every cluster at once)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import (
    EngineAnswer,
    Watched,
    Watching,
    run_task,
    watch,
)


class Scripted:
    """start() raises the scripted errors first; poll() answers the scripted statuses, one list per poll."""

    def __init__(self, refusals: list[str], polls: list[dict[str, str]]) -> None:
        self.refusals, self.polls, self.starts = list(refusals), list(polls), 0

    def start(self) -> bool:
        self.starts += 1
        if self.refusals:
            raise ClientError({"Error": {"Code": self.refusals.pop(0), "Message": "scripted"}}, "RunJobFlow")
        return True

    def poll(self) -> list[TableOutcome]:
        states = self.polls.pop(0) if len(self.polls) > 1 else self.polls[0]
        return [TableOutcome(name, "emr", status) for name, status in states.items()]

    def finish(self) -> bool:
        return False


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_a_start_refused_for_now_is_tried_again_while_the_window_lasts() -> None:
    engine = Scripted(["InsufficientCapacity", "ThrottlingException"], [{"a": "ok"}])
    clock = Clock()
    outcomes, done, changed = watch(engine, wait=True, timeout_s=3600, poll_s=60, sleep=clock.sleep, clock=clock)
    assert engine.starts == 3 and clock.slept == [60, 60] and done and changed
    assert [o.status for o in outcomes] == ["ok"]


@pytest.mark.parametrize(("wait", "code", "timeout_s"), [
    (False, "InsufficientCapacity", 3600),  # the role's first call: report, do not hold up the local engine
    (True, "ValidationException", 3600),  # refused for good: no point trying again
    (True, "InsufficientCapacity", 90),  # no time left for another try before the deadline
])
def test_a_start_refusal_is_raised_when_it_cannot_be_waited_out(wait: bool, code: str, timeout_s: float) -> None:
    engine = Scripted([code, code, code], [{"a": "ok"}])
    clock = Clock()
    with pytest.raises(ClientError):
        watch(engine, wait=wait, timeout_s=timeout_s, poll_s=60, sleep=clock.sleep, clock=clock)
    assert engine.starts == (2 if (wait and code != "ValidationException") else 1)


def test_each_table_is_handed_on_once_at_the_poll_that_sees_it_end() -> None:
    engine = Scripted([], [{"a": "running", "b": "running"}, {"a": "ok", "b": "running"},
                           {"a": "ok", "b": "failed"}])
    clock = Clock()
    handed: list[list[str]] = []
    _outcomes, done, _changed = watch(engine, wait=True, timeout_s=3600, poll_s=30, sleep=clock.sleep, clock=clock,
                                      on_done=lambda ended: handed.append([o.name for o in ended]))
    assert done and handed == [["a"], ["b"]]


class ScriptedTask(Scripted):
    """A `ClusterTask` over the scripted engine: what run_task called, and with what."""

    def __init__(self, polls: list[dict[str, str]], watching: Watching) -> None:
        super().__init__([], polls)
        self.watching, self.previewed, self.handed = watching, False, []
        self.watched: Watched | None = None

    def preview(self) -> EngineAnswer:
        self.previewed = True
        return EngineAnswer(False, {"changed": True})

    def ended(self, outcomes: list[TableOutcome]) -> None:
        self.handed.append([o.name for o in outcomes])

    def answer(self, watched: Watched) -> EngineAnswer:
        self.watched = watched
        return EngineAnswer(not watched.done, {"done": watched.done})


class Sleeps:
    """EngineClients' watch_sleep on the test clock (the rest of EngineClients is never asked for here)."""

    region = "eu-west-1"

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def watch_sleep(self) -> Callable[[float], None]:
        return self.clock.sleep


NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def test_check_mode_only_previews() -> None:
    task = ScriptedTask([{"a": "ok"}], Watching(wait=True, wait_timeout_s=60, poll_s=30))
    answer = run_task(task, check_mode=True, clients=Sleeps(Clock()), now=lambda: NOW)
    assert task.previewed and task.starts == 0 and answer.result == {"changed": True}


def test_a_run_watches_until_the_deadline_and_hands_each_table_on_as_it_ends() -> None:
    """The deadline (10 minutes after now) wins over wait_timeout; the tables still running then fail the task."""
    clock = Clock()
    deadline = (NOW + timedelta(minutes=10)).isoformat()
    task = ScriptedTask([{"a": "running", "b": "running"}, {"a": "ok", "b": "running"}],
                        Watching(wait=True, wait_timeout_s=7200, poll_s=240, deadline=deadline))
    answer = run_task(task, check_mode=False, clients=Sleeps(clock), now=lambda: NOW,
                      clock=clock)
    assert task.starts == 1 and task.handed == [["a"]] and answer.failed
    assert task.watched is not None and task.watched.timeout_s == 600 and clock.slept == [240, 240, 120]


@pytest.mark.parametrize(("options", "field"), [
    ({"wait_timeout": -1}, "wait_timeout"), ({"poll_interval": 0}, "poll_interval"),
    ({"deadline": "after midnight"}, "deadline"),
])
def test_watching_options_are_checked(options: dict[str, Any], field: str) -> None:
    given = {"wait": True, "wait_timeout": 60, "poll_interval": 30, "deadline": None, **options}
    with pytest.raises(InputError) as err:
        Watching.from_options(given)
    assert err.value.field == field


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=-10**6, max_value=10**6))
def test_the_watch_lasts_until_the_deadline_else_wait_timeout(wait_timeout: int, to_deadline: int) -> None:
    at = NOW + timedelta(seconds=to_deadline)
    assert Watching(True, wait_timeout, 30).timeout_s(NOW) == wait_timeout
    assert Watching(True, wait_timeout, 30, at.isoformat()).timeout_s(NOW) == max(0, to_deadline)
