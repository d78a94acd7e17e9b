"""Calendar months of a schedule: what the bill settles month by month."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["month_keys", "monthly_peaks_kw", "sum_by_month"]


def month_keys(index: pd.DatetimeIndex) -> np.ndarray:
    """The local calendar month ``YYYY-MM`` of each label."""
    local = index.tz_localize(None) if index.tz is not None else index
    return np.asarray(local.strftime("%Y-%m"), dtype=object)


def monthly_peaks_kw(import_kw: pd.Series) -> dict[str, float]:
    """The largest import of each calendar month [kW], keyed ``YYYY-MM``."""
    keys = month_keys(import_kw.index)
    peaks = pd.Series(import_kw.to_numpy(), index=keys).groupby(level=0, sort=False).max()
    return {str(k): float(v) for k, v in peaks.items()}


def sum_by_month(values: np.ndarray, months: np.ndarray) -> dict[str, float]:
    """``values`` (one per step) summed by the steps' months ``YYYY-MM``, in order of
    first appearance."""
    sums = pd.Series(values).groupby(months, sort=False).sum()
    return {str(k): float(v) for k, v in sums.items()}
