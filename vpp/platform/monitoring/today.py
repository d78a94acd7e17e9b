"""Today's plan against the metered actuals (the site's day page and the park's chart).

Per step :math:`t` of today that has ended, with a metered import :math:`P^{act}_t` and
the schedule's import :math:`P^{plan}_t` [kW] (the set :math:`C` of steps with both):

.. math::

    E^{plan} = \\sum_{t \\in C} P^{plan}_t \\Delta t, \\qquad
    E^{act} = \\sum_{t \\in C} P^{act}_t \\Delta t, \\qquad
    \\text{deviation} = E^{act} - E^{plan}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from vpp.platform.monitoring.data import column as _column
from vpp.platform.monitoring.data import finite_or_none as _num

__all__ = ["plan_vs_actual"]


def _list(values: np.ndarray) -> list[float | None]:
    values = np.asarray(values, dtype=float)
    out: list[float | None] = values.tolist()
    for k in np.flatnonzero(~np.isfinite(values)).tolist():
        out[k] = None
    return out


_labels_kept: dict[tuple[Any, int], list[str]] = {}


def _labels(index: pd.DatetimeIndex) -> list[str]:
    """The steps' ISO 8601 labels (kept per first step and count: every site of a park
    shares today's)."""
    if not len(index):
        return []
    key = (index[0], len(index))
    if key not in _labels_kept:
        if len(_labels_kept) > 64:
            _labels_kept.clear()
        _labels_kept[key] = [t.isoformat() for t in index]
    return list(_labels_kept[key])


def plan_vs_actual(
    plan: pd.DataFrame | None,
    actual: pd.DataFrame,
    now: pd.Timestamp,
    step_h: float,
    pv: Sequence[str] = (),
    soc: Sequence[str] = (),
) -> dict[str, Any]:
    """Today's plan against the metered actuals.

    Parameters
    ----------
    plan : pandas.DataFrame or None
        The schedule to dispatch (``grid_import_kw``, ``load_kw``, PV columns), indexed
        by ISO 8601 step labels; None when no schedule is stored.
    actual : pandas.DataFrame
        The readings on today's step grid (:func:`~vpp.platform.monitoring.data.readings_frame`).
    now : pandas.Timestamp
        The present (zone-aware): steps ending at or before it are elapsed.
    step_h : float
        Step [h].
    pv : sequence of str
        The PV channels (plan columns of the same names).
    soc : sequence of str
        The state-of-charge channels (plan columns of the same names) [kWh].

    Returns
    -------
    dict
        ``timestamps``; per step ``plan_import_kw``, ``actual_import_kw``,
        ``plan_load_kw``, ``actual_load_kw``, ``plan_pv_kw``, ``actual_pv_kw`` (None:
        none); over the elapsed steps with an import reading: ``plan_import_kwh``,
        ``actual_import_kwh``, ``deviation_kwh`` (actual - plan), ``deviation_fraction``
        (of the plan; None when the plan is 0), ``mean_abs_deviation_kw``;
        ``plan_peak_kw`` (the whole day), ``actual_peak_kw`` (so far), ``elapsed_steps``,
        ``metered_steps`` and ``has_plan``.
    """
    index = actual.index
    n = len(index)
    ends = index + pd.Timedelta(hours=step_h)
    elapsed = np.asarray(ends <= now, dtype=bool)
    act_imp = _column(actual, "import_kw")
    act_load = _column(actual, "load_kw")
    act_pv = sum((np.nan_to_num(_column(actual, c)) for c in pv), np.zeros(n))
    any_pv = np.zeros(n, dtype=bool)
    for c in pv:
        any_pv |= np.isfinite(_column(actual, c))
    act_pv = np.where(any_pv, act_pv, np.nan)
    plan_imp = plan_load = plan_pv = np.full(n, np.nan)
    table = None
    if plan is not None:
        table = plan.copy()
        table.index = pd.DatetimeIndex(pd.to_datetime(table.index)).tz_convert(index.tz)
        table = table.reindex(index)
        plan_imp = _column(table, "grid_import_kw")
        plan_load = _column(table, "load_kw")
        pv_cols = [c for c in pv if c in table]
        plan_pv = table[pv_cols].sum(axis=1).to_numpy(dtype=float) if pv_cols else plan_pv
    soc_kwh = {
        name: {
            "plan": _list(_column(table, name) if table is not None else np.full(n, np.nan)),
            "actual": _list(_column(actual, name)),
        }
        for name in soc
    }
    used = elapsed & np.isfinite(act_imp) & np.isfinite(plan_imp)
    plan_kwh = float(np.sum(plan_imp[used]) * step_h)
    act_kwh = float(np.sum(act_imp[used]) * step_h)
    metered = elapsed & np.isfinite(act_imp)
    return {
        "has_plan": plan is not None,
        "timestamps": _labels(index),
        "plan_import_kw": _list(plan_imp),
        "actual_import_kw": _list(act_imp),
        "plan_load_kw": _list(plan_load),
        "actual_load_kw": _list(act_load),
        "plan_pv_kw": _list(plan_pv),
        "actual_pv_kw": _list(act_pv),
        "soc_kwh": soc_kwh,
        "elapsed_steps": int(elapsed.sum()),
        "metered_steps": int(metered.sum()),
        "compared_steps": int(used.sum()),
        "plan_import_kwh": plan_kwh,
        "actual_import_kwh": act_kwh,
        "deviation_kwh": act_kwh - plan_kwh,
        "deviation_fraction": (act_kwh - plan_kwh) / plan_kwh if plan_kwh > 0 else None,
        "mean_abs_deviation_kw": (
            float(np.mean(np.abs(act_imp[used] - plan_imp[used]))) if used.any() else None
        ),
        "plan_peak_kw": _num(np.nanmax(plan_imp)) if np.isfinite(plan_imp).any() else None,
        "actual_peak_kw": _num(np.max(act_imp[metered])) if metered.any() else None,
    }
