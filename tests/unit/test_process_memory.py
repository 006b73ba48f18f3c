"""process_memory: glibc's malloc arenas capped once per process; no glibc, no cap, and no error."""

from __future__ import annotations

import ctypes.util

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base import process_memory
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.process_memory import (
    ARENAS,
    M_ARENA_MAX,
    cap_malloc_arenas,
)

GLIBC = ctypes.util.find_library("c") is not None


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The module as a new process finds it, with every mallopt call it makes recorded (and still made)."""
    calls: list[tuple[int, int]] = []
    real = process_memory._mallopt

    def recording(parameter: int, value: int) -> bool:
        calls.append((parameter, value))
        return real(parameter, value)

    monkeypatch.setattr(process_memory, "_done", [])
    monkeypatch.setattr(process_memory, "_mallopt", recording)
    return calls


@pytest.mark.skipif(not GLIBC, reason="needs glibc: elsewhere there is nothing to cap")
def test_glibc_takes_the_cap_once_per_process(fresh_process: list[tuple[int, int]]) -> None:
    assert cap_malloc_arenas() is True
    assert cap_malloc_arenas(8) is True  # a second ask changes nothing
    assert fresh_process == [(M_ARENA_MAX, ARENAS)]


def test_a_refused_cap_is_remembered_too(fresh_process: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    # musl and macOS have no libc that find_library names as glibc's: played here by finding none.
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert cap_malloc_arenas() is False
    assert cap_malloc_arenas() is False
    assert len(fresh_process) == 1
