# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Notice that the Ansible controller which started this module is gone, so a long run stops with it.

A killed `ansible-playbook` (kill -9, a cancelled AWX job, a cron timeout) does not signal its workers,
and the module they started would otherwise finish its upload and write a manifest nobody asked for.
At start the chain of ancestors up to the top-most Ansible entry point is recorded (pid and start
time, so a reused pid is not mistaken for the same process); a daemon thread checks it every couple
of seconds and, once any of them is gone, sets `stopped` and calls the registered callbacks.
Without /proc (not Linux) only the parent is watched, through os.getppid().
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError

CHECK_INTERVAL_S = 1.0
PROC = "/proc"
# States of a process that has ended but is not yet reaped by its parent.
DEAD_STATES = ("Z", "X", "x")


class Cancelled(HippolyteError):
    """The controller is gone: the work stopped and left nothing that looks like a finished result."""


CANCELLED_MSG = "stopped: the Ansible controller that started this module is gone (killed or cancelled)"


def raise_if_stopped(stop: threading.Event | None) -> None:
    """For loops of plain code that take an optional stop event."""
    if stop is not None and stop.is_set():
        raise Cancelled(CANCELLED_MSG)


def stoppable_sleep(stop: threading.Event) -> Callable[[float], None]:
    """A sleep for poll loops that ends early, raising Cancelled, once `stop` is set."""
    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Cancelled(CANCELLED_MSG)

    return sleep


@dataclass(frozen=True)
class Process:
    pid: int
    start_time: str  # field 22 of /proc/<pid>/stat, in clock ticks since boot


def _stat(pid: int) -> tuple[str, int, str] | None:
    """(state, parent pid, start time) of a live or zombie process; None when there is no such pid."""
    try:
        with open(f"{PROC}/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'.
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), fields[19]


def _argv(pid: int) -> list[str]:
    try:
        with open(f"{PROC}/{pid}/cmdline", "rb") as fh:
            return [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return []


def is_ansible_entry_point(argv: list[str]) -> bool:
    """`ansible-playbook ...`, `python .../ansible-playbook ...`, `ansible-runner ...` and the like.

    Case matters: the module's own `AnsiballZ_<module>.py` wrapper is not an entry point.
    """
    return any(os.path.basename(arg).startswith("ansible") for arg in argv[:2])


def controller_chain(pid: int | None = None) -> list[Process]:
    """The ancestors of `pid` (default: this process) up to the top-most Ansible entry point.

    Just the parent when no ancestor is an Ansible entry point (a module run by hand, over SSH).
    """
    stat = _stat(pid or os.getpid())
    chain: list[Process] = []
    top = 0
    while stat is not None and stat[1] > 1:
        parent = stat[1]
        stat = _stat(parent)
        if stat is None:
            break
        chain.append(Process(parent, stat[2]))
        if is_ansible_entry_point(_argv(parent)):
            top = len(chain)
    return chain[:max(top, 1)]


def process_of(pid: int) -> Process | None:
    """The live (or zombie) process `pid`, with its start time; None when there is none or no /proc."""
    stat = _stat(pid)
    return Process(pid, stat[2]) if stat else None


def is_alive(process: Process) -> bool:
    stat = _stat(process.pid)
    return stat is not None and stat[0] not in DEAD_STATES and stat[2] == process.start_time


class ControllerWatch:
    """Sets `stopped` once the controller is gone; see the module docstring."""

    def __init__(self, alive: Callable[[], bool], interval_s: float = CHECK_INTERVAL_S) -> None:
        self.stopped = threading.Event()
        self._alive = alive
        self._interval_s = interval_s
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="controller-watch", daemon=True)

    @classmethod
    def start(cls, interval_s: float = CHECK_INTERVAL_S) -> ControllerWatch:
        if os.path.isdir(f"{PROC}/self"):
            chain = controller_chain()
            watch = cls(lambda: all(is_alive(p) for p in chain), interval_s)
        else:
            parent = os.getppid()
            watch = cls(lambda: os.getppid() == parent, interval_s)  # an orphan is re-parented
        watch._thread.start()
        return watch

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call `callback` (from the watch thread) once the controller is gone; at once if it already is."""
        with self._lock:
            if not self.stopped.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def raise_if_stopped(self) -> None:
        raise_if_stopped(self.stopped)

    def _run(self) -> None:
        while self._alive():
            time.sleep(self._interval_s)
        with self._lock:
            self.stopped.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()


def exit_after(seconds: float, code: int = 1) -> None:
    """End the process in `seconds` whatever its threads are doing (a wait the stop event cannot reach).

    Work that checks the stop event has unwound and cleaned up by then.
    """
    def leave() -> None:
        sys.stderr.write(f"{CANCELLED_MSG}; exiting\n")
        sys.stderr.flush()
        os._exit(code)

    timer = threading.Timer(seconds, leave)
    timer.daemon = True
    timer.start()
