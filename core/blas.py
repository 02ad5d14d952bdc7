"""The thread count of the OpenBLAS that numpy uses, read and set at run time (ctypes; no other dependency).

A live session calls small GEMMs 30 times a second; OpenBLAS's idle worker threads spin between calls, which on
2 cores cost a whole core of CPU (113% against 15% with one thread, `dreamtalk bench live`). Where numpy uses
another BLAS, or the library cannot be found, nothing changes.
"""
from __future__ import annotations

import ctypes
import glob
import os
import re
import sys
import threading
from contextlib import contextmanager
from functools import lru_cache

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _openblas():
    """(get, set) functions of the OpenBLAS loaded in this process, or None."""
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("64_", ""):
            for prefix in ("openblas", "scipy_openblas"):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    get.restype = ctypes.c_int
                    put.argtypes = [ctypes.c_int]
                    return get, put
    return None


def _candidates() -> list[str]:
    """OpenBLAS libraries already mapped into the process (Linux), else those shipped beside numpy."""
    found = []
    if sys.platform.startswith("linux") and os.path.exists("/proc/self/maps"):
        with open("/proc/self/maps") as f:
            for line in f:
                m = re.search(r"(/\S*openblas\S*\.so\S*)", line)
                if m and m.group(1) not in found:
                    found.append(m.group(1))
    # numpy's own first: other packages (OpenCV, for one) map their own OpenBLAS, whose threads numpy never uses
    found.sort(key=lambda p: "numpy" not in p)
    if not found:
        import numpy
        root = os.path.dirname(os.path.dirname(numpy.__file__))
        for pattern in ("numpy.libs/*openblas*", "numpy/.libs/*openblas*", "numpy/.dylibs/*openblas*"):
            found += sorted(glob.glob(os.path.join(root, pattern)))
    return found


def blas_threads() -> int | None:
    """OpenBLAS's current thread count, or None where it cannot be reached."""
    f = _openblas()
    return int(f[0]()) if f else None


def set_blas_threads(n: int) -> int | None:
    """Set OpenBLAS's thread count; returns the previous count (None: not reachable, nothing done)."""
    f = _openblas()
    if not f:
        return None
    with _LOCK:
        old = int(f[0]())
        f[1](int(n))
    return old


@contextmanager
def blas_threads_for(n: int):
    """Run the block with OpenBLAS at ``n`` threads and give the previous count back after it (even on error)."""
    old = set_blas_threads(n)
    try:
        yield
    finally:
        if old is not None:
            set_blas_threads(old)
