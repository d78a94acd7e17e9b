"""The grid's limits per step: the one place that says what the site may import and export.

``site.grid.import_limit_kw`` and ``site.grid.export_limit_kw`` are a number or a series
(a feeder schedule, a grid company's dispatch instruction). The grid unit reads them onto
the horizon (:func:`read_limits`) into its block input's series, ``import_limit_kw``
(infinite where there is no limit) and ``export_limit_kw`` [kW]. Two optional series
lower them further, step by step:

- ``import_cap_kw``: an intraday run's peak target (the daily job,
  :func:`vpp.jobs.window.capped`);
- ``export_cap_kw``: the **no-export rule** of batteries with ``export_to_grid: false``
  (:func:`no_export_cap_kw`): the site's export at each step is at most its PV surplus,
  :math:`\\max(0, P^{pv}_t - D_t)` with :math:`P^{pv}_t` all PV available and
  :math:`D_t` the fixed load (``load_kw``) [kW], so no battery energy reaches the grid.
  Every battery of a site must give the same ``export_to_grid``.

The bounds of the grid block are :math:`\\min(\\text{limit}_t, \\text{cap}_t)`
(:func:`import_bounds_kw`, :func:`export_bounds_kw`). Every reader of a limit (the
rule-based baseline and the fallback, the real-time rule, the diagnosis, the genset's
``grid_limit`` use, reports) reads these functions, never the scenario number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.columns import has_role, role_columns
from vpp.assets.inputs import read_spec
from vpp.assets.registry import site_entries, unit
from vpp.errors import DataError, Problem, ScenarioError
from vpp.scenario.schema import SeriesSpec
from vpp.timeseries import Horizon

IMPORT_KEY = "site.grid.import_limit_kw"
EXPORT_KEY = "site.grid.export_limit_kw"

Reader = Callable[..., np.ndarray]


def read_limits(grid: Any, n: int, read: Reader) -> dict[str, np.ndarray]:
    """The import and export limits of ``grid`` on the horizon [kW].

    Parameters
    ----------
    grid : vpp.scenario.grid.Grid
        The grid connection.
    n : int
        Number of steps [-].
    read : callable
        ``read(spec, where, nonnegative=fix)``: a number or a series on the horizon,
        collecting its problems (a series that does not cover the horizon, with
        missing, non-finite or negative values: the file, the key, the first step and
        the value; :meth:`vpp.assets.inputs.InputContext.read`).

    Returns
    -------
    dict of str to numpy.ndarray
        ``import_limit_kw`` (infinite where unlimited) and ``export_limit_kw`` [kW].
    """
    imp = grid.import_limit_kw
    fix = "give limits >= 0 kW at every step (0: none at that step)"
    return {
        "import_limit_kw": np.full(n, np.inf)
        if imp is None
        else np.asarray(read(imp, IMPORT_KEY, nonnegative=fix), float),
        "export_limit_kw": np.asarray(read(grid.export_limit_kw, EXPORT_KEY, nonnegative=fix)),
    }


def _limit(spec: Any, series: dict[str, Any], key: str, n: int) -> np.ndarray:
    """The limit ``key`` per step: from the series, else the spec's number."""
    if key in series:
        return np.broadcast_to(np.asarray(series[key], float), (n,))
    value = getattr(spec, key, None)
    if isinstance(value, SeriesSpec):
        raise ValueError(
            f"the grid's {key} is a series but its block input lacks it; build the "
            "inputs with vpp.inputs.site.build_inputs"
        )
    if value is None:
        return np.full(n, np.inf)
    return np.full(n, float(value))


def _capped(limit: np.ndarray, cap: Any, n: int) -> np.ndarray:
    if cap is None:
        return limit.copy()
    cap = np.broadcast_to(np.asarray(cap, float), (n,))
    return np.minimum(np.where(np.isfinite(cap), cap, np.inf), limit)


def import_bounds_kw(spec: Any, series: dict[str, Any], n: int) -> np.ndarray:
    r"""The import's upper bound per step: :math:`\min(\bar P^{imp}_t, \bar P^{cap}_t)`
    (``import_limit_kw``, ``import_cap_kw``; NaN or infinite caps: no cap there;
    infinite: unlimited) [kW]."""
    return _capped(_limit(spec, series, "import_limit_kw", n), series.get("import_cap_kw"), n)


