"""One new component, a PV array or a battery, as the finance sees it.

:mod:`vpp.planning.finance` turns a list of them into cash flows, and
:mod:`vpp.planning.levelized` into levelized costs; the symbols are those of
:mod:`vpp.planning.finance`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vpp.planning.discounting import checked_finite, checked_years

__all__ = ["LCOE_KEY", "LCOS_KEY", "LEVELIZED_AS", "Investment"]

#: The finance summary's levelized costs: of energy (generation) and of storage.
LCOE_KEY = "lcoe_pv_cny_per_kwh"
LCOS_KEY = "lcos_cny_per_kwh"

#: The finance's categories of component and the levelized cost each enters: generation
#: (``"pv"``: its year-1 energy is the energy delivered, its output fades with
#: degradation, an LCOE) and storage (``"battery"``: the energy discharged, no fade, an
#: LCOS). A unit's ``investment`` names its component's category.
LEVELIZED_AS = {"pv": LCOE_KEY, "battery": LCOS_KEY}


@dataclass(frozen=True)
class Investment:
    """One new component (a PV array or a battery) as the finance sees it.

    Parameters
    ----------
    name : str
        The asset's name in the scenario.
    kind : {"pv", "battery"}
        Its category (:data:`LEVELIZED_AS`): which part of the savings and of the CO2
        it earns (PV degrades, a battery not).
    capex_cny : float
        Capital cost at year 0, and again at each re-purchase [CNY].
    om_cny_per_year : float
        Fixed O&M in year 1, escalated afterwards [CNY/year].
    lifetime_years : int
        Service life; a component is bought again when it retires inside the analysis
        period [year].
    replacement_year : int or None
        Year after each purchase in which part of it is replaced (battery cells, PV
        inverters); strictly inside the lifetime [year].
    replacement_cny : float
        Cost of that replacement [CNY].
    annual_energy_kwh : float
        Year-1 energy: PV energy delivered, or battery energy discharged [kWh/year].
    degradation_fraction_per_year : float
        Yearly loss of PV output, compounded; 0 for a battery [-/year].
    """

    name: str
    kind: Literal["pv", "battery"]
    capex_cny: float
    om_cny_per_year: float = 0.0
    lifetime_years: int = 25
    replacement_year: int | None = None
    replacement_cny: float = 0.0
    annual_energy_kwh: float = 0.0
    degradation_fraction_per_year: float = 0.0

    def __post_init__(self) -> None:
        where = f"investment {self.name!r}"
        if self.kind not in LEVELIZED_AS:
            raise ValueError(f"{where}: kind must be 'pv' or 'battery', got {self.kind!r}")
        checked_finite(f"{where}: capex_cny", self.capex_cny, "CNY")
        checked_finite(f"{where}: om_cny_per_year", self.om_cny_per_year, "CNY/year")
        life = checked_years(f"{where}: lifetime_years", self.lifetime_years)
        object.__setattr__(self, "lifetime_years", life)  # 15.0 -> 15
        checked_finite(f"{where}: replacement_cny", self.replacement_cny, "CNY")
        checked_finite(f"{where}: annual_energy_kwh", self.annual_energy_kwh, "kWh/year")
        if (
            not 0.0
            <= checked_finite(f"{where}: degradation", self.degradation_fraction_per_year)
            < 1
        ):
            raise ValueError(
                f"{where}: the degradation must be a fraction per year in 0..1, got "
                f"{self.degradation_fraction_per_year:g}; give 0.005 for 0.5 %/year"
            )
        if self.replacement_year is not None:
            year = checked_years(f"{where}: replacement_year", self.replacement_year)
            object.__setattr__(self, "replacement_year", year)
            if year >= self.lifetime_years:
                raise ValueError(
                    f"{where}: the replacement year {year} is not inside the lifetime of "
                    f"{self.lifetime_years} years; move it earlier or raise the lifetime"
                )
        elif self.replacement_cny > 0.0:
            raise ValueError(f"{where}: replacement_cny is given without a replacement_year")
        if LEVELIZED_AS[self.kind] == LCOS_KEY and self.degradation_fraction_per_year != 0.0:
            raise ValueError(
                f"{where}: a battery's capacity fade is not modelled here; give its "
                "degradation_fraction_per_year as 0 (and its cost as a replacement)"
            )
