"""The live server's C heap: few glibc malloc arenas, and free memory handed back when a
session ends.

Why: each session brings new threads (frame worker, pipeline stage 2, recorder writer,
MediaPipe's graph threads). glibc gives threads arenas of their own (up to 8 per core) and keeps
what an arena freed for reuse instead of returning it, so a server that has run many sessions
keeps an RSS near the sum of its arenas' peaks long after the sessions ended (measured:
benchmarks/bench_soak.py). Capping the arenas bounds that; ``malloc_trim`` returns what they
hold free.

Both are no-ops returning False where the C library is not glibc (macOS, musl, Windows).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
# Two arenas for the whole server: one per core of the 2-core target; small allocations mostly
# go through glibc's per-thread cache, which takes no arena lock.
SERVER_MALLOC_ARENAS = 2


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "gnu_get_libc_version") else None  # (only glibc has it)


def limit_malloc_arenas(arenas: int = SERVER_MALLOC_ARENAS) -> bool:
    """At most ``arenas`` malloc arenas (threads then share them); call it before the threads
    start. An arena limit set in the environment (``MALLOC_ARENA_MAX``, ``GLIBC_TUNABLES``) is
    left as it is."""
    libc = _glibc()
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if libc is None or "MALLOC_ARENA_MAX" in os.environ or "arena_max" in tunables:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def release_free_heap() -> bool:
    """Hand the free memory of every malloc arena back to the system; True if some went."""
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(0))
