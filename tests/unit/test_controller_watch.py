"""The controller watch against real processes: a fake `ansible-playbook` this test spawns and kills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import (
    Cancelled,
    Process,
    _argv,
    _stat,
    is_alive,
    is_ansible_entry_point,
    raise_if_stopped,
    stoppable_sleep,
)
from tests.support.ansible_run import COLLECTIONS

# The "module": records the chain it watches, then how the watch ended. The callback and the main thread
# write at the same moment: one os.write per line, so two lines never run into each other.
MODULE = """
import json, os, sys
sys.path.insert(0, {collections!r})
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base import controller_watch as cw
def line(text):
    os.write(1, (text + "\\n").encode())
line(json.dumps([p.pid for p in cw.controller_chain()]))
watch = cw.ControllerWatch.start(interval_s=0.2)
watch.on_stop(lambda: line("stopped"))
line("stopped-event" if watch.stopped.wait(30) else "still-running")
"""

# The "controller": runs the module through a shell, as Ansible's local connection does, then idles.
CONTROLLER = """
import subprocess, sys, time
subprocess.Popen(["/bin/sh", "-c", sys.argv[1] + "; true"])
time.sleep(120)
"""


def wait_for_lines(path: Path, count: int, timeout_s: float) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return lines
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    raise AssertionError(f"{path} has {lines} after {timeout_s} s")


@pytest.mark.parametrize("argv", [["/usr/bin/python3", "/usr/local/bin/ansible-playbook", "site.yml"],
                                  ["ansible", "localhost", "-m", "ping"], ["ansible-runner", "run", "/tmp/x"]])
def test_ansible_entry_points_are_recognised(argv: list[str]) -> None:
    assert is_ansible_entry_point(argv)


@pytest.mark.parametrize("argv", [["/bin/sh", "-c", "python /home/u/.ansible/tmp/ansible-tmp-1/AnsiballZ_x.py"],
                                  ["/usr/bin/python3", "/home/u/.ansible/tmp/AnsiballZ_dynamodb_scan_backup.py"],
                                  ["/usr/bin/python3", "-m", "pytest"], []])
def test_other_processes_are_not_entry_points(argv: list[str]) -> None:
    assert not is_ansible_entry_point(argv)


def test_a_reused_pid_is_not_the_same_process() -> None:
    _state, _parent, start_time = _stat(os.getpid()) or ("", 0, "")
    assert is_alive(Process(os.getpid(), start_time))
    assert not is_alive(Process(os.getpid(), str(int(start_time) + 1)))


def test_module_notices_a_killed_controller_within_seconds(tmp_path: Path) -> None:
    """Chain = the shell and the fake controller (not the test above it, unless an Ansible entry point such as
    ansible-test runs the test); SIGKILL of the controller (left unreaped, a zombie, as a dead ansible-playbook
    is until its parent waits) stops the watch."""
    module, controller, out = tmp_path / "module.py", tmp_path / "ansible-playbook", tmp_path / "out"
    module.write_text(MODULE.format(collections=str(COLLECTIONS)))
    controller.write_text(textwrap.dedent(CONTROLLER))
    proc = subprocess.Popen([sys.executable, str(controller), f"{sys.executable} {module} > {out}"],
                            start_new_session=True)
    try:
        chain = json.loads(wait_for_lines(out, 1, 20)[0])
        above = chain[2:]
        assert chain[1] == proc.pid, chain
        assert not above or (above[0] == os.getpid() and is_ansible_entry_point(_argv(above[-1]))), chain
        assert (_stat(chain[0]) or ("", 0, ""))[1] == proc.pid  # the shell between them
        time.sleep(0.5)
        assert len(out.read_text().splitlines()) == 1, "the watch must not fire while the controller lives"
        os.kill(proc.pid, signal.SIGKILL)
        killed = time.monotonic()
        lines = wait_for_lines(out, 3, 5)
        assert sorted(lines[1:]) == ["stopped", "stopped-event"]  # callback and event, in either order
        assert time.monotonic() - killed < 2
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_stop_checks_raise_cancelled() -> None:
    stop = threading.Event()
    raise_if_stopped(None)
    raise_if_stopped(stop)
    sleep = stoppable_sleep(stop)
    clock = time.monotonic()
    sleep(0.05)
    threading.Timer(0.1, stop.set).start()
    with pytest.raises(Cancelled):
        sleep(30)  # cut short by the stop
    assert time.monotonic() - clock < 5
    with pytest.raises(Cancelled):
        raise_if_stopped(stop)
