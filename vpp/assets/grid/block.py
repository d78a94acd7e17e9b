"""Grid connection block: import, export, energy price and monthly basic charge."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.grid.limits import export_bounds_kw, import_bounds_kw
from vpp.assets.opt_outs import NoShortfallToExplain
from vpp.assets.sizing import NotSized
from vpp.model.blocks.contract import LinearPort, linear, linear_sum
from vpp.model.blocks.updates import ColBounds, ColCost, RowBounds

#: Series keys of the monthly basic charge (one value per calendar month of the horizon).
BASIC_CHARGE_KEYS = (
    "basic_fixed_cny",
    "demand_rate_cny_per_kw_month",
    "excess_threshold_kw",
    "excess_rate_cny_per_kw_month",
)


def _basic_charge(asset: Any, series: dict[str, np.ndarray], n_months: int) -> list[np.ndarray]:
    """The four per-month basic-charge arrays: from ``series``, else the legacy demand rate."""
    given = [k for k in BASIC_CHARGE_KEYS if k in series]
    if given:
        if len(given) != len(BASIC_CHARGE_KEYS):
            raise ValueError(f"grid series give {given} but need all of {BASIC_CHARGE_KEYS}")
        return [np.broadcast_to(np.asarray(series[k], float), (n_months,)) for k in given]
    if getattr(asset, "basic_charge", None) is not None:
        raise ValueError(
            "the grid has a 'basic_charge' but its series lack the monthly terms "
            f"{BASIC_CHARGE_KEYS}; build the inputs with vpp.inputs.site.build_inputs"
        )
    rate = float(getattr(asset, "demand_charge_cny_per_kw_month", 0.0))
    zeros = np.zeros(n_months)
    return [zeros, np.full(n_months, rate), zeros, zeros]


class GridBlock(NotSized, NoShortfallToExplain):
    """Its Pyomo block, updater and signature; it is never sized (:class:`NotSized`)."""

    def build(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        r"""Build the grid connection.

        Equations, for every step :math:`t` and calendar month :math:`m` of the horizon:

        .. math::

            0 \le P^{imp}_t \le \min(\bar P^{imp}_t, \bar P^{cap}_t),
            \qquad 0 \le P^{exp}_t \le \min(\bar P^{exp}_t, \bar E^{cap}_t)

            net_t = P^{imp}_t - P^{exp}_t

            \hat P_m \ge P^{imp}_t \quad \forall t \in m, \qquad \hat P_m \ge \underline{\hat P}_m
            \qquad (\text{only if } d_m > 0)

            E_m \ge P^{imp}_t - \tau_m \quad \forall t \in m, \qquad
            E_m \ge \max(0, \underline{\hat P}_m - \tau_m) \qquad (\text{only if } x_m > 0)

            cost = \sum_t (c_t P^{imp}_t - e_t P^{exp}_t)\,\Delta t
                   + \sum_m (F_m + d_m \hat P_m + x_m E_m)

        At the optimum :math:`\hat P_m` is the month's largest import and :math:`E_m` its
        part above :math:`\tau_m`, so the basic charge of month :math:`m` is
        :math:`B_m = F_m + d_m \max_{t \in m} P^{imp}_t + x_m \max(0, \max_{t \in m}
        P^{imp}_t - \tau_m)`, the function of :mod:`vpp.tariffs.basic`:

        - by actual maximum demand at rate :math:`r`: :math:`F = 0, d = r, x = 0`;
        - by contracted maximum demand :math:`C`: :math:`F = r C, d = 0, \tau = 1.05 C,
          x = 2 r` (the part above 105% of the contract at double rate; below it the
          contract is billed whatever the peak);
        - by transformer capacity :math:`S` at rate :math:`r_S`: :math:`F = r_S S`,
          :math:`d = x = 0` (no peak variable: the charge does not depend on the dispatch).

        ============================  ================================  ============================
        symbol                        attribute                         meaning
        ============================  ================================  ============================
        :math:`P^{imp}_t`             ``import_kw[t]``                  import from the grid [kW]
        :math:`P^{exp}_t`             ``export_kw[t]``                  export to the grid [kW]
        :math:`\hat P_m`              ``peak_import_kw[m]``             largest import of month m
                                                                        [kW]
        :math:`E_m`                   ``excess_demand_kw[m]``           import above
                                                                        :math:`\tau_m` [kW]
        :math:`\bar P^{imp}_t`        series ``import_limit_kw`` (else  import limit of the step,
                                      the asset's number)               infinite = unlimited [kW]
        :math:`\bar P^{cap}_t`        series ``import_cap_kw``          optional lower limit per
                                                                        step (an intraday run's
                                                                        peak target) [kW]
        :math:`\bar P^{exp}_t`        series ``export_limit_kw`` (else  export limit of the step,
                                      the asset's number)               0 = no export [kW]
        :math:`\bar E^{cap}_t`        series ``export_cap_kw``          optional lower limit per
                                                                        step (the no-export rule
                                                                        of batteries) [kW]
        :math:`c_t`, :math:`e_t`      series ``price_cny_per_kwh``,     energy and export price
                                      ``export_price_cny_per_kwh``      [CNY/kWh]
        :math:`F_m`                   series ``basic_fixed_cny``        fixed part [CNY/month]
        :math:`d_m`                   series                            rate on the peak
                                      ``demand_rate_cny_per_kw_month``  [CNY/kW-month]
        :math:`\tau_m`                series ``excess_threshold_kw``    [kW]
        :math:`x_m`                   series                            rate on the excess
                                      ``excess_rate_cny_per_kw_month``  [CNY/kW-month]
        :math:`\underline{\hat P}_m`  series ``peak_floor_kw``          peak already set earlier in
                                      (optional)                        the month [kW]
        ============================  ================================  ============================

        The four basic-charge series hold one value per month (``horizon.month_index``);
        without them (a grid spec built by hand) the legacy rate
        ``demand_charge_cny_per_kw_month`` is :math:`d` and the rest is zero. The basic
        charge is billed in full for every calendar month the horizon touches. The peak is
        the largest import at the run's step: at 1 h the hourly maximum stands in for the
        15-minute maximum demand the utility meters. The limits and caps per step are
        those of :mod:`vpp.assets.grid.limits`.
        """
        m = block.model()
        dt_h = horizon.step_h
        _bounded_var(block, "import_kw", m.T, import_bounds_kw(asset, series, horizon.n))
        _bounded_var(block, "export_kw", m.T, export_bounds_kw(asset, series, horizon.n))
        block.net_kw = LinearPort([(1.0, block.import_kw), (-1.0, block.export_kw)])

        price = series["price_cny_per_kwh"] * dt_h
        export_price = series["export_price_cny_per_kwh"] * dt_h
        energy = linear_sum(price, block.import_kw)
        export = linear_sum(export_price, block.export_kw)

        month_of = horizon.month_index
        n_months = int(month_of.max()) + 1
        fixed, rate, threshold, excess_rate = _basic_charge(asset, series, n_months)
        floor = np.asarray(series.get("peak_floor_kw", np.zeros(n_months)), float)
        month_list = month_of.tolist()
        terms_coefs: list[float] = []
        terms_vars: list[Any] = []
        if (rate > 0.0).any():
            block.M = pyo.RangeSet(0, n_months - 1)
            # no upper bound: a peak already metered (the floor) may lie above the import
            # limit, and the month is then billed at the floor
            block.peak_import_kw = pyo.Var(block.M, bounds=lambda b, k: (float(floor[k]), None))
            block.peak_def = pyo.Constraint(
                m.T,
                rule=lambda b, t: (
                    None,
                    linear([1.0, -1.0], [b.import_kw[t], b.peak_import_kw[month_list[t]]]),
                    0.0,
                ),
            )
            terms_coefs += rate.tolist()
            terms_vars += list(block.peak_import_kw.values())
        if (excess_rate > 0.0).any():
            lower = np.maximum(0.0, floor - threshold)
            tau = threshold.tolist()
            block.E = pyo.RangeSet(0, n_months - 1)
            block.excess_demand_kw = pyo.Var(block.E, bounds=lambda b, k: (float(lower[k]), None))
            block.excess_def = pyo.Constraint(
                m.T,
                rule=lambda b, t: (
                    None,
                    linear([1.0, -1.0], [b.import_kw[t], b.excess_demand_kw[month_list[t]]]),
                    tau[month_list[t]],
                ),
            )
            terms_coefs += excess_rate.tolist()
            terms_vars += list(block.excess_demand_kw.values())
        basic_expr = linear(terms_coefs, terms_vars, float(fixed.sum()))
        block.energy_cost_cny = pyo.Expression(expr=energy)
        block.export_revenue_cny = pyo.Expression(expr=export)
        block.demand_charge_cny = pyo.Expression(expr=basic_expr)
        block.cost_cny = pyo.Expression(
            expr=block.energy_cost_cny - block.export_revenue_cny + block.demand_charge_cny
        )

    def update(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> list[Any]:
        """The numbers of :meth:`build` on a new window: limits, prices, rates, peak floors.

        The fixed part :math:`\\sum_m F_m` is a constant of the objective and is not
        updated: it moves the objective value, never the optimum.
        """
        dt_h = horizon.step_h
        changes: list[Any] = [
            ColBounds(block.import_kw, upper=import_bounds_kw(asset, series, horizon.n)),
            ColBounds(block.export_kw, upper=export_bounds_kw(asset, series, horizon.n)),
            ColCost(block.import_kw, np.asarray(series["price_cny_per_kwh"], float) * dt_h),
            ColCost(block.export_kw, -np.asarray(series["export_price_cny_per_kwh"], float) * dt_h),
        ]
        month_of = horizon.month_index
        n_months = int(month_of.max()) + 1
        _, rate, threshold, excess_rate = _basic_charge(asset, series, n_months)
        floor = np.asarray(series.get("peak_floor_kw", np.zeros(n_months)), float)
        if hasattr(block, "peak_import_kw"):
            changes += [
                ColBounds(block.peak_import_kw, lower=floor),
                ColCost(block.peak_import_kw, rate),
            ]
        if hasattr(block, "excess_demand_kw"):
            changes += [
                ColBounds(block.excess_demand_kw, lower=np.maximum(0.0, floor - threshold)),
                ColCost(block.excess_demand_kw, excess_rate),
                RowBounds(block.excess_def, None, threshold[month_of]),
            ]
        return changes

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> None:
        """Each month's peak and excess hold over every day it stands for
        (:func:`vpp.assets.grid.typical.relink_months`)."""
        from vpp.assets.grid.typical import relink_months

        relink_months(block, asset, horizon, days)

    def signature(self, asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> tuple:
        """Months of the steps and which monthly peak variables exist."""
        month_of = np.asarray(horizon.month_index, dtype=np.int64)
        _, rate, _, excess_rate = _basic_charge(asset, series, int(month_of.max()) + 1)
        return month_of.tobytes(), bool((rate > 0.0).any()), bool((excess_rate > 0.0).any())


def _bounded_var(block: Any, name: str, index: Any, upper_kw: np.ndarray) -> Any:
    """Add to ``block`` a variable ``name`` in ``[0, upper_kw[t]]`` (one bound for all
    steps when they are equal; infinite: no upper bound) [kW]."""
    uniform = bool(upper_kw.size) and bool((upper_kw == upper_kw[0]).all())
    ub = float(upper_kw[0]) if uniform else np.inf
    setattr(block, name, pyo.Var(index, bounds=(0.0, ub if math.isfinite(ub) else None)))
    var = getattr(block, name)
    if not uniform:
        for v, u in zip(var.values(), upper_kw.tolist()):  # faster than a bounds rule
            if math.isfinite(u):
                v.setub(u)
    return var
