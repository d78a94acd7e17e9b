"""The PV unit's block: AC output up to what the array can produce, its size given or
sized; curtailment is free."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from vpp.assets.opt_outs import NoShortfallToExplain, PerStepRows
from vpp.assets.sizing import MIN_SIZE, SizingCosts, key_value, one, snap
from vpp.errors import Problem
from vpp.model.blocks.contract import LinearPort, as_bounds, linear
from vpp.model.blocks.updates import ColBounds

#: The key whose presence in ``series`` makes the array sized.
PV_SIZE_KEY = "capacity_max_kw"

#: A size this close to one of its bounds is that bound [kWp].
SNAP_TOL = 1e-3


class PVBlock(NoShortfallToExplain, PerStepRows):
    """Its Pyomo block (given or sized), updater and signature, sizing keys."""

    def build(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        r"""Build a PV array, its size given or to be chosen.

        .. math::

            0 \le P_t \le \bar P_t, \qquad net_t = P_t, \qquad cost = 0

        =================  ==================  =============================================
        symbol             attribute           meaning
        =================  ==================  =============================================
        :math:`P_t`        ``pv_kw[t]``        AC power delivered to the bus [kW]
        :math:`\bar P_t`   ``available_kw``    AC power the array can produce [kW] (series)
        =================  ==================  =============================================

        Curtailment :math:`\bar P_t - P_t` is reported in the results.

        **Sized** (the sizing keys of :meth:`sizing_series` in ``series``): the size
        :math:`C` [kWp] is a variable and the availability scales with it:

        .. math::

            \underline C \le C \le \bar C, \qquad 0 \le P_t \le a_t \bar C, \qquad
            P_t \le a_t C, \qquad cost = \kappa C

        with :math:`a_t` ``available_per_kw`` [kW/kWp] and :math:`\kappa`
        ``capacity_cost_cny_per_kw`` [CNY/kWp over the horizon]. ``capacity_kw`` is the
        chosen size.
        """
        m = block.model()
        if PV_SIZE_KEY in series:
            lo, hi = key_value(series, "capacity_min_kw"), key_value(series, "capacity_max_kw")
            per_kw = np.asarray(series["available_per_kw"], float)
            upper = (per_kw * hi).tolist()
            block.capacity_kw = pyo.Var(bounds=(lo, hi))
        else:
            upper = as_bounds(series["available_kw"])
        block.pv_kw = pyo.Var(m.T, bounds=lambda b, t: (0.0, upper[t]))
        cost: Any = 0.0
        if PV_SIZE_KEY in series:
            coef = (-per_kw).tolist()
            block.pv_within_size = pyo.Constraint(
                m.T,
                rule=lambda b, t: (None, linear([1.0, coef[t]], [b.pv_kw[t], b.capacity_kw]), 0.0),
            )
            cost = linear([key_value(series, "capacity_cost_cny_per_kw")], [block.capacity_kw])
        block.net_kw = LinearPort([(1.0, block.pv_kw)])
        block.cost_cny = pyo.Expression(expr=cost)

    def update(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> list[Any]:
        """The numbers of :meth:`build` on a new window: :math:`\\bar P_t`."""
        return [ColBounds(block.pv_kw, upper=series["available_kw"])]

    def signature(self, asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> tuple:
        """Empty: a PV block has the same structure in every window of the same length."""
        return ()

    # ------------------------------------------------------------------ sizing
    def sizing_series(
        self, entry: Any, costs: SizingCosts, horizon: Any, series: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray] | None:
        """The sizing keys of an array with a ``sizing`` entry; None without one.

        ``capacity_min_kw``, ``capacity_max_kw`` [kWp], ``capacity_cost_cny_per_kw``
        (annualized capital cost plus fixed O&M over the horizon) [CNY/kWp], and the
        series ``available_per_kw`` [kW/kWp]: the array's availability at its reference
        size divided by that size (pvlib's model chain is linear in kWp at a fixed DC/AC
        ratio).
        """
        s = getattr(entry, "sizing", None)
        if s is None:
            return None
        reference = float(entry.dc_capacity_kw)
        years = costs.horizon_years
        factor = costs.crf(s.lifetime_years)
        return {
            "capacity_min_kw": one(s.min_kw),
            "capacity_max_kw": one(s.limit_kw),
            "capacity_cost_cny_per_kw": one(
                years * (factor * s.capex_cny_per_kw + s.om_cny_per_kw_year)
            ),
            "available_per_kw": np.asarray(series["available_kw"], float) / reference,
        }

    def sizing_problems(self, entry: Any, site: Any) -> list[Problem]:
        """Empty: a sized array couples with nothing else of the site."""
        return []

    def sized_values(
        self, block: Any, series: dict[str, np.ndarray], value: Callable[[Any], float]
    ) -> tuple[dict[str, Any], float]:
        """``capacity_kw`` chosen, and the investment part of the objective [CNY over the
        horizon]; ``value`` reads a solved variable."""
        kw = value(block.capacity_kw)
        investment = float(series["capacity_cost_cny_per_kw"][0]) * kw
        return {"kind": "pv", "capacity_kw": snap(block.capacity_kw, kw, SNAP_TOL)}, investment

    def size_limit_keys(self, entry: Any) -> dict[str, tuple[str | None, str | None]]:
        """``capacity_kw``: between ``min_kw`` and ``max_kw`` (or ``area_m2`` x
        ``kw_per_m2``, which ``area_m2`` raises)."""
        top = "max_kw" if entry.sizing.max_kw is not None else "area_m2"
        return {"capacity_kw": ("min_kw", top)}

    def given_sizes(self, entry: Any) -> dict[str, Any]:
        """The array as written: ``capacity_kw``, its DC capacity [kWp]."""
        return {"kind": "pv", "capacity_kw": float(entry.dc_capacity_kw)}

    def sized_entry(self, entry: dict[str, Any], chosen: dict[str, Any]) -> dict[str, Any] | None:
        """The entry with the chosen DC capacity; None when sized to nothing."""
        if chosen["capacity_kw"] <= MIN_SIZE:
            return None
        return {**entry, "dc_capacity_kw": chosen["capacity_kw"]}

    def investment(
        self, entry: Any, chosen: dict[str, Any], schedule: pd.DataFrame, dt_h: float, years: float
    ) -> dict[str, Any] | None:
        """The new array as the finance sees it (:class:`vpp.planning.investment.Investment`
        fields); None when sized to nothing. Its energy is the energy delivered."""
        kw = chosen["capacity_kw"]
        if kw <= MIN_SIZE:
            return None
        z = entry.sizing
        col = f"{entry.name}_pv_kw"
        return {
            "name": entry.name,
            "kind": "pv",
            "capex_cny": z.capex_cny_per_kw * kw,
            "om_cny_per_year": z.om_cny_per_kw_year * kw,
            "lifetime_years": z.lifetime_years,
            "replacement_year": None,
            "replacement_cny": 0.0,
            "annual_energy_kwh": (
                float(schedule[col].sum() * dt_h) / years if col in schedule else 0.0
            ),
            "degradation_fraction_per_year": float(
                getattr(entry, "degradation_fraction_per_year", 0.0)
            ),
        }

    def sized_output_kw(self, entry: Any, schedule: pd.DataFrame) -> np.ndarray | None:
        """The array's output [kW] (its value fades with degradation); None if not run."""
        col = f"{entry.name}_pv_kw"
        return schedule[col].to_numpy() if col in schedule else None