def export_bounds_kw(spec: Any, series: dict[str, Any], n: int) -> np.ndarray:
    r"""The export's upper bound per step: :math:`\min(\bar P^{exp}_t, \bar E^{cap}_t)`
    (``export_limit_kw``, ``export_cap_kw``) [kW]."""
    return _capped(_limit(spec, series, "export_limit_kw", n), series.get("export_cap_kw"), n)


def grid_asset(assets: list[Any]) -> Any | None:
    """The block input that balances the site (the grid connection), or None."""
    return next((a for a in assets if has_role(unit(a.kind), "grid_import")), None)


def site_limits_kw(assets: list[Any], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The site's import and export bounds per step (:func:`import_bounds_kw`,
    :func:`export_bounds_kw`) from its block inputs [kW]; a site without a grid
    connection may neither import nor export."""
    grid = grid_asset(assets)
    if grid is None:
        return np.zeros(n), np.zeros(n)
    return (
        import_bounds_kw(grid.spec, grid.series, n),
        export_bounds_kw(grid.spec, grid.series, n),
    )


def site_import_limits_kw(assets: list[Any], n: int) -> np.ndarray:
    """The scenario's import limit per step, without caps (infinite: none) [kW]."""
    grid = grid_asset(assets)
    return (
        np.full(n, np.inf) if grid is None else _limit(grid.spec, grid.series, "import_limit_kw", n)
    )


def no_export_cap_kw(site: Any, columns: dict[str, np.ndarray], n: int) -> np.ndarray | None:
    """The export cap of the no-export rule (module docstring) [kW], or None when every
    battery may export (``export_to_grid`` true, the default, or no battery).

    Raises
    ------
    ScenarioError
        The batteries of the site give different ``export_to_grid`` values.
    """
    given: dict[bool, list[str]] = {}
    for _, entry in site_entries(site):
        value = getattr(entry, "export_to_grid", None)
        if isinstance(value, bool):
            given.setdefault(value, []).append(str(getattr(entry, "name", "?")))
    if len(given) > 1:
        raise ScenarioError(
            Problem(
                "the batteries of one site give different export_to_grid values: the rule "
                "caps the site's export, so they must agree",
                key="site.batteries[].export_to_grid",
                value=f"true for {', '.join(given[True])}; false for {', '.join(given[False])}",
                allowed="the same value for every battery of the site",
                fix="set export_to_grid to the same value on every battery",
            )
        )
    if given.get(False) is None:
        return None
    pv = np.zeros(n)
    for _, _, column in role_columns(site, "pv_available"):
        if column in columns:
            pv = pv + np.asarray(columns[column], float)
    load = np.asarray(columns.get("load_kw", np.zeros(n)), float)
    return np.maximum(pv - load, 0.0)


def limit_on_index(
    grid: Any, key: str, index: pd.DatetimeIndex, step_h: float | None = None
) -> np.ndarray:
    """The scenario's limit ``key`` (``import_limit_kw`` or ``export_limit_kw``) on the
    steps of ``index``, for readers that hold a schedule rather than the block inputs
    (infinite: no import limit) [kW].

    Parameters
    ----------
    grid : vpp.scenario.grid.Grid
        The grid connection.
    key : str
        ``import_limit_kw`` or ``export_limit_kw``.
    index : pandas.DatetimeIndex
        Regular, timezone-aware steps (a schedule's index, or a part of it).
    step_h : float, optional
        Step [h]; default: from ``index``.

    Raises
    ------
    DataError
        The series cannot be read on these steps (the file, the key, the first step).
    """
    value = getattr(grid, key)
    n = len(index)
    if value is None:
        return np.full(n, np.inf)
    if not isinstance(value, SeriesSpec):
        return np.full(n, float(value))
    if n == 0:
        return np.zeros(0)
    if step_h is None:
        step = index[1] - index[0] if n > 1 else pd.Timedelta(index.freq or "1h")
        step_h = step.total_seconds() / 3600.0
    try:
        stat = value.file.stat()
        memo_key = (value, stat.st_mtime_ns, stat.st_size, index[0], n, step_h, key)
    except OSError:  # unreadable: read_spec names the problem
        memo_key = None
    if memo_key is not None and memo_key in _READ:
        return _READ[memo_key].copy()
    steps = pd.DatetimeIndex(index, freq=pd.Timedelta(hours=step_h))
    problems: list[Problem] = []
    values = read_spec(value, Horizon(steps, step_h), f"site.grid.{key}", problems)
    if values is None:
        raise DataError(problems)
    if memo_key is not None:
        if len(_READ) >= _READ_SLOTS:
            _READ.pop(next(iter(_READ)))
        _READ[memo_key] = values.copy()
    return values


