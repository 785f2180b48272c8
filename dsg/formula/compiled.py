"""The one switch for compiled code, and the threads that compiled kernels run on.

Kernels are compiled by numba with ``cache=True`` and ``nogil=True``; with DSG_DISABLE_JIT=1
they run as plain Python (slowly, on one thread), for debugging and for the tests that check
the compiled figures against the plain ones.

A kernel that releases the GIL runs as fast from Python threads as from numba's parallel
loops, and a parallel loop costs seconds of compilation on a first run (the first Monte
Carlo after install took 13 s with them, 5 s without). So the batch and draw kernels are
serial, each settling or drawing one part of a chunk, and :func:`in_threads` runs the parts
side by side. A batch's sums are kept per block, in a fixed number of blocks, and a draw
depends on its scenario alone, so the figures do not depend on the number of threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

JIT_DISABLED = os.environ.get("DSG_DISABLE_JIT", "") not in ("", "0")

if JIT_DISABLED:

    def jit(*args, **kwargs):
        return lambda function: function

    def thread_count() -> int:
        return 1

else:
    from numba import get_num_threads as thread_count  # NUMBA_NUM_THREADS, or set_num_threads
    from numba import njit as jit

__all__ = ["JIT_DISABLED", "in_threads", "jit", "thread_count"]


def in_threads(task: Callable[[int], None], parts: int) -> None:
    """Call ``task(0)``, ..., ``task(parts - 1)``, side by side on ``parts`` threads (in this
    thread when there is one part); an exception in any part is raised here."""
    if parts <= 1:
        task(0)
        return
    with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="dsg-engine") as pool:
        for _ in pool.map(task, range(parts)):
            pass
