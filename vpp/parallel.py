"""Run many independent calls of one function: local processes, or a Dask cluster.

:func:`run_many` calls ``func(item)`` for every item and returns one :class:`Outcome` per
item, in the order of ``items``. By default the calls run in local worker processes
started with ``spawn`` (never ``fork``: HiGHS and the threads of its host process do not
survive a fork). Given ``scheduler="tcp://host:port"``, the same calls go to that Dask
cluster (``dask.distributed``), with no change for the caller: ``func`` and the items
must be picklable, and ``func`` importable on the workers (a top-level function of an
installed package).

An exception inside one call becomes that outcome's ``error``; the other calls go on.

This module imports nothing of vpp (see DESIGN.md): the worker processes only import
what ``func`` needs.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["Outcome", "progress_bar", "run_many"]

#: Called after each completion with (runs done, runs in all).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Outcome:
    """What became of one call ``func(item)``.

    Attributes
    ----------
    index : int
        Position of the item in ``items``.
    item : object
        The item itself.
    value : object or None
        What ``func`` returned; None when it raised.
    error : str or None
        ``"ExceptionType: message"`` when ``func`` raised (or the worker died), else None.
    exit_code : int or None
        The exception's ``exit_code`` attribute when it has one (vpp errors: 2 bad input,
        3 infeasible, 4 solver failure), else None.
    seconds : float
        Wall time of the call inside its worker [s]; 0 when the worker died.
    """

    index: int
    item: Any
    value: Any = None
    error: str | None = None
    exit_code: int | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the call returned."""
        return self.error is None


def _describe(exc: BaseException) -> tuple[str, int | None]:
    """``"ExceptionType: message"`` and the exception's exit code, if it has one."""
    code = getattr(exc, "exit_code", None)
    return f"{type(exc).__name__}: {exc}", code if isinstance(code, int) else None


def _call(func: Callable[[Any], Any], item: Any) -> tuple[Any, str | None, int | None, float]:
    """Run ``func(item)`` in a worker and catch what it raises.

    Returns (value, error, exit code, seconds). Exceptions become text here, in the
    worker, so that one that cannot be pickled still reaches the caller.
    """
    start = time.perf_counter()
    try:
        value = func(item)
    except Exception as exc:  # every failure of one run is recorded, the others go on
        error, code = _describe(exc)
        if os.environ.get("VPP_PARALLEL_TRACEBACK"):
            error += "\n" + traceback.format_exc()
        return None, error, code, time.perf_counter() - start
    return value, None, None, time.perf_counter() - start


def run_many(
    func: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[Outcome]:
    """Call ``func(item)`` for every item in parallel; return the outcomes in item order.

    Parameters
    ----------
    func : callable
        A top-level (picklable) function of one argument.
    items : iterable
        The arguments, one per call; each must be picklable.
    workers : int, optional
        Local worker processes [-]; default ``os.cpu_count()``, never more than the
        number of items. Ignored with ``scheduler`` (the cluster has its own workers).
    scheduler : str, optional
        Address of a Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``. Needs ``dask`` and
        ``distributed``; the workers need the packages that ``func`` imports.
    progress : callable, optional
        Called as ``progress(done, total)`` after each call completes
        (see :func:`progress_bar`).

    Returns
    -------
    list of Outcome
        One per item, ordered by ``index``. Failed calls have ``error`` set.

    Raises
    ------
    ValueError
        ``workers`` below 1.
    OSError
        The Dask scheduler cannot be reached.
    """
    items = list(items)
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if not items:
        return []
    if scheduler:
        outcomes = _run_dask(func, items, scheduler, progress)
    else:
        n = min(workers or os.cpu_count() or 1, len(items))
        outcomes = _run_local(func, items, n, progress)
    return sorted(outcomes, key=lambda o: o.index)


def _outcome(index: int, item: Any, result: tuple[Any, str | None, int | None, float]) -> Outcome:
    value, error, code, seconds = result
    return Outcome(index, item, value, error, code, seconds)


def _run_local(
    func: Callable[[Any], Any], items: Sequence[Any], workers: int, progress: Progress | None
) -> list[Outcome]:
    """Local worker processes (``spawn``), results in completion order."""
    context = multiprocessing.get_context("spawn")
    outcomes: list[Outcome] = []
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_call, func, item): i for i, item in enumerate(items)}
        try:
            for future in cf.as_completed(futures):
                i = futures[future]
                try:
                    outcomes.append(_outcome(i, items[i], future.result()))
                except Exception as exc:  # the worker died, or the item/value did not pickle
                    error, code = _describe(exc)
                    outcomes.append(Outcome(i, items[i], None, error, code, 0.0))
                if progress is not None:
                    progress(len(outcomes), len(items))
        except BaseException:  # Ctrl-C: drop the queued runs, do not wait for them
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return outcomes


def _run_dask(
    func: Callable[[Any], Any], items: Sequence[Any], scheduler: str, progress: Progress | None
) -> list[Outcome]:
    """The same calls on a Dask cluster, results in completion order."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - both are dependencies of vpp
        raise ImportError(
            f"running on the Dask scheduler {scheduler} needs 'dask' and 'distributed': "
            "pip install dask distributed"
        ) from exc

    outcomes: list[Outcome] = []
    with Client(scheduler) as client:
        futures = [client.submit(_call, func, item, pure=False) for item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in as_completed(futures):
                i = index[future.key]
                try:
                    outcomes.append(_outcome(i, items[i], future.result()))
                except Exception as exc:  # a worker was lost (KilledWorker), or pickling failed
                    error, code = _describe(exc)
                    outcomes.append(Outcome(i, items[i], None, error, code, 0.0))
                if progress is not None:
                    progress(len(outcomes), len(items))
        except BaseException:
            client.cancel(futures)
            raise
    return outcomes


def progress_bar(stream: TextIO | None = None, *, width: int = 30, label: str = "runs") -> Progress:
    """A text progress bar for :func:`run_many`, written to ``stream`` (default stderr).

    On a terminal one line is redrawn in place; otherwise (a log file, a pipe) a line is
    written at each tenth of the runs and at the end.

    Parameters
    ----------
    stream : file-like, optional
        Where to write; default ``sys.stderr``.
    width : int
        Bar length [characters].
    label : str
        What is counted.

    Returns
    -------
    callable
        ``progress(done, total)``.
    """
    start = time.perf_counter()
    last_tenth = [-1]

    def show(done: int, total: int) -> None:
        out = stream if stream is not None else sys.stderr
        elapsed = time.perf_counter() - start
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "." * (width - filled)
        text = f"[{bar}] {done}/{total} {label}, {elapsed:.0f} s"
        if 0 < done < total:
            text += f", about {elapsed * (total - done) / done:.0f} s left"
        if out.isatty():
            end = "\n" if done >= total else ""
            out.write(f"\r{text}\033[K{end}")
        else:
            tenth = 10 * done // total if total else 10
            if tenth == last_tenth[0] and done < total:
                return
            last_tenth[0] = tenth
            out.write(text + "\n")
        out.flush()

    return show
