"""Python warnings as the job's flags and log lines, never raw on stderr.

The daily job runs unattended: what it says must be in ``summary.json`` and in its log,
with its wall clock, not in a stray ``UserWarning`` line on stderr that no one reads. A
library (pandas, numpy, HiGHS' wrapper) or a part of ``vpp`` may still call
:func:`warnings.warn`; :func:`capture_warnings` turns each such warning raised inside it
into a flag and a log line (category, message, the module that raised it).

Every warning is recorded, whatever the interpreter's filters say (a warning filtered
as "once" elsewhere would otherwise be silent in a second run of the same process); the
same warning (category, message, module) raised again is recorded once, with a count.
Warnings in other processes (a process pool) are not seen: those report through their
results.

Only the job's own warnings become flags, so that two runs on the same inputs write the
same ``summary.json``: a warning raised in another thread of the process (a server's, a
client library's), or by a finalizer while the cyclic garbage collector runs (e.g.
``ResourceWarning: unclosed <socket...>`` of an object that earlier work in the process
left behind: when it is collected depends on the process's history, not on the run) is
not a flag: the former goes to the process's usual warning handler, the latter (raised
in the job's thread) to the job's log.
"""

from __future__ import annotations

import gc
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Characters of a warning's message kept in a flag (the log line has it whole).
MESSAGE_CHARS = 300


def module_of(filename: str) -> str:
    """The dotted name of the loaded module whose file is ``filename``, else the file."""
    path = Path(filename)
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file) == path:
            return name
    return str(filename)


@contextmanager
def capture_warnings(flags: list[str], say: Callable[[str], Any]) -> Iterator[None]:
    """Record every warning the run raises inside the block as a flag and a log line.

    Warnings of other threads, and of finalizers run by the garbage collector, are not
    the run's (module docstring): the former go to the handler in place on entering, the
    latter to ``say`` on leaving, neither to ``flags``.

    Parameters
    ----------
    flags : list of str
        The job's flags; one is appended per distinct warning:
        ``Python warning <Category> from <module> (<file>:<line>): <message>``,
        with `` (raised N times)`` when it was raised again.
    say : callable
        The job's log (``say(text)`` writes one line with the wall clock); called at
        each distinct warning, when it is raised.

    Notes
    -----
    The interpreter's warning filters and ``warnings.showwarning`` are restored on
    leaving, also after an exception. Not for concurrent use from several threads
    (:class:`warnings.catch_warnings` is process-wide).
    """
    seen: dict[tuple[str, str, str], list[int]] = {}  # key -> [flag index, times]
    job_thread = threading.get_ident()
    collecting: set[int] = set()  # the threads running a garbage collection now
    collected: list[str] = []  # warnings of finalizers run by the collector in the job's thread
    usual = warnings.showwarning

    def collector(phase: str, _info: dict) -> None:
        if phase == "start":
            collecting.add(threading.get_ident())
        else:
            collecting.discard(threading.get_ident())

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        thread = threading.get_ident()
        if thread != job_thread:  # not the run's (module docstring)
            usual(message, category, filename, lineno, file, line)
            return
        if thread in collecting:  # logged on leaving: a write now could re-enter the log's
            collected.append(f"{category.__name__}: {message}")
            return
        module = module_of(filename)
        text = str(message)
        key = (category.__name__, text, module)
        if key in seen:
            seen[key][1] += 1
            return
        where = f"{Path(filename).name}:{lineno}"
        short = text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."
        flags.append(f"Python warning {category.__name__} from {module} ({where}): {short}")
        seen[key] = [len(flags) - 1, 1]
        say(f"warning: {category.__name__} from {module} ({where}): {text}")

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        gc.callbacks.append(collector)
        try:
            yield
        finally:
            gc.callbacks.remove(collector)
            for text in collected:
                say(f"warning at a garbage collection (not a flag, not the run's): {text}")
            for index, times in seen.values():
                if times > 1 and index < len(flags):
                    flags[index] += f" (raised {times} times)"
