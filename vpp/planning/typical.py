r"""Sizing on typical days: time-series aggregation with tsam and inter-period storage.

``planning.representative_periods: {days: N}`` sizes the candidates on N typical days
(plus the month-peak days, below) instead of every day of the horizon.

**Aggregation.** Every per-step series the sizing model reads (the load, each PV array's
availability, the energy and export prices, the grid's limits; labels such as a
month's id, copies and near-constant series dropped: :func:`features`) is cut into
calendar days of :math:`S` steps and the days are clustered by ``tsam`` (2.3,
hierarchical clustering, medoid representation: each typical day is a real day of the
horizon, its values unchanged) into N clusters; ``tsam``'s
``clusterOrder`` keeps the sequence :math:`c(d)` of the cluster of each day
:math:`d = 0..D-1`. **Extreme days:** the day holding each calendar month's largest net
load (the load less the PV that is not a candidate), the day that sets the month's
basic charge, becomes its own typical day when its cluster holds other days too (a
cluster whose medoid leaves that way is then represented by its first remaining day).

**Model.** The site's blocks are built on the :math:`K` typical days laid end to end
(:math:`K S` steps, :class:`TypicalHorizon`), each block's series sliced to those days
and the sizing costs computed on the full horizon. Then:

* *weights*: every cost of a step of typical day :math:`k` is multiplied by
  :math:`w_k`, the number of days it stands for (:math:`\sum_k w_k = D`); the
  investment and the per-month charges are not;
* *monthly peaks*: the peak of month :math:`m` holds the import of every step of
  every typical day that stands for a day of month :math:`m`
  (:math:`\hat P_m \ge P^{imp}_{kS+j}` for :math:`m \in M(k)`); likewise the excess
  demand and each demand-charge block's billing periods (their window and billing
  period taken from the day stood for);
* *battery state* (Kotzur et al. 2018, "Time series aggregation for energy system
  design: Modeling seasonal storage", Applied Energy 213): the state chain of the
  block runs through the typical days with its bounds removed, and
  :math:`\delta_{k,j} = S_{kS+j} - \kappa^j S_{kS}` is the state within typical day
  :math:`k` relative to its start (:math:`\kappa` the keep factor per step). An
  inter-period state :math:`I_d \ge 0` per calendar day follows the day sequence,

  .. math::

      I_{d+1} = \kappa^S I_d + \delta_{c(d),S}, \qquad I_0 = s_0 E, \qquad
      I_D \ge f E \;(\text{or} =, \text{or free})

  and the state bounds hold through :math:`\bar\delta_k \ge \delta_{k,j} \ge
  \underline\delta_k` (every :math:`j`): :math:`I_d + \bar\delta_{c(d)} \le \bar s E`,
  :math:`\kappa^S I_d + \underline\delta_{c(d)} \ge \underline s E`, and
  :math:`\underline s E \le I_D \le \bar s E`. Without self-discharge
  (:math:`\kappa = 1`) these are exactly the full model's bounds at every step of
  every day; with it they are conservative (Kotzur's bounds).

* *period sums* (:class:`vpp.assets.typical_days.PeriodSums`): a row that sums a
  per-step quantity :math:`x_t` over a period :math:`P` of the full horizon (a month,
  the horizon, a clock hour) sums it over the typical steps, each :math:`\tau` counted
  once per horizon step of :math:`P` it stands for,
  :math:`\sum_{t \in T_P} a_t x_t \to \sum_\tau n_{P,\tau}\, a_\tau x_\tau`; for a
  period of whole days :math:`n_{P,kS+j} = w_{k,P}`, the days of :math:`P` typical
  day :math:`k` stands for (:func:`vpp.assets.typical_days.period_weights`,
  :math:`\sum_P w_{k,P} = w_k`), with the typical day's own values :math:`a_\tau`, as
  the step costs. So a green contract's monthly volume cap and take-or-pay row
  (:mod:`vpp.assets.green_contract.typical`), an annual renewable target
  (:mod:`vpp.assets.certificates.typical`) and the carbon account priced in the
  objective (:mod:`vpp.assets.carbon.typical`) hold the days stood for; a per-period
  variable (a take-or-pay shortfall, the account's emissions) is a number for its
  period and its cost is not weighted again.

With N equal to the number of days every day is its own typical day and the model is
the full sizing model, rewritten (the exactness tests, ``tests/test_typical_periods.py``
and ``tests/test_typical_sums.py``). Each kind says how it stands for every day in its
unit's ``typical_days``: per-step rows as they are (``PerStepRows``: load, PV), or its
rows relinked (grid and demand charge: peaks; battery: state; green contracts, the
green account and the carbon price: period sums); it may return a note of an
approximation it makes, which the summary lists. A kind that cannot yet inherits
``NotOnTypicalDays`` and a site holding one is refused (exit 2), as is a renewable
target with ``green_storage`` (its green state is not linked between days). After
sizing, the sizes are re-run on the full horizon: the bill, the contracts' settlement and
the carbon account of the summary are that run's. The cost-carbon frontier weighs its
cap row the same way (:func:`vpp.planning.sizing_model.step_values`).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.repn import generate_standard_repn

from vpp.assets import unit
from vpp.assets.columns import role_columns
from vpp.assets.sizing import SizingCosts
from vpp.assets.typical_days import Aggregation
from vpp.errors import Problem, ScenarioError
from vpp.inputs.site import build_inputs
from vpp.model import build_model
from vpp.model.blocks.contract import linear
from vpp.planning.finance import crf
from vpp.scenario.schema import Scenario

#: Key of the option in the scenario.
KEY = "planning.representative_periods"
#: A series whose spread over the horizon is at most this share of its largest
#: magnitude is not clustered on (:func:`features`) [-].
FEATURE_SPREAD_RTOL = 0.01


@dataclass(frozen=True)
class TypicalHorizon:
    """What the block builders read of a horizon, on the typical days laid end to end:
    ``n`` [-], ``step_h`` [h], ``index`` (the real times of those steps, not regular)
    and ``month_index`` (each step's month on the full horizon) [-]."""

    index: pd.DatetimeIndex
    step_h: float
    month_index: np.ndarray

    @property
    def n(self) -> int:
        """Number of steps [-]."""
        return len(self.index)


def problem(message: str, value: Any, allowed: str, fix: str) -> ScenarioError:
    """A bad ``representative_periods`` (exit 2)."""
    return ScenarioError(Problem(message, key=KEY, value=str(value), allowed=allowed, fix=fix))


def days_asked(option: Any, horizon: Any) -> tuple[int, int]:
    """The typical days asked (``days``, or 7 x ``weeks``) and the horizon's days [-]."""
    per_day = round(24.0 / horizon.step_h)
    if abs(per_day * horizon.step_h - 24.0) > 1e-9 or horizon.n % per_day:
        raise problem(
            "typical days need a horizon of whole days at a step that divides a day",
            f"{horizon.n} steps of {horizon.step_h:g} h",
            "whole days",
            "give horizon.days, or drop representative_periods",
        )
    n_days = horizon.n // per_day
    asked = option.days if option.days is not None else 7 * option.weeks
    if not 1 <= asked <= n_days:
        raise problem(
            f"{asked} typical days asked of a horizon of {n_days} days",
            asked,
            f"1 to {n_days}",
            "ask fewer typical days or lengthen the horizon",
        )
    return asked, n_days


def aggregate(
    frame: pd.DataFrame, net_load_kw: np.ndarray, months: np.ndarray, n: int, steps_per_day: int
) -> Aggregation:
    """Cluster the days of ``frame`` (one column per series, one row per step) into ``n``
    typical days with tsam, then add each month's net-load peak day (module docstring).

    ``months`` is the month (0..M-1) of each step [-].
    """
    with warnings.catch_warnings():
        _quiet_deprecations()
        import tsam.timeseriesaggregation as tsam

    s = steps_per_day
    n_steps = len(net_load_kw)
    n_days = n_steps // s
    values = frame.to_numpy(float).reshape(n_steps, len(frame.columns))
    if values.shape[1]:
        spread = values.max(axis=0) - values.min(axis=0)
        values = values[:, spread > 0.0]
    if n >= n_days or values.shape[1] == 0:
        order = np.arange(n_days) if n >= n_days else np.zeros(n_days, np.int64)
        typical = np.arange(n_days) if n >= n_days else np.array([0])
    else:
        index = pd.date_range("2001-01-01", periods=n_steps, freq=f"{round(1440 / s)}min")
        with warnings.catch_warnings():
            _quiet_deprecations()
            agg = tsam.TimeSeriesAggregation(
                pd.DataFrame(values, index=index),
                noTypicalPeriods=n,
                hoursPerPeriod=24,
                clusterMethod="hierarchical",
                representationMethod="medoidRepresentation",
                rescaleClusterPeriods=False,
            )
        with warnings.catch_warnings():
            _quiet_deprecations()
            # tsam 2.3 compares abs(max difference) over every column, so a typical
            # max below the input's max (the usual case) warns that it "exceeds" it
            warnings.filterwarnings("ignore", message="At least one maximal value")
            warnings.filterwarnings("ignore", message="At least one minimal value")
            agg.createTypicalPeriods()
        order = np.asarray(agg.clusterOrder, np.int64)
        typical = np.asarray(agg.clusterCenterIndices, np.int64)
    typical_list, order = list(typical), order.copy()
    extreme: list[int] = []
    day_month = months[::s]
    daily_peak = net_load_kw.reshape(n_days, s).max(axis=1)
    for m in np.unique(day_month):
        days = np.flatnonzero(day_month == m)
        d = int(days[np.argmax(daily_peak[days])])
        if typical_list[order[d]] == d and (order == order[d]).sum() == 1:
            continue  # already a typical day of its own
        typical_list.append(d)
        order[d] = len(typical_list) - 1
        extreme.append(d)
    # typical days no day stands for any more (a medoid moved out as an extreme day)
    used = np.unique(order)
    remap = -np.ones(len(typical_list), np.int64)
    remap[used] = np.arange(len(used))
    day_of_typical = np.array([typical_list[k] for k in used], np.int64)
    for k, c in enumerate(used):  # a cluster whose medoid left: its first remaining day
        if order[day_of_typical[k]] != c:
            day_of_typical[k] = int(np.flatnonzero(order == c)[0])
    return Aggregation(s, day_of_typical, remap[order], extreme)


def aggregation_for(
    scenario: Scenario, inputs: Any, option: Any, candidates: set[str]
) -> Aggregation:
    """The typical days of the scenario's inputs (:func:`aggregate`): the features
    (:func:`features`) of every block's per-step series; the net load is ``load_kw``
    less the PV that is not a candidate [kW]."""
    horizon = inputs.horizon
    asked, _ = days_asked(option, horizon)
    columns = features(inputs.assets, horizon.n)
    net = inputs.series["load_kw"].to_numpy(float).copy()
    for _, entry, column in role_columns(scenario.site, "pv_available"):
        if entry.name not in candidates:
            net -= inputs.series[column].to_numpy(float)
    per_day = round(24.0 / horizon.step_h)
    return aggregate(pd.DataFrame(columns), net, horizon.month_index, asked, per_day)


def features(assets: list[Any], n: int) -> dict[str, np.ndarray]:
    """The per-step series the days are clustered on, by ``<asset>.<key>``.

    Left out: labels (keys ending in ``_id`` or ``_index``: settlement or billing
    periods, windows, sessions; clustered, a month's label would group the days by
    month, not by their shape), a series equal to one already kept (a contract's copy
    of the grid's price would count twice), and a series whose spread is at most
    :data:`FEATURE_SPREAD_RTOL` of its largest magnitude (a flat monthly delivery of
    400.0 to 400.5 kW: ``tsam`` scales each series to its range, which would make
    that spread as decisive as the load's).
    """
    columns: dict[str, np.ndarray] = {}
    seen: set[bytes] = set()
    for a in assets:
        for key, v in a.series.items():
            if np.ndim(v) != 1 or len(v) != n or key.endswith(("_id", "_index")):
                continue
            values = np.asarray(v, float)
            if not np.isfinite(values).all():
                continue
            top = float(np.abs(values).max())
            if float(values.max() - values.min()) <= FEATURE_SPREAD_RTOL * top:
                continue
            digest = values.tobytes()
            if digest not in seen:
                seen.add(digest)
                columns[f"{a.name}.{key}"] = values
    return columns


def build_typical_model(
    scenario: Scenario, option: Any, sized: dict[str, tuple[Any, Any]], years: Any
) -> tuple[Any, Any, Aggregation]:
    """The sizing model on typical days: ``(inputs, model, aggregation)``.

    ``sized`` maps each candidate's name to its unit and entry; ``years(horizon)`` is
    the horizon's length [years] (:func:`vpp.planning.sizing_model.horizon_years`): the
    sizing costs are those of the full horizon. ``inputs`` keeps the full horizon and
    series, the candidates' sizing keys added (the report reads them); ``model`` is
    built on the typical days (module docstring).
    """
    inputs = build_inputs(scenario)
    horizon = inputs.horizon
    costs = SizingCosts(scenario.finance.discount_rate, years(horizon), crf)
    agg = aggregation_for(scenario, inputs, option, set(sized))
    full_assets = []
    for a in inputs.assets:
        unit, entry = sized.get(a.name, (None, None))
        keys = None if unit is None else unit.sizing_series(entry, costs, horizon, a.series)
        if keys is not None:
            a = dataclasses.replace(a, series={**a.series, **keys})
        full_assets.append(a)
    inputs = dataclasses.replace(inputs, assets=full_assets)
    model, notes = build_on_days(full_assets, horizon, agg)
    return inputs, model, dataclasses.replace(agg, notes=tuple(notes))


def build_on_days(assets: list[Any], horizon: Any, agg: Aggregation) -> tuple[Any, list[str]]:
    """The site model of ``assets`` (their series on the full ``horizon``) built on the
    typical days of ``agg`` laid end to end, relinked (:func:`link`) and weighted; and
    the units' notes of approximation."""
    steps = agg.steps
    typical_assets = []
    for a in assets:
        series = {
            k: (np.asarray(v)[steps] if np.ndim(v) == 1 and len(v) == horizon.n else v)
            for k, v in a.series.items()
        }
        typical_assets.append(dataclasses.replace(a, series=series))
    th = TypicalHorizon(horizon.index[steps], horizon.step_h, horizon.month_index[steps])
    with PauseGC():
        model = build_model(typical_assets, th)
        notes = link(model, assets, horizon, agg)
    return model, notes


def link(model: Any, assets: list[Any], horizon: Any, agg: Aggregation) -> list[str]:
    """Relink every block over the days stood for (each unit's ``typical_days``: monthly
    peaks, billing periods, period sums, storage state between days; module docstring),
    then weight the step costs. Returns the notes of the units that say how they
    represent their block approximately (the ``typical_days`` that return one)."""
    notes = []
    for a in assets:
        note = unit(a.kind).typical_days(model.asset[a.name], a, horizon, agg)
        if note:
            notes.append(str(note))
    _weigh(model, agg)
    return notes


def _weigh(model: Any, agg: Aggregation) -> None:
    """Replace the objective: each step variable's cost times :math:`w_k` of its day."""
    step_weight = np.repeat(agg.weights, agg.steps_per_day).tolist()
    repn = generate_standard_repn(model.objective.expr, compute_values=True, quadratic=False)
    coefs = []
    for c, v in zip(repn.linear_coefs, repn.linear_vars):
        comp = v.parent_component()
        if comp.is_indexed() and comp.index_set() is model.T:
            c *= step_weight[v.index()]
        coefs.append(float(c))
    model.del_component(model.objective)
    model.objective = pyo.Objective(
        expr=linear(coefs, list(repn.linear_vars), float(repn.constant)), sense=pyo.minimize
    )


def peak_errors(
    model: Any, value: Any, months: list[str], full_peak_kw: dict[str, float]
) -> dict[str, Any]:
    r"""Each month's billed peak on the typical days against the full-horizon run's.

    The basic charge bills the month's largest import :math:`\hat P_m`. On typical days
    it is the largest import of the typical days that stand for a day of month
    :math:`m` (with its month-peak day among them); the full-horizon run of the same
    sizes may set it on another day (the battery moves the peak), so the typical days'
    basic charge can be low. Returned: per month ``YYYY-MM`` the typical-day and the
    full-run peak [kW] and ``(typical - full) / full`` [-], and the worst month; empty
    when the grid block has no monthly peak (no basic charge by demand).

    Parameters
    ----------
    model : pyomo.environ.ConcreteModel
        The sizing model on typical days.
    value : callable
        A variable's value in the solved model (``SolveResult.value``).
    months : list of str
        ``YYYY-MM`` of each month index of the horizon.
    full_peak_kw : dict
        The full-horizon run's billed peak per month (``summary.json`` ``peak_import_kw``) [kW].
    """
    grid = model.asset["grid"]
    if not hasattr(grid, "peak_import_kw"):
        return {}
    rows = {}
    for m in grid.peak_import_kw:
        label = months[int(m)]
        typical = value(grid.peak_import_kw[m])
        full = full_peak_kw.get(label)
        if full is None:
            continue
        rows[label] = {
            "typical_kw": float(typical),
            "full_kw": float(full),
            "error_fraction": (float(typical) - float(full)) / max(abs(float(full)), 1.0),
        }
    if not rows:
        return {}
    worst = min(rows, key=lambda k: rows[k]["error_fraction"])
    return {
        "by_month": rows,
        "lowest_month": worst,
        "lowest_error_fraction": rows[worst]["error_fraction"],
    }


def typical_days_line(rp: dict[str, Any] | None) -> str:
    """``typical days: N + E month-peak days, bill error x % against the full-horizon run``
    (and how many units are represented approximately, from ``approximations``, and the
    size errors with ``compare_full``); empty when sized on every step."""
    if not rp:
        return ""
    line = (
        f"typical days: {rp['days']} + {len(rp['extreme_days'])} month-peak days, bill error "
        f"{100 * rp['bill_error_fraction']:+.2f} % (typical-day operating cost against the "
        "sized site's full-horizon run)"
    )
    if rp.get("approximations"):
        line += (
            f"; {len(rp['approximations'])} unit(s) represented approximately "
            "(representative_periods.approximations)"
        )
    peaks = rp.get("peak_error") or {}
    if peaks.get("lowest_error_fraction", 0.0) < 0.0:
        line += (
            f"; billed peak {100 * peaks['lowest_error_fraction']:+.1f} % in "
            f"{peaks['lowest_month']} against the full run (the basic charge is understated "
            "on typical days where the battery moves the peak)"
        )
    if rp.get("size_error"):
        worst = max(abs(e) for sizes in rp["size_error"].values() for e in sizes.values())
        line += f", largest size error {100 * worst:.2f} % against sizing on every step"
    return line


def _quiet_deprecations() -> None:
    """Inside a ``warnings.catch_warnings()``: ignore the deprecation warnings pandas 3
    raises from inside tsam 2.3 (its ``mode.chained_assignment`` option, ``inplace``
    sorts): tsam's own code, nothing a user can act on. Other warnings still show."""
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=r"tsam(\.|$)")
