"""One new component, a PV array or a battery, as the finance sees it.

:mod:`vpp.planning.finance` turns a list of them into cash flows, and
:mod:`vpp.planning.levelized` into levelized costs; the symbols are those of
:mod:`vpp.planning.finance`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from vpp.planning.discounting import checked_finite, checked_years

__all__ = ["LCOE_KEY", "LCOS_KEY", "LEVELIZED_AS", "Ageing", "Investment", "Life"]

#: The finance summary's levelized costs: of energy (generation) and of storage.
LCOE_KEY = "lcoe_pv_cny_per_kwh"
LCOS_KEY = "lcos_cny_per_kwh"

#: The finance's categories of component and the levelized cost each enters: generation
#: (``"pv"``: its year-1 energy is the energy delivered, its output fades with
#: degradation, an LCOE) and storage (``"battery"``: the energy discharged, an LCOS; its
#: fade, when modelled, is its :class:`Ageing`). A unit's ``investment`` names its
#: component's category.
LEVELIZED_AS = {"pv": LCOE_KEY, "battery": LCOS_KEY}


@dataclass(frozen=True)
class Ageing:
    r"""A battery's capacity by age of its cells and its end of life (:mod:`vpp.planning.fade`).

    Parameters
    ----------
    capacity_fraction_by_age : tuple of float
        Capacity left :math:`q(a)` of cells aged :math:`a = 0, 1, \ldots, L` whole years,
        share of nameplate, :math:`q(0) = 1` [-].
    end_of_life_fraction : float
        :math:`h_{EOL}`, the capacity at which the cells are replaced [-].
    replacement_interval_years : int or None
        :math:`R`: the cells are replaced every :math:`R` years after each purchase
        (at the end of year :math:`p + kR`, :math:`k \ge 1`, inside the life and the
        analysis period), each time at ``replacement_cny``; None: never [year].
    summary : dict
        What the fade model found, for ``summary.json`` (JSON-able).
    """

    capacity_fraction_by_age: tuple[float, ...]
    end_of_life_fraction: float
    replacement_interval_years: int | None = None
    summary: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Life:
    """A component's cells over the analysis period (:meth:`Investment.life`).

    Attributes
    ----------
    capacity_fraction : numpy.ndarray
        Capacity at the start of each year ``1..N``, share of nameplate [-].
    replacement_years : tuple of int
        Years at whose end the cells are replaced (``replacement_cny``) [year].
    state_of_health_end : float
        Capacity at the end of year ``N`` [-].
    capacity_end_fraction : numpy.ndarray
        Capacity at the end of each year ``1..N``, before a replacement or re-purchase
        at that year's end [-].
    renewed_years : tuple of int
        Years at whose end the cells start again at nameplate: the replacements and the
        re-purchases inside the period [year].
    """

    capacity_fraction: np.ndarray
    replacement_years: tuple[int, ...]
    state_of_health_end: float
    capacity_end_fraction: np.ndarray = field(default_factory=lambda: np.ones(0))
    renewed_years: tuple[int, ...] = ()


@dataclass(frozen=True)
class Investment:
    """One new component (a PV array or a battery) as the finance sees it.

    Parameters
    ----------
    name : str
        The asset's name in the scenario.
    kind : {"pv", "battery"}
        Its category (:data:`LEVELIZED_AS`): which part of the savings and of the CO2
        it earns (PV degrades by a yearly rate, a battery by its ``ageing``).
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
    ageing : Ageing or None
        A battery's capacity fade (then ``replacement_year`` is None: the cells are
        replaced every ``ageing.replacement_interval_years``); None: no fade.
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
    ageing: Ageing | None = None

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
        elif self.replacement_cny > 0.0 and self.ageing is None:
            raise ValueError(f"{where}: replacement_cny is given without a replacement_year")
        if self.ageing is not None:
            self._check_ageing(where)
        if LEVELIZED_AS[self.kind] == LCOS_KEY and self.degradation_fraction_per_year != 0.0:
            raise ValueError(
                f"{where}: a battery's capacity fade is its ageing (sizing.fade), not a "
                "yearly rate; give its degradation_fraction_per_year as 0"
            )

    def _check_ageing(self, where: str) -> None:
        ageing = self.ageing
        assert ageing is not None
        q = np.asarray(ageing.capacity_fraction_by_age, dtype=float)
        if LEVELIZED_AS[self.kind] != LCOS_KEY or self.replacement_year is not None:
            raise ValueError(
                f"{where}: ageing is a battery's, and replaces replacement_year "
                "(give its replacement_interval_years instead)"
            )
        if q.size != self.lifetime_years + 1 or not np.all((q >= 0.0) & (q <= 1.0)):
            raise ValueError(
                f"{where}: capacity_fraction_by_age needs {self.lifetime_years + 1} fractions "
                f"in 0..1 (ages 0..{self.lifetime_years}), got {q.size}"
            )
        if ageing.replacement_interval_years is not None:
            checked_years(f"{where}: replacement interval", ageing.replacement_interval_years)

    def life(self, analysis_years: int) -> Life:
        r"""The cells' capacity in each year ``1..N`` and the replacement years.

        Bought at :math:`p \in \{0, L, 2L, \ldots\} < N` and, with an interval
        :math:`R`, replaced at the end of years :math:`p + kR < \min(p + L, N)`. In
        year :math:`y` the cells are :math:`a(y) = y - 1 - r(y)` years old, with
        :math:`r(y)` the last purchase or replacement before it, and hold
        :math:`q(a(y))`, at the start of the year (year 1 at nameplate, as the
        simulated year). Without ageing: 1 every year, no replacement of this kind.
        """
        n = checked_years("analysis_years", analysis_years)
        if self.ageing is None:
            return Life(np.ones(n), (), 1.0, np.ones(n), ())
        q = np.asarray(self.ageing.capacity_fraction_by_age, dtype=float)
        resets: list[int] = []
        replaced: list[int] = []
        interval = self.ageing.replacement_interval_years
        for p in range(0, n, self.lifetime_years):
            resets.append(p)
            if interval is None:
                continue
            for r in range(p + interval, min(p + self.lifetime_years, n), interval):
                resets.append(r)
                replaced.append(r)
        start = np.array(resets)
        years = np.arange(1, n + 1)
        last = start[np.searchsorted(start, years - 1, side="right") - 1]
        end_age = n - start[-1]
        return Life(
            capacity_fraction=q[years - 1 - last],
            replacement_years=tuple(replaced),
            state_of_health_end=float(q[end_age]),
            capacity_end_fraction=q[years - last],
            renewed_years=tuple(resets[1:]),
        )
