# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Keep a long backup's memory flat: cap glibc's malloc arenas.

glibc gives each new thread's allocations an arena of their own, up to eight per core. Our scan and part
writer threads pass megabyte buffers (Scan pages, gzip output) between each other, so every arena ends
up holding freed pages of every size, and a backup's resident size creeps up with the table's length
(measured: +21% from 50,000 to 500,000 items with the default, +9% with two arenas) although the Python
heap stays flat. Two arenas are enough: the GIL already serialises most allocation.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h
ARENAS = 2
_lock = threading.Lock()
_done: list[bool] = []


def cap_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most `arenas` malloc arenas, once per process; False where there is no glibc
    (musl, macOS), which then keeps its own allocator's behaviour. Arenas made before the call stay."""
    with _lock:
        if not _done:
            _done.append(_mallopt(M_ARENA_MAX, arenas))
        return _done[0]


def _mallopt(parameter: int, value: int) -> bool:
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(ctypes.c_int(parameter), ctypes.c_int(value)))
