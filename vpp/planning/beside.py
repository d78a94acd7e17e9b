"""Work that runs beside a long solve: one thread, its answer or its error on demand.

HiGHS releases Python's global interpreter lock while it solves (``Highs.run``), so a
second thread's Python work (reading inputs, building and compiling another model)
goes on at the same time, on the host's second core. :func:`vpp.planning.size.size`
runs the site as it is (:func:`vpp.planning.size.bill_only`), which does not depend on
the chosen sizes, beside the sizing's interior point: on the demo year about 1.3 s of
work that no longer adds to the wall clock (``benchmarks/README.md``). The work and
its result are the same as when run in line: its own models, its own HiGHS instance,
the same options. HiGHS keeps one task scheduler per calling thread (since HiGHS 1.2,
ERGO-Code/HiGHS pull request 818), so two instances may run in two threads at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Beside(Generic[T]):
    """``fn(*args, **kwargs)`` started now in a worker thread.

    :meth:`result` waits for it and returns its value, or raises its exception in the
    caller's thread. If the caller never asks (it failed first), the thread still ends
    its work, and the interpreter waits for it at exit; nothing is left half-done.

    Attributes
    ----------
    seconds : float or None
        Wall-clock time of the work in its thread [s]; None until it ended.
    """

    def __init__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> None:
        self.seconds: float | None = None

        def timed() -> T:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds = time.perf_counter() - t0

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vpp-beside")
        self._future: Future[T] = pool.submit(timed)
        pool.shutdown(wait=False)  # the one task runs on; the thread ends with it

    def result(self) -> T:
        """The work's value (waiting for it), or its exception raised here."""
        return self._future.result()
