"""Listen to HiGHS while it solves: its log (never printed) and progress reports.

HiGHS writes its log to a callback here instead of the console (``log_to_console``
off). The log gives what the solve reports: the interior point's iterations and
relative gap (one IPX line per iteration), the simplex's iterations and the primal
or dual infeasibilities left (a line every few seconds; the simplex reports no gap
until it ends), the branch and cut's gap, and HiGHS's warnings about the model's
scaling. A reporter thread calls ``progress`` with the
elapsed time and the latest of these at most every :data:`PROGRESS_EVERY_S` seconds
(HiGHS releases the interpreter lock while it runs); short solves report nothing.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import highspy

Progress = Callable[[str], None]

#: Least time between two progress reports [s].
PROGRESS_EVERY_S = 5.0
#: An IPX iteration line: iteration, primal and dual objective, primal and dual
#: infeasibility, relative gap, time.
_IPX_LINE = re.compile(
    r"^\s*(\d+)\*?\s+(\S+)\s+(\S+)\s+\S+\s+\S+\s+([0-9.]+e[-+]\d+)\s+[0-9.]+\s*$"
)
#: A simplex report line: iteration, objective, then ``Ph1:``, ``Pr:`` or ``Du:`` with
#: the number (and sum) of infeasibilities left, and the time.
_SIMPLEX_LINE = re.compile(r"^\s*(\d+)\s+\S+\s+(Ph1|Pr|Du):\s*(\d+)\(")
#: Words that mark HiGHS's warnings about the model's scaling.
_SCALING_WORDS = ("excessively", "badly scaled", "Consider scaling")


class Listener:
    """Attached to one HiGHS instance for one solve (a context manager).

    Attributes
    ----------
    ipm_iteration : int or None
        The last interior point iteration logged.
    gap : float or None
        The last relative gap logged (interior point or branch and cut) [-].
    simplex_iteration : int or None
        The last simplex iteration logged.
    infeasibilities : int or None
        The infeasibilities left at that simplex iteration (primal in the dual
        simplex's phase 2, dual in the primal simplex's, both in phase 1).
    nodes : int or None
        Branch-and-bound nodes so far.
    warnings : list of str
        HiGHS's warnings about scaling, in order, without repeats.
    """

    def __init__(self, highs: highspy.Highs, progress: Progress | None):
        self.highs = highs
        self.progress = progress
        self.ipm_iteration: int | None = None
        self.gap: float | None = None
        self.simplex_iteration: int | None = None
        self.infeasibilities: int | None = None
        self.nodes: int | None = None
        self.warnings: list[str] = []
        self._strategy = ""
        self._started = time.perf_counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Listener:
        self.highs.setOptionValue("output_flag", True)
        self.highs.setOptionValue("log_to_console", False)
        self.highs.cbLogging.subscribe(self._on_log)
        self.highs.cbMipLogging.subscribe(self._on_mip)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        self.highs.cbLogging.unsubscribe(self._on_log)
        self.highs.cbMipLogging.unsubscribe(self._on_mip)
        self.highs.setOptionValue("output_flag", False)

    def start(self, strategy: str) -> None:
        """A strategy starts: reset what was read, start the reporter."""
        self.stop()
        self._strategy = strategy
        self.ipm_iteration = self.gap = self.nodes = None
        self.simplex_iteration = self.infeasibilities = None
        self._started = time.perf_counter()
        if self.progress is not None:
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._report, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """The strategy ended: stop the reporter."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def status_line(self) -> str:
        """``HiGHS <strategy>: <s> s[, iteration n][, k infeasibilities left][, gap g]``.

        The interior point's iteration and gap; the simplex's iteration and the
        infeasibilities it has left (it reports no gap while it runs); the branch and
        cut's nodes and gap.
        """
        text = f"HiGHS {self._strategy}: {time.perf_counter() - self._started:.0f} s"
        if self.nodes is not None:
            text += f", {self.nodes} nodes"
        elif self.simplex_iteration is not None:  # also a crossover's simplex clean-up
            text += f", iteration {self.simplex_iteration}"
            text += f", {self.infeasibilities} infeasibilities left"
        elif self.ipm_iteration is not None:
            text += f", iteration {self.ipm_iteration}"
        if self.gap is not None and math.isfinite(self.gap):
            text += f", gap {self.gap:.2g}"
        return text

    def _report(self) -> None:
        assert self.progress is not None
        while not self._stop.wait(PROGRESS_EVERY_S):
            try:
                self.progress(self.status_line())
            except Exception:  # a report that cannot be shown must not stop the solve
                return

    def _on_log(self, event: Any) -> None:
        self.read_log(str(event.message))

    def read_log(self, text: str) -> None:
        """Take what HiGHS logged: iterations, gap, infeasibilities left, warnings."""
        for line in text.splitlines():
            match = _IPX_LINE.match(line)
            if match:
                try:
                    iteration, gap = int(match.group(1)), float(match.group(4))
                except ValueError:
                    continue
                self.ipm_iteration, self.gap = iteration, gap
                continue
            simplex = _SIMPLEX_LINE.match(line)
            if simplex:
                self.simplex_iteration = int(simplex.group(1))
                self.infeasibilities = int(simplex.group(3))
            elif line.startswith("WARNING") and any(w in line for w in _SCALING_WORDS):
                text = line.removeprefix("WARNING:").strip()
                if text not in self.warnings:
                    self.warnings.append(text)

    def _on_mip(self, event: Any) -> None:
        out = event.data_out
        self.nodes = int(out.mip_node_count)
        gap = float(out.mip_gap)
        self.gap = gap if math.isfinite(gap) else None
