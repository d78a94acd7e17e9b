"""Carbon-price block: market-based emissions of the site, priced in the objective."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.opt_outs import NoShortfallToExplain, RebuiltEachWindow
from vpp.assets.sizing import NotSized
from vpp.model.blocks.contract import LinearPort, linear

_KG_PER_T = 1000.0


@dataclass(frozen=True)
class CarbonPricing:
    """What the carbon block couples and prices.

    Attributes
    ----------
    grid : str
        The grid connection (its ``import_kw`` is the metered import).
    contracts : tuple of str
        Green contracts (their ``green_kw`` ports are zero-emission energy).
    certificates : str or None
        The green-account block holding ``certificates_kw``, if certificates count.
    price_cny_per_t : float
        Carbon price [CNY/tCO2].
    price_electricity : bool
        Whether market-based electricity emissions are priced.
    fuel_kg : float
        Emissions of the declared natural gas, diesel and heat over the horizon [kg]
        (constant): their annual activity times the horizon's share of a year
        (:mod:`vpp.emissions.period`), so the objective equals the recomputed bill.
    priced_fuel_kg : float
        The part of ``fuel_kg`` that is priced [kg].
    """

    grid: str
    contracts: tuple[str, ...]
    certificates: str | None
    price_cny_per_t: float
    price_electricity: bool
    fuel_kg: float
    priced_fuel_kg: float


class CarbonBlock(NotSized, RebuiltEachWindow, NoShortfallToExplain):
    """Its Pyomo block, updater and signature; it is never sized (:class:`NotSized`)."""

    def build(
        self,
        block: Any,
        asset: CarbonPricing,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        r"""Build the carbon price on the site's market-based emissions.

        .. math::

            E^{el} = \sum_t f_t \left(P^{imp}_t - \sum_c G^c_t - K_t\right) \Delta t

            emissions = E^{el} + E^{fuel}, \qquad
            cost = \frac{\lambda}{1000} \left(E^{el}\,[\text{if priced}] + E^{fuel}_{priced}\right),
            \qquad net_t = 0

        =================  ==========================  ==========================================
        symbol             attribute                   meaning
        =================  ==========================  ==========================================
        :math:`E^{el}`     ``electricity_kg``          market-based electricity emissions [kg]
        :math:`f_t`        series                      ``market_factor_kg_per_kwh``: factor of
                                                       grey grid energy [kgCO2/kWh]; the
                                                       site's grid_factor_series unless
                                                       electricity_market_based is given
        :math:`P^{imp}_t`  grid ``import_kw``          metered grid import [kW]
        :math:`G^c_t`      contract port ``green_kw``  green-contract energy (zero-emission) [kW]
        :math:`K_t`        green ``certificates_kw``   grid energy covered by certificates [kW]
        :math:`E^{fuel}`   ``fuel_kg``                 natural gas, diesel, heat over the horizon
                                                       [kg] (constant)
        :math:`\lambda`    ``price_cny_per_t``         carbon price [CNY/tCO2]
        =================  ==========================  ==========================================

        The constant fuel part enters the objective as an offset: it does not change the
        dispatch but keeps the objective equal to the bill.
        """
        m = block.model()
        assets = block.parent_block().asset  # the site's assets (the model, or a park's site)
        n = len(m.T)
        weight = np.asarray(series["market_factor_kg_per_kwh"], dtype=float) * horizon.step_h
        grid = assets[asset.grid]
        terms: list[tuple[float, Any]] = [(1.0, grid.import_kw)]
        for c in asset.contracts:
            terms += [(-a, var) for a, var in assets[c].green_kw.terms]
        if asset.certificates is not None:
            terms.append((-1.0, assets[asset.certificates].certificates_kw))
        block.electricity_kg = pyo.Var(bounds=(None, None))
        coefs = [-a * float(weight[t]) for a, _ in terms for t in range(n)]
        variables = [var[t] for _, var in terms for t in range(n)]
        block.electricity_def = pyo.Constraint(
            expr=(0.0, linear([1.0, *coefs], [block.electricity_kg, *variables]), 0.0)
        )
        block.net_kw = LinearPort([])
        block.emissions_kg = pyo.Expression(expr=block.electricity_kg + float(asset.fuel_kg))
        rate = asset.price_cny_per_t / _KG_PER_T
        priced = float(asset.priced_fuel_kg) * rate
        if asset.price_electricity:
            block.cost_cny = pyo.Expression(expr=linear([rate], [block.electricity_kg], priced))
        else:
            block.cost_cny = pyo.Expression(expr=priced)

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> None:
        """The account's emissions sum every day the typical days stand for
        (:func:`vpp.assets.carbon.typical.relink_account`)."""
        from vpp.assets.carbon.typical import relink_account

        relink_account(block, days)
