r"""The scenario's cycle-ageing key of a battery: ``site.batteries[i].cycle_ageing``.

A piecewise-linear cost of cycle depth (Xu, Oudalov, Ulbig, Andersson and Kirschen,
"Factoring the Cycle Aging Cost of Batteries Participating in Electricity Markets",
IEEE Trans. Power Systems 33(2), 2018, doi:10.1109/TPWRS.2017.2733339). The energy
range :math:`[0, E]` is split into :math:`J` segments of :math:`E/J`; energy discharged
from segment :math:`j` (depth :math:`(j-1)/J` to :math:`j/J`) costs :math:`c_j` per kWh
at the bus. Two forms:

- ``{segments: J, cost_cny_per_kwh: [c_1, ..., c_J]}``: the marginal costs, given;
- ``{segments: J, replacement_cny_per_kwh: R, cycle_life_at_dod: {delta: N, ...}}``:
  derived from a cycle-life curve. With :math:`N(\delta)` the cycles of depth
  :math:`\delta` a cell lasts to its end of life, the cycle depth stress function is
  :math:`\Phi(\delta) = 1/N(\delta)` (the share of life one cycle of depth
  :math:`\delta` uses), and a cycle of depth :math:`\delta` costs
  :math:`R\,E\,\Phi(\delta)`. Discharging segment :math:`j` deepens the cycle from
  :math:`(j-1)/J` to :math:`j/J`: :math:`E/J` kWh from storage, i.e. :math:`\eta^{dis}
  E/J` kWh at the bus, for :math:`R\,E\,[\Phi(j/J) - \Phi((j-1)/J)]`, so (Xu et al.
  2018, eq. for :math:`c_j`)

  .. math::

      c_j = \frac{R\,J}{\eta^{dis}} \left[\Phi\!\left(\frac{j}{J}\right)
            - \Phi\!\left(\frac{j-1}{J}\right)\right]

  :math:`\Phi` is interpolated linearly between the given points and
  :math:`\Phi(0) = 0`; the curve must reach depth 1.0 (no extrapolation).

The marginal costs must not decrease with depth (:math:`\Phi` convex): only then does
the LP drain the shallow segments first, with no binary variables.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from vpp.scenario.common import CostCnyPerKwh, Strict

#: The most segments a battery's cycle-ageing cost may have [-].
MAX_SEGMENTS = 50

#: Two marginal costs closer than this count as equal [CNY/kWh] (derived costs carry
#: floating-point noise).
COST_ORDER_TOL_CNY_PER_KWH = 1e-9

CycleLife = Annotated[float, Field(ge=1.0, le=1e7, description="[cycles], 1 to 1e7")]


def depth_stress_increments(life: dict[float, float], segments: int) -> np.ndarray:
    r""":math:`\Phi(j/J) - \Phi((j-1)/J)` for :math:`j = 1..J` [-], with
    :math:`\Phi(\delta) = 1/N(\delta)` interpolated linearly through :math:`(0, 0)` and
    the points of ``life`` (depth [-] to cycles to end of life [-])."""
    depths = np.array([0.0, *sorted(life)])
    stress = np.array([0.0, *(1.0 / life[d] for d in sorted(life))])
    phi = np.interp(np.arange(segments + 1) / segments, depths, stress)
    return np.diff(phi)


class CycleAgeing(Strict):
    """A cycle-depth ageing cost: given marginal costs per segment, or derived from a
    cycle-life curve (module docstring)."""

    segments: Annotated[int, Field(ge=1, le=MAX_SEGMENTS)] = Field(
        description=f"Number J of depth segments of energy_kwh / J each [-], 1 to {MAX_SEGMENTS}."
    )
    cost_cny_per_kwh: list[CostCnyPerKwh] | None = Field(
        default=None,
        description="Marginal ageing cost of each segment, shallowest first, per kWh "
        "discharged at the bus [CNY/kWh]; J values, non-decreasing. Not with "
        "replacement_cny_per_kwh / cycle_life_at_dod.",
    )
    replacement_cny_per_kwh: Annotated[float, Field(gt=0.0, le=1e5)] | None = Field(
        default=None,
        description="Cell replacement cost per kWh of nameplate energy [CNY/kWh]; with "
        "cycle_life_at_dod, the segment costs are derived (c_j = R J / eta_dis x "
        "(Phi(j/J) - Phi((j-1)/J)), Phi = 1 / cycle life).",
    )
    cycle_life_at_dod: dict[Annotated[float, Field(gt=0.0, le=1.0)], CycleLife] | None = Field(
        default=None,
        description="Cycles to end of life at each depth of discharge, e.g. {0.2: 10000, "
        "0.5: 4000, 1.0: 2000} [depth -: cycles]; must include depth 1.0; 1 / cycles is "
        "interpolated linearly in depth, through 0 at depth 0.",
    )

    @model_validator(mode="after")
    def _one_form(self) -> CycleAgeing:
        given = self.cost_cny_per_kwh is not None
        curve = (self.replacement_cny_per_kwh is not None, self.cycle_life_at_dod is not None)
        if given == any(curve) or (any(curve) and not all(curve)):
            raise ValueError(
                "give either cost_cny_per_kwh (J values) or both replacement_cny_per_kwh "
                "and cycle_life_at_dod, e.g. {segments: 2, cost_cny_per_kwh: [0.05, 0.1]}"
            )
        if given:
            costs = list(self.cost_cny_per_kwh or [])
            if len(costs) != self.segments:
                raise ValueError(
                    f"cost_cny_per_kwh has {len(costs)} values for {self.segments} segments: "
                    "give one marginal cost per segment"
                )
            what, values = "cost_cny_per_kwh", costs
        else:
            life = dict(self.cycle_life_at_dod or {})
            if 1.0 not in life:
                raise ValueError(
                    f"cycle_life_at_dod must include depth 1.0 (got depths {sorted(life)}): "
                    "the curve is not extrapolated"
                )
            values = list(depth_stress_increments(life, self.segments))
            what = "the costs derived from cycle_life_at_dod"
        steps = np.diff(values)
        if steps.size and float(steps.min()) < -COST_ORDER_TOL_CNY_PER_KWH:
            raise ValueError(
                f"{what} decrease with depth ({[round(float(v), 6) for v in values]}): the "
                "marginal ageing cost must not decrease from shallow to deep segments "
                "(a convex cost), or the LP would drain deep segments first"
            )
        return self

    def bus_costs_cny_per_kwh(self, discharge_efficiency: float) -> list[float]:
        r"""The marginal cost :math:`c_j` of each segment, shallowest first, per kWh
        discharged at the bus [CNY/kWh]: as given, or :math:`R J / \eta^{dis}
        [\Phi(j/J) - \Phi((j-1)/J)]` from the cycle-life curve."""
        if self.cost_cny_per_kwh is not None:
            return [float(c) for c in self.cost_cny_per_kwh]
        life = dict(self.cycle_life_at_dod or {})
        r = float(self.replacement_cny_per_kwh or 0.0)
        increments = depth_stress_increments(life, self.segments)
        return [float(r * self.segments * d / discharge_efficiency) for d in increments]
