"""Bounds of a series' values, checked on the rows of its file.

A series read with ``resample: mean`` is averaged over each horizon step, so a bound
checked on the averaged values lets a bad row through when its neighbours pull the mean
back inside (an import limit of -50 kW among three rows of 100 kW averages to 62.5 kW).
:func:`vpp.timeseries.read_series` therefore checks each :class:`Bound` on every row of
the file that the horizon uses, after the scale and before any averaging: the problem
names the file, the column, the row's own timestamp and line, its value, what is allowed
and the fix. A bound holds for the averaged values too, so nothing is checked twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vpp.errors import Problem

__all__ = ["Bound", "row_problems"]


@dataclass(frozen=True)
class Bound:
    """One bound of a series' values [their unit], after the scale.

    Attributes
    ----------
    message : str
        What is wrong, for the problem (``values must not be negative``).
    allowed : str
        What is allowed, with the unit (``>= 0 kW``).
    fix : str
        How to correct the file or the spec.
    lower, upper : float
        The closed range allowed [unit]; infinite for no bound on a side.
    unit : str
        The values' unit, shown with the value.
    """

    message: str
    allowed: str
    fix: str
    lower: float = -math.inf
    upper: float = math.inf
    unit: str = ""


def row_problems(
    raw: np.ndarray,
    used: np.ndarray,
    bounds: Sequence[Bound],
    where: Callable[[int], tuple[str, str]],
    file: Path,
    key: str,
    scale: float,
    limit: float,
) -> list[Problem]:
    """One problem per bound that a used row breaks, naming its first such row.

    Parameters
    ----------
    raw : numpy.ndarray
        The file's values, row by row, before the scale [unit]; finite where used.
    used : numpy.ndarray of bool
        The rows the horizon uses (before any averaging).
    bounds : sequence of Bound
        The series' own bounds, each giving its own problem; the ``limit`` is checked
        first.
    where : callable
        Row position -> (its timestamp, its row and line), for the message.
    file : pathlib.Path
        The series file.
    key : str
        The key path with the column, for the message.
    scale : float
        The spec's scale [-], applied before the check and shown when it is not 1.
    limit : float
        Largest absolute value after the scale [unit].

    Returns
    -------
    list of Problem
        Empty when every used row is inside every bound.
    """
    out_of_range = Bound(
        "value(s) are out of range" + " once scaled" * (scale != 1.0),
        f"finite values, at most {limit:g} in absolute value after the scale",
        "check the values and their unit, and `scale:`",
        -limit,
        limit,
    )
    with np.errstate(over="ignore", invalid="ignore"):
        values = raw * float(scale)
    problems = []
    for bound in (out_of_range, *bounds):
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(used & ((values < bound.lower) | (values > bound.upper)))
        if not bad.size:
            continue
        i = int(bad[0])
        stamp, row = where(i)
        shown = f"{values[i]:g} {bound.unit}".strip()
        problems.append(
            Problem(
                f"{bound.message} ({bad.size} row(s) of the file in the horizon's span, checked "
                f"before any averaging; the first is {row})",
                file=str(file),
                key=key,
                timestamp=stamp,
                value=shown + (f" (after scale {scale:g})" if scale != 1.0 else ""),
                allowed=bound.allowed,
                fix=bound.fix,
            )
        )
    return problems
