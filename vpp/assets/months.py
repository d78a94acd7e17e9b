"""Calendar months of a schedule: what the bill settles month by month."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["month_keys", "monthly_peaks_kw", "sum_by_month"]


def month_keys(index: pd.DatetimeIndex) -> np.ndarray:
    """The local calendar month ``YYYY-MM`` of each label (object array of str)."""
    code = np.asarray(index.year, dtype=np.int64) * 100 + np.asarray(index.month, dtype=np.int64)
    uniques, inverse = np.unique(code, return_inverse=True)
    labels = np.array([f"{c // 100:04d}-{c % 100:02d}" for c in uniques.tolist()], dtype=object)
    return labels[inverse.reshape(-1)]


def monthly_peaks_kw(import_kw: pd.Series) -> dict[str, float]:
    """The largest import of each calendar month [kW], keyed ``YYYY-MM`` in order."""
    month_id, uniques = pd.factorize(month_keys(import_kw.index))
    peaks = pd.Series(import_kw.to_numpy()).groupby(month_id, sort=False).max()
    return {str(uniques[int(k)]): float(v) for k, v in peaks.items()}


def sum_by_month(values: np.ndarray, months: np.ndarray) -> dict[str, float]:
    """``values`` (one per step) summed by the steps' months ``YYYY-MM``, in order of
    first appearance."""
    sums = pd.Series(values).groupby(months, sort=False).sum()
    return {str(k): float(v) for k, v in sums.items()}
