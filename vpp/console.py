"""What the ``vpp`` command writes on stderr besides errors: progress and detail lines.

``vpp -q`` silences the progress lines (results, warnings and errors still print),
``vpp -v`` adds detail: how long each stage took, and the lines the library logs at DEBUG
level on a ``vpp.*`` logger (such as the HiGHS status and problem size). The library
reports progress through the ``progress=`` function the command hands it
(:func:`progress`); both go through the ``vpp`` logger, whose level
:func:`configure_output` sets from -q and -v.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "PROGRESS",
    "add_output_options",
    "configure_output",
    "progress",
    "progress_bar",
    "version",
]

#: The logger of the progress lines; :func:`configure_output` sets its level.
PROGRESS = logging.getLogger("vpp")


def progress(start: float) -> Callable[[str], None]:
    """The progress function handed to the library: ``[  12.3 s] message`` on stderr.

    Silent with ``-q``; with ``-v`` each line also says how long the stage before it took
    (``+0.85 s``). The lines go through the ``vpp`` logger, where the library may add
    detail at DEBUG level (shown with ``-v``).
    """
    last = [start]

    def say(message: str) -> None:
        now = time.perf_counter()
        if PROGRESS.isEnabledFor(logging.DEBUG):
            PROGRESS.info(f"[{now - start:5.1f} s, +{now - last[0]:.2f} s] {message}")
        else:
            PROGRESS.info(f"[{now - start:5.1f} s] {message}")
        last[0] = now

    return say


def progress_bar() -> Callable[[int, int], None]:
    """The sweep's progress bar (:func:`vpp.parallel.progress_bar`); nothing with ``-q``."""
    from vpp.parallel import progress_bar as bar

    if not PROGRESS.isEnabledFor(logging.INFO):
        return lambda _done, _total: None
    return bar()


def version() -> str:
    """This installation's version of vpp (``unknown`` when it is not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("vpp")
    except PackageNotFoundError:
        return "unknown"


class _Stderr(logging.StreamHandler):
    """A handler that writes to ``sys.stderr`` as it is when a line is written (not as it
    was when the handler was made), flushing each line."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def add_output_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Add -q and -v to ``parser``; a subcommand's (``defaults`` false) leave the values
    given before the subcommand alone."""
    group = parser.add_argument_group("output")
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False if defaults else argparse.SUPPRESS,
        help="no progress lines on stderr (results, warnings and errors still print)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if defaults else argparse.SUPPRESS,
        help="more detail on stderr: how long each stage took, and the library's detail "
        "lines (solver log lines where a solver reports them)",
    )


def configure_output(quiet: bool, verbose: int) -> None:
    """Route the ``vpp`` logger to stderr at the level -q/-v ask for (again at each call of
    :func:`vpp.cli.main`, replacing the handler of the call before)."""
    for handler in [h for h in PROGRESS.handlers if isinstance(h, _Stderr)]:
        PROGRESS.removeHandler(handler)
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(message)s"))
    PROGRESS.addHandler(handler)
    PROGRESS.propagate = False
    PROGRESS.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
