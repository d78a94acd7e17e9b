"""Diesel generator sets (柴油发电机组): the scenario entry ``site.gensets``.

A genset supplies the site bus up to its rated power times its availability. It burns
diesel along a linear fuel curve

.. math::

    F_t = a\\, u_t + b\\, P_t \\qquad [\\text{L/h}]

with :math:`a` the intercept (``fuel_intercept_l_per_h``: what a running engine burns
per hour at any output), :math:`b` the slope (``fuel_slope_l_per_kwh``) and :math:`P_t`
its output [kW]. :math:`u_t` says whether it runs:

- with ``min_stable_fraction`` :math:`m` (a minimum stable load), :math:`u_t \\in \\{0, 1\\}`
  is an on/off switch and the model is a MILP: off (:math:`P_t = 0`, no fuel) or on
  (:math:`m \\bar P \\le P_t \\le \\bar P`, the intercept paid);
- without it, the model stays an LP and :math:`u_t = P_t / \\bar P` (:math:`\\bar P` the
  rated power): no intercept at zero output, the whole intercept at rated output, and in
  between the straight line joining them (the convex hull of the on/off curve, i.e. the
  MILP's linear relaxation). At part load this counts :math:`a (1 - P_t/\\bar P)` L/h less
  than the engine burns; give ``min_stable_fraction`` where part load matters.

Its cost is fuel at ``fuel_price_cny_per_l`` plus ``om_cost_cny_per_kwh`` on its output.
Its diesel goes into the site's carbon account as the ``diesel`` carrier: litres x
``fuel_density_kg_per_l`` / 1000 [t], times the site's diesel emission factor
(``site.emissions.factors.diesel``, kgCO2/t, default ``diesel-gbt32151`` in
``vpp/emissions/data/diesel.yaml``), and the carbon price falls on it when
``site.carbon_price`` is in the objective and its carriers include ``diesel``.

``use`` says when it may run (the rule, per step :math:`t`, caps :math:`P_t`):

- ``always``: :math:`P_t \\le \\bar P \\alpha_t` (:math:`\\alpha_t` the availability);
- ``dr_events``: only in the steps of a demand-response event the park is called to
  (a park's ``demand_response``); elsewhere, and in every step of a single-site run,
  which has no events, :math:`P_t = 0`;
- ``grid_limit``: only in the steps where the grid connection cannot carry the site:
  :math:`P_t \\le \\bar P \\alpha_t` where :math:`L_t - \\sum_{pv} A_t > \\bar I`, else
  :math:`P_t = 0`, with :math:`L_t` the fixed load (``site.load``; the load forecast in
  rolling windows), :math:`A_t` the available PV of every array and :math:`\\bar I` the
  grid's ``import_limit_kw`` (required with this use). In those steps it may give more
  than the excess when that is cheaper than the grid. The rule is computed from the
  inputs, before the optimisation: flexible loads, EV charging and battery charging
  never call the genset.

The block and its equations: :mod:`vpp.assets.genset.block`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from vpp.scenario.common import (
    CostCnyPerKwh,
    Fraction,
    Name,
    PowerKw,
    SeriesSpec,
    Strict,
)

__all__ = ["DIESEL_DENSITY_KG_PER_L", "Genset"]

#: Density of diesel [kg/L]: the conversion ``vpp/emissions/data/diesel.yaml`` states for
#: diesel bought by volume (0.844 kg/L; that file gives no source for it). GB 19147
#: (automotive diesel) allows 0.810 to 0.845 kg/L at 20 degC for the common grades; give
#: the supplier's figure in ``fuel_density_kg_per_l`` when it is known.
DIESEL_DENSITY_KG_PER_L = 0.844

LitresPerHour = Annotated[float, Field(ge=0.0, le=1e5, description="[L/h], 0 to 1e5")]
LitresPerKwh = Annotated[float, Field(gt=0.0, le=10.0, description="[L/kWh], above 0, at most 10")]
CnyPerLitre = Annotated[float, Field(ge=0.0, le=1e4, description="[CNY/L], 0 to 1e4")]
Density = Annotated[float, Field(ge=0.6, le=1.2, description="[kg/L], 0.6 to 1.2")]
StableFraction = Annotated[float, Field(gt=0.0, le=1.0, description="[-], above 0, at most 1")]


class Genset(Strict):
    """A diesel generator set; its fuel curve, use rule and carbon: :mod:`vpp.scenario.genset`.

    ``availability`` is a constant share of the rated power [-] or a series of shares
    (each step 0 to 1: derating, maintenance, fuel on hand); default 1, always available.
    """

    name: Name = Field(
        description="Name of the genset, unique on the site; it prefixes its schedule "
        "columns (backup_power_kw)."
    )
    rated_kw: PowerKw = Field(description="Rated electrical output [kW].")
    availability: Fraction | SeriesSpec = Field(
        default=1.0,
        description="Share of the rated power available in each step [-]: a number or a "
        "series of shares (default 1: always available).",
    )
    fuel_intercept_l_per_h: LitresPerHour = Field(
        default=0.0,
        description="Fuel a running engine burns per hour at any output [L/h].",
    )
    fuel_slope_l_per_kwh: LitresPerKwh = Field(
        description="Fuel per kWh of output on top of the intercept [L/kWh]."
    )
    fuel_price_cny_per_l: CnyPerLitre = Field(description="Diesel price [CNY/L].")
    om_cost_cny_per_kwh: CostCnyPerKwh = Field(
        default=0.0, description="Operation and maintenance per kWh of output [CNY/kWh]."
    )
    min_stable_fraction: StableFraction | None = Field(
        default=None,
        description="Minimum stable load as a share of rated power [-]; when given, the "
        "genset is off or between this and its available power (a MILP on/off switch).",
    )
    use: Literal["always", "dr_events", "grid_limit"] = Field(
        default="always",
        description="When it may run: always; only in demand-response event steps (a "
        "park's events); only in steps whose load less PV is above the grid import limit.",
    )
    fuel_density_kg_per_l: Density = Field(
        default=DIESEL_DENSITY_KG_PER_L,
        description="Diesel density [kg/L], to count litres as tonnes in the carbon account.",
    )

    @model_validator(mode="after")
    def _fuel_curve(self) -> Genset:
        full_load_l_per_kwh = (
            self.fuel_intercept_l_per_h / self.rated_kw + self.fuel_slope_l_per_kwh
        )
        if full_load_l_per_kwh > 10.0:
            raise ValueError(
                f"the fuel curve burns {full_load_l_per_kwh:.3g} L per kWh at rated power "
                f"(intercept {self.fuel_intercept_l_per_h:g} L/h / rated_kw {self.rated_kw:g} kW "
                f"+ slope {self.fuel_slope_l_per_kwh:g} L/kWh), above 10 L/kWh; a diesel "
                "genset burns about 0.2 to 0.4 L/kWh: check the units (L/h and L/kWh)"
            )
        return self