#: Limit series read by :func:`limit_on_index`, by (spec, file modification time and
#: size, first step, steps, step, key): a run's baselines, violation counts and figures
#: read the same file on the same steps several times; a changed file is read again.
_READ: dict[tuple[Any, ...], np.ndarray] = {}
#: Most series kept in :data:`_READ` (the oldest is dropped first) [-].
_READ_SLOTS = 8


def forecast_surplus_kw(site: Any, forecasts: dict[str, Any], n: int) -> np.ndarray | None:
    """The no-export cap on forecasts: :math:`\\max(0, \\sum_{pv} \\hat A_t - \\hat D_t)`
    over ``n`` steps from the forecasts of the load (``load_kw``) and of every PV array
    (``<array>_available_kw``) [kW]; None when one of them is not forecast."""
    columns = [column for _, _, column in role_columns(site, "pv_available")]
    if "load_kw" not in forecasts or any(c not in forecasts for c in columns):
        return None
    pv = sum((np.asarray(forecasts[c], float)[:n] for c in columns), np.zeros(n))
    return np.maximum(pv - np.asarray(forecasts["load_kw"], float)[:n], 0.0)


def limit_text(value: Any) -> str:
    """A scenario limit for a label: ``1,000 kW``, ``series (file.csv)`` or ``none``."""
    if value is None:
        return "none set"
    if isinstance(value, SeriesSpec):
        return f"series {value.file.name}"
    return f"{float(value):,.0f} kW"


def may_export(grid: Any) -> bool:
    """Whether the scenario's export limit allows export at some step (a series: yes)."""
    value = grid.export_limit_kw
    return isinstance(value, SeriesSpec) or float(value) > 0.0


#: Battery energy to the grid below this is rounding, not a breach of the rule [kWh].
BATTERY_EXPORT_TOL_KWH = 1e-3


def battery_export_note(site: Any, schedule: pd.DataFrame, step_h: float) -> str | None:
    r"""What the no-export rule let through, for the run's notes; None when nothing did.

    With ``export_to_grid: false`` the export of each step is capped at the PV surplus
    over the fixed load, :math:`\max(0, A_t - D_t)`. Energy a flexible load (shiftable,
    curtailable, deferrable, EV) takes from PV is not in that bound: the surplus after
    the flexible loads, :math:`\max(0, A_t - D_t - F_t)`, depends on the plan and is not
    a linear bound; nor is PV curtailed while the battery exports (where battery energy
    is worth no more than PV, as with ``final_soc: free``, the two tie). A battery serving
    a flexible load while the PV is exported, or exporting while PV is curtailed, then
    reaches the grid under the flows' PV-first rule (``flow_battery_to_grid_kw``); this
    says how much, in how many steps, from which step.
    """
    if all(b.export_to_grid for b in site.batteries) or "flow_battery_to_grid_kw" not in schedule:
        return None
    kw = schedule["flow_battery_to_grid_kw"].to_numpy(dtype=float)
    kwh = float(kw.sum()) * step_h
    if kwh <= BATTERY_EXPORT_TOL_KWH:
        return None
    steps = np.flatnonzero(kw * step_h > BATTERY_EXPORT_TOL_KWH)
    return (
        f"export_to_grid is false, yet {kwh:,.1f} kWh of battery energy reached the grid in "
        f"{steps.size} step(s) from {schedule.index[steps[0]] if steps.size else '?'} by the "
        "flows' PV-first rule: the rule caps export at the available PV's surplus over the "
        "fixed load, and flexible loads took PV the battery then replaced, or PV was "
        "curtailed (the surplus after flexible loads and curtailment depends on the plan "
        "and is not a linear bound); see flow_battery_to_grid_kw"
    )
