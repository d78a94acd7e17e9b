"""Reading a unit's columns from a schedule that may lack them (a baseline schedule)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["column_or_zero", "sum_columns"]


def column_or_zero(schedule: pd.DataFrame, name: str) -> np.ndarray:
    """The column ``name`` as floats, or zeros when the schedule has no such column."""
    if name in schedule:
        return schedule[name].to_numpy(dtype=float)
    return np.zeros(len(schedule))


def sum_columns(schedule: pd.DataFrame, names: Iterable[str]) -> np.ndarray:
    """The sum of the columns ``names`` that the schedule has, per step (zeros if none)."""
    total = np.zeros(len(schedule))
    for name in names:
        if name in schedule:
            total += schedule[name].to_numpy(dtype=float)
    return total
