"""The shared watch of the cluster engines: start retries, deadline, tables handed on as they end.

The engine is a stand-in with scripted answers: which start AWS refuses, and when, is what no emulator
produces on demand (moto starts every cluster at once)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import watch


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
