"""The night driver (night/night_driver.py) with a scripted clock and scripted cluster tasks: each table's step ends
at a given second of the night, a cluster dies at a given second. What a real cluster does on moto is in
tests/integration/test_night_driver_on_moto.py."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import (
    EngineAnswer,
    Watched,
    Watching,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_driver import (
    NightCluster,
    drive_night,
)

OPEN = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
POLL_S = 30.0


class ScriptedClock:
    """The night's clock: seconds since OPEN; sleeping moves it on."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return OPEN + timedelta(seconds=self.t)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


class Refused(Exception):
    """What botocore raises when AWS says "not now" (error_code reads `response`)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class ScriptedTask:
    """A cluster task whose tables' steps end (ok) at the given seconds after it starts; a cluster that dies at
    `dies_after` fails every table still running then. `refusals`: starts refused with a retryable code first."""

    def __init__(self, clock: ScriptedClock, ends: dict[str, float], dies_after: float | None = None,
                 refusals: int = 0, lane: str = "c01") -> None:
        self.clock, self.ends, self.dies_after, self.refusals, self.lane = clock, ends, dies_after, refusals, lane
        self.watching = Watching(True, 0, int(POLL_S))
        self.started_at: float | None = None
        self.handed_on: list[tuple[float, list[str]]] = []  # (when, tables) of each ended() call
        self.finished = False
        self.answered: Watched | None = None

    def start(self) -> bool:
        if self.refusals:
            self.refusals -= 1
            raise Refused("InsufficientInstanceCapacity")
        self.started_at = self.clock.t
        return True

    def poll(self) -> list[TableOutcome]:
        assert self.started_at is not None
        since = self.clock.t - self.started_at
        dead = self.dies_after is not None and since >= self.dies_after
        outcomes = []
        for name, end in self.ends.items():
            if since >= end and (self.dies_after is None or end < self.dies_after):
                outcomes.append(TableOutcome(name, "emr", "ok", lane=self.lane))
            elif dead:
                outcomes.append(TableOutcome(name, "emr", "failed", error="cluster TERMINATED_WITH_ERRORS",
                                             engine_state="CANCELLED", lane=self.lane))
            else:
                outcomes.append(TableOutcome(name, "emr", "running", lane=self.lane))
        return outcomes

    def finish(self) -> bool:
        self.finished = True
        return False

    def preview(self) -> EngineAnswer:
        return EngineAnswer(False, {})

    def ended(self, outcomes: list[TableOutcome]) -> None:
        self.handed_on.append((self.clock.t, [o.name for o in outcomes]))

    def answer(self, watched: Watched) -> EngineAnswer:
        self.answered = watched
        return EngineAnswer(any(o.status == "failed" for o in watched.outcomes),
                            {"tables": [o.to_result() for o in watched.outcomes], "done": watched.done})


def handed_on_at(task: ScriptedTask) -> dict[str, float]:
    return {name: when for when, names in task.handed_on for name in names}


def test_a_table_is_handed_on_within_one_poll_of_its_end_while_the_local_lanes_still_run() -> None:
    clock = ScriptedClock()
    early = ScriptedTask(clock, {"orders": 40.0, "users": 500.0})
    other = ScriptedTask(clock, {"events": 900.0}, lane="c02")
    release = threading.Event()
    lanes_running_when_handed_on: list[bool] = []

    def ended(outcomes: list[TableOutcome]) -> None:
        ScriptedTask.ended(early, outcomes)
        lanes_running_when_handed_on.append(not release.is_set())

    early.ended = ended  # type: ignore[method-assign]

    def lanes() -> dict[str, Any]:
        release.wait(10)
        return {"tables": [{"name": "local-1", "status": "ok"}]}

    clusters = [NightCluster("c01", early, {"orders": 40.0, "users": 500.0}),
                NightCluster("c02", other, {"events": 900.0})]
    night = drive_night(clusters, lanes, OPEN + timedelta(hours=7), POLL_S, clock.now, clock.sleep)
    release.set()

    at = handed_on_at(early)
    assert 40.0 <= at["orders"] < 40.0 + POLL_S and 500.0 <= at["users"] < 500.0 + POLL_S
    assert lanes_running_when_handed_on == [True, True]  # the local lanes still ran, and the other cluster too
    assert handed_on_at(other)["events"] < 900.0 + POLL_S
    assert night.done and night.relaunches == [] and night.put_back_at_deadline == []
    assert early.finished and other.finished and len(night.answers) == 2
    assert [t["name"] for t in night.tables()] == ["local-1", "orders", "users", "events"]
    assert set(clock.slept) == {POLL_S}


def test_a_dead_cluster_is_relaunched_for_its_unfinished_tables_within_the_window() -> None:
    clock = ScriptedClock()
    dying = ScriptedTask(clock, {"orders": 60.0, "users": 3000.0, "events": 4000.0}, dies_after=1000.0)
    relaunched: list[tuple[list[str], int, ScriptedTask]] = []

    def relaunch(tables: list[str], attempt: int) -> ScriptedTask:
        task = ScriptedTask(clock, {name: 600.0 + 100 * n for n, name in enumerate(tables)}, lane=f"c01-r{attempt}")
        relaunched.append((tables, attempt, task))
        return task

    planned = {"orders": 60.0, "users": 1200.0, "events": 1200.0}
    night = drive_night([NightCluster("c01", dying, planned, bootstrap_s=600.0, relaunch=relaunch)], None,
                        OPEN + timedelta(hours=2), POLL_S, clock.now, clock.sleep)

    assert [(tables, attempt) for tables, attempt, _task in relaunched] == [(["users", "events"], 1)]
    [again] = night.relaunches
    assert again.relaunched and again.tables == ["users", "events"] and "TERMINATED_WITH_ERRORS" in again.reason
    assert night.done and {o.name: o.status for o in night.outcomes} == {"orders": "ok", "users": "ok",
                                                                         "events": "ok"}
    assert {o.name: o.lane for o in night.outcomes}["users"] == "c01-r1"
    new = relaunched[0][2]
    assert new.started_at is not None and 1000.0 <= new.started_at < 1000.0 + POLL_S
    assert handed_on_at(dying) == {"orders": handed_on_at(dying)["orders"], "users": new.started_at,
                                   "events": new.started_at}  # the dead cluster's boosts went back as it died
    assert set(handed_on_at(new)) == {"users", "events"}
    assert [a.failed for a in night.answers] == [True, False]  # the dead cluster's answer, then the relaunch's


def test_a_dead_cluster_is_not_relaunched_when_the_window_has_no_room_left() -> None:
    clock = ScriptedClock()
    dying = ScriptedTask(clock, {"orders": 60.0, "users": 3000.0}, dies_after=1000.0)
    calls: list[list[str]] = []

    def relaunch(tables: list[str], attempt: int) -> ScriptedTask:
        calls.append(tables)
        return ScriptedTask(clock, dict.fromkeys(tables, 10.0))

    # 1,000 s in, 1,000 s are left: the bootstrap (600 s) and the table's planned 1,200 s do not fit.
    night = drive_night([NightCluster("c01", dying, {"orders": 60.0, "users": 1200.0}, bootstrap_s=600.0,
                                      relaunch=relaunch)], None, OPEN + timedelta(seconds=2000), POLL_S,
                        clock.now, clock.sleep)

    assert calls == []
    [refused] = night.relaunches
    assert not refused.relaunched and refused.tables == ["users"] and "needs 1800 s" in refused.reason
    assert night.done and {o.name: o.status for o in night.outcomes} == {"orders": "ok", "users": "failed"}
    assert "users" in handed_on_at(dying)


def test_relaunches_stop_at_the_limit() -> None:
    clock = ScriptedClock()

    def relaunch(tables: list[str], attempt: int) -> ScriptedTask:
        return ScriptedTask(clock, dict.fromkeys(tables, 500.0), dies_after=100.0, lane=f"c01-r{attempt}")

    night = drive_night([NightCluster("c01", ScriptedTask(clock, {"orders": 500.0}, dies_after=100.0),
                                      {"orders": 10.0}, relaunch=relaunch)], None, OPEN + timedelta(hours=7),
                        POLL_S, clock.now, clock.sleep, relaunch_limit=2)

    assert [r.relaunched for r in night.relaunches] == [True, True, False]
    assert "2 relaunch(es) already" in night.relaunches[-1].reason
    assert [o.status for o in night.outcomes] == ["failed"] and len(night.answers) == 3


def test_at_the_deadline_every_table_still_on_a_cluster_is_handed_on_and_nothing_starts() -> None:
    clock = ScriptedClock()
    slow = ScriptedTask(clock, {"orders": 100.0, "users": 9000.0})
    never = ScriptedTask(clock, {"events": 10.0}, refusals=1000, lane="c02")  # no capacity all night

    night = drive_night([NightCluster("c01", slow, {"orders": 100.0, "users": 900.0}),
                         NightCluster("c02", never, {"events": 10.0})], None, OPEN + timedelta(seconds=1000),
                        POLL_S, clock.now, clock.sleep)

    assert clock.t == 1000.0 and not night.done
    assert sorted(night.put_back_at_deadline) == ["events", "users"]
    assert handed_on_at(slow)["users"] == 1000.0 and handed_on_at(never)["events"] == 1000.0
    assert never.started_at is None and {o.name: o.status for o in night.outcomes} == {
        "orders": "ok", "users": "running", "events": "not run"}
    assert slow.answered is not None and not slow.answered.done and not slow.finished
    assert any("start refused for now" in note for note in night.notes)


def test_a_start_refused_for_now_is_tried_again_next_round() -> None:
    clock = ScriptedClock()
    task = ScriptedTask(clock, {"orders": 100.0}, refusals=2)

    night = drive_night([NightCluster("c01", task, {"orders": 100.0})], None, OPEN + timedelta(hours=1), POLL_S,
                        clock.now, clock.sleep)

    assert task.started_at == 2 * POLL_S and night.done and [o.status for o in night.outcomes] == ["ok"]


def test_a_start_refused_for_good_fails_its_tables_and_relaunches_them() -> None:
    clock = ScriptedClock()
    broken = ScriptedTask(clock, {"orders": 100.0})

    def refuse() -> bool:
        raise Refused("ValidationException")

    broken.start = refuse  # type: ignore[method-assign]

    def relaunch(tables: list[str], attempt: int) -> ScriptedTask:
        return ScriptedTask(clock, dict.fromkeys(tables, 50.0), lane="c01-r1")

    night = drive_night([NightCluster("c01", broken, {"orders": 100.0}, relaunch=relaunch)], None,
                        OPEN + timedelta(hours=1), POLL_S, clock.now, clock.sleep)

    assert "did not start" in night.relaunches[0].reason and night.relaunches[0].relaunched
    assert night.done and [o.status for o in night.outcomes] == ["ok"] and not broken.finished


def test_an_error_of_the_local_lanes_is_reported_after_the_clusters() -> None:
    clock = ScriptedClock()
    task = ScriptedTask(clock, {"orders": 100.0})

    def lanes() -> dict[str, Any]:
        raise RuntimeError("store not writable")

    night = drive_night([NightCluster("c01", task, {"orders": 100.0})], lanes, OPEN + timedelta(hours=1), POLL_S,
                        clock.now, clock.sleep)

    assert night.local_error == "RuntimeError: store not writable" and night.done and "orders" in handed_on_at(task)


@settings(max_examples=60, deadline=None)
@given(ends=st.lists(st.floats(min_value=0, max_value=5000), min_size=1, max_size=6),
       poll_s=st.integers(min_value=1, max_value=600), window_s=st.integers(min_value=1, max_value=6000))
def test_every_table_is_handed_on_once_within_one_poll_of_its_end_or_at_the_deadline(
        ends: list[float], poll_s: int, window_s: int) -> None:
    clock = ScriptedClock()
    planned = {f"t{n}": end for n, end in enumerate(ends)}
    task = ScriptedTask(clock, planned)

    night = drive_night([NightCluster("c01", task, planned)], None, OPEN + timedelta(seconds=window_s), poll_s,
                        clock.now, clock.sleep)

    names = [name for _when, batch in task.handed_on for name in batch]
    assert sorted(names) == sorted(planned)  # each table once
    for name, when in handed_on_at(task).items():
        assert when <= window_s
        assert when <= planned[name] + poll_s + 1e-6 or when == window_s
    assert night.done == all(end <= clock.t for end in ends)


def test_once_the_lease_is_lost_no_cluster_starts_or_is_relaunched() -> None:
    clock = ScriptedClock()
    dying = ScriptedTask(clock, {"orders": 500.0}, dies_after=100.0)
    waiting = ScriptedTask(clock, {"users": 50.0}, refusals=5, lane="c02")  # its start is refused until t=150
    lost: list[str] = []

    def lease_lost() -> str | None:
        return lost[0] if lost else None

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.t >= 60:
            lost.append("lease was taken over by run night-2")

    def relaunch(tables: list[str], attempt: int) -> ScriptedTask:
        raise AssertionError("relaunched after the lease was lost")

    night = drive_night([NightCluster("c01", dying, {"orders": 10.0}, relaunch=relaunch),
                         NightCluster("c02", waiting, {"users": 50.0})], None, OPEN + timedelta(hours=7), POLL_S,
                        clock.now, sleep, lease_lost=lease_lost)

    [refused] = night.relaunches
    assert not refused.relaunched and "the run's lease was taken over by run night-2" in refused.reason
    assert waiting.started_at is None and handed_on_at(waiting) == {"users": 60.0}  # its boost went back
    assert {o.name: (o.status, o.error) for o in night.outcomes}["users"] == (
        "not run", "not started: the run's lease was taken over by run night-2")
    assert night.done and clock.t == 120.0


def test_a_lease_that_cannot_be_read_now_is_not_lost() -> None:
    clock = ScriptedClock()
    task = ScriptedTask(clock, {"orders": 10.0})

    def unreadable() -> str | None:
        raise HippolyteError("the store did not answer")

    night = drive_night([NightCluster("c01", task, {"orders": 10.0})], None, OPEN + timedelta(hours=1), POLL_S,
                        clock.now, clock.sleep, lease_lost=unreadable)

    assert task.started_at == 0.0 and night.done and [o.status for o in night.outcomes] == ["ok"]


def test_a_cluster_no_poll_answers_is_polled_each_round_and_its_boosts_go_back_at_the_deadline() -> None:
    clock = ScriptedClock()
    mute = ScriptedTask(clock, {"orders": 10.0})

    def unanswered() -> list[TableOutcome]:
        raise Refused("ServiceUnavailable")

    mute.poll = unanswered  # type: ignore[method-assign]

    night = drive_night([NightCluster("c01", mute, {"orders": 10.0})], None, OPEN + timedelta(seconds=100), POLL_S,
                        clock.now, clock.sleep)

    assert len([n for n in night.notes if "poll failed" in n]) == 5  # at 0, 30, 60, 90 and 100 s
    assert night.put_back_at_deadline == ["orders"] and handed_on_at(mute) == {"orders": 100.0}
    assert [(o.status, o.error) for o in night.outcomes] == [("running", "no poll answered before the window closed")]
