"""Billing periods and windows of a demand charge, from timestamps alone.

Shared by the inputs (:mod:`vpp.assets.demand_charge.rules`), which give the block its
window and billing map, and the bill (:mod:`vpp.assets.demand_charge.money`), which
recomputes the charge from a schedule: both apply one definition.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.months import month_keys

__all__ = [
    "billed_peaks_kw",
    "billing_index",
    "billing_key",
    "billing_months",
    "billing_start",
    "tou_periods_at",
    "window_mask",
]


def billing_index(index: pd.DatetimeIndex, per: str) -> np.ndarray:
    """The billing period (0..B-1, in time order) of each step: its local calendar month
    (``per == "month"``) or local date (``"day"``) [-]."""
    code = np.asarray(index.year, dtype=np.int64) * 100 + np.asarray(index.month, dtype=np.int64)
    if per == "day":
        code = code * 100 + np.asarray(index.day, dtype=np.int64)
    return np.unique(code, return_inverse=True)[1].reshape(-1).astype(np.int64)


def billing_months(index: pd.DatetimeIndex, billing: np.ndarray) -> list[str]:
    """The calendar month ``YYYY-MM`` each billing period is billed in (that of its
    steps), one per billing period, in order."""
    months = month_keys(index)
    first = np.unique(billing, return_index=True)[1]
    return [str(months[i]) for i in first.tolist()]


def window_mask(index: pd.DatetimeIndex, tou_period: np.ndarray, charge: Any) -> np.ndarray:
    """Whether each step lies in the charge's window: its TOU period is one of
    ``periods``, its start is inside one of the clock ``hours`` (start inclusive, end
    exclusive, over midnight when end < start) and its month is one of ``months``; a key
    left out (None) restricts nothing."""
    mask = np.ones(len(index), dtype=bool)
    if charge.periods is not None:
        mask &= np.isin(np.asarray(tou_period, dtype=object), list(charge.periods))
    if charge.hours is not None:
        minute = np.asarray(index.hour, dtype=np.int64) * 60 + np.asarray(index.minute)
        inside = np.zeros(len(index), dtype=bool)
        for window in charge.hours:
            start, end = window.minutes()
            if start < end:
                inside |= (minute >= start) & (minute < end)
            else:
                inside |= (minute >= start) | (minute < end)
        mask &= inside
    if charge.months is not None:
        mask &= np.isin(np.asarray(index.month, dtype=np.int64), list(charge.months))
    return mask


def billed_peaks_kw(
    quantity_kw: np.ndarray, mask: np.ndarray, billing: np.ndarray, floor_kw: np.ndarray
) -> np.ndarray:
    """The billed peak of each billing period: :math:`\\max(\\underline{\\hat P}_b,
    \\max_{t \\in b \\cap W} q_t)` [kW], with ``floor_kw`` one value per billing period."""
    peaks = np.asarray(floor_kw, dtype=float).copy()
    np.maximum.at(peaks, billing[mask], np.asarray(quantity_kw, dtype=float)[mask])
    return peaks


def tou_periods_at(grid: Any, index: pd.DatetimeIndex) -> np.ndarray:
    """The grid calendar's TOU period of each timestamp (``series`` for a grid priced by
    a series, which has no periods) [-]: a charge's window on timestamps outside the
    run's horizon (the daily job's meter readings since the billing period's start)."""
    from vpp.tariffs.calendars import apply_calendar, load_calendar

    price = grid.energy_price
    if price.series is not None or not len(index):
        return np.full(len(index), "series", dtype=object)
    if isinstance(price.calendar, str):
        calendar = load_calendar(price.calendar)
    else:
        calendar = price.calendar.model_dump(exclude_none=True)
    tou = apply_calendar(index, calendar, None, price.day_rules, with_prices=False)
    return np.asarray(tou.periods, dtype=object)


def billing_start(index_or_now: pd.Timestamp, per: str) -> pd.Timestamp:
    """The first instant of the billing period holding ``index_or_now``: its local
    calendar month's (``per == "month"``) or date's (``"day"``)."""
    day = index_or_now.normalize()
    return day if per == "day" else day.replace(day=1)


def billing_key(moment: pd.Timestamp, per: str) -> str:
    """The billing period's name: ``YYYY-MM`` (``per == "month"``) or ``YYYY-MM-DD``."""
    return moment.strftime("%Y-%m-%d" if per == "day" else "%Y-%m")
