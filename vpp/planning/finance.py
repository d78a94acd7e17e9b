"""Valuing an investment in PV and storage: cash flows, NPV, IRR, payback, LCOE, LCOS.

Everything here is plain arithmetic on yearly amounts; nothing is solved but the IRR
(a root of the NPV, :func:`scipy.optimize.brentq`). Years are counted from the
investment: year 0 is the purchase (a point in time, the capital is spent at its
end), year ``y >= 1`` is the ``y``-th year of operation, whose flows are discounted
as if paid at its end, by :math:`(1 + r)^{-y}`.

Symbols used in the docstrings:

============  ==========================================================  ==========
symbol        meaning                                                      unit
============  ==========================================================  ==========
:math:`r`     discount rate (``finance.discount_rate``)                    [-/year]
:math:`N`     analysis period (``finance.analysis_years``)                 [year]
:math:`g`     tariff escalation (``tariff_escalation_fraction_per_year``)  [-/year]
:math:`e`     O&M escalation (``om_escalation_fraction_per_year``)         [-/year]
:math:`K_i`   capital cost of component *i* (``capex_cny``)                [CNY]
:math:`M_i`   fixed O&M of component *i* in year 1 (``om_cny_per_year``)   [CNY/year]
:math:`L_i`   lifetime of component *i* (``lifetime_years``)               [year]
:math:`R_i`   mid-life replacement year (``replacement_year``)             [year]
:math:`X_i`   cost of that replacement (``replacement_cny``)               [CNY]
:math:`d_i`   PV degradation (``degradation_fraction_per_year``)           [-/year]
:math:`E_i`   year-1 energy (``annual_energy_kwh``)                        [kWh/year]
:math:`A`     year-1 savings of the whole investment (``annual_savings``)  [CNY/year]
:math:`P`     part of :math:`A` due to PV (``pv_savings_cny``)             [CNY/year]
:math:`C`     year-1 CO2 avoided (``annual_co2_avoided_t``)                [t/year]
:math:`C_P`   part of :math:`C` due to PV (``pv_co2_avoided_t``)           [t/year]
:math:`q_b`   battery *b*'s capacity left in a year (its ``ageing``)       [-]
:math:`h_N`   a battery's capacity at the end of year :math:`N`            [-]
============  ==========================================================  ==========
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from vpp.planning.discounting import checked_finite, checked_rate, checked_years
from vpp.planning.investment import LCOE_KEY, LCOS_KEY, LEVELIZED_AS, Investment
from vpp.planning.levelized import levelized_cny_per_kwh

if TYPE_CHECKING:
    from vpp.scenario.planning import Finance

__all__ = [
    "annualized_cny",
    "cash_flows",
    "crf",
    "finance_summary",
    "irr",
    "npv_cny",
    "payback_years",
    "residual_fraction",
]

#: Rates scanned for sign changes of the NPV when looking for the IRR [-/year].
_IRR_GRID = np.unique(np.concatenate([np.linspace(-0.95, 1.0, 391), np.geomspace(1.0, 1e3, 121)]))
#: Absolute tolerance of the IRR root [-/year].
_IRR_XTOL = 1e-12


def _flows(net: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    values = np.asarray(net, dtype=float)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"the cash flows must be finite numbers by year [CNY], got {net!r}")
    return values


def crf(rate: float, years: int) -> float:
    r"""Capital recovery factor: the annuity that repays 1 CNY over ``years``.

    .. math:: \mathrm{CRF}(r, n) = \frac{r (1 + r)^n}{(1 + r)^n - 1},
              \qquad \mathrm{CRF}(0, n) = \frac{1}{n}

    Parameters
    ----------
    rate : float
        Discount rate :math:`r`, above -1 [-/year].
    years : int
        Number of yearly payments :math:`n`, at least 1 [year].

    Returns
    -------
    float
        The factor [1/year].
    """
    rate, years = checked_rate(rate), checked_years("years", years)
    if rate == 0.0:
        return 1.0 / years
    growth = (1.0 + rate) ** years
    return rate * growth / (growth - 1.0)


def annualized_cny(capex_cny: float, rate: float, years: int) -> float:
    r"""Equal yearly payment [CNY/year] worth a capital cost: :math:`K\,\mathrm{CRF}(r, n)`.

    ``capex_cny`` is paid at year 0 [CNY]; ``rate`` and ``years`` as in :func:`crf`.
    """
    return checked_finite("capex_cny", capex_cny, "CNY") * crf(rate, years)


def _pv_fade(investments: Sequence[Investment], analysis_years: int) -> np.ndarray | None:
    """Yearly PV output relative to year 1, weighted by year-1 energy; None without PV [-]."""
    pv = [i for i in investments if LEVELIZED_AS[i.kind] == LCOE_KEY]
    if not pv:
        return None
    energy = np.array([i.annual_energy_kwh for i in pv])
    weights = energy / energy.sum() if energy.sum() > 0.0 else np.full(len(pv), 1.0 / len(pv))
    fade = np.zeros(analysis_years)
    for weight, item in zip(weights, pv, strict=True):
        age = np.arange(analysis_years) % item.lifetime_years  # since the last purchase
        fade += weight * (1.0 - item.degradation_fraction_per_year) ** age
    return fade


def residual_fraction(
    remaining_years: float, lifetime_years: int, state_of_health: tuple[float, float] | None
) -> float:
    r"""Share of a component's cost left at the end of the analysis [-].

    Straight-line on the remaining useful life. By age,
    :math:`\rho = \max(0, p^{last} + L - N) / L`. For a battery whose state of health
    :math:`h_N` at the end of year :math:`N` is known, with end-of-life fraction
    :math:`h_{EOL}`, its cells' remaining life is the capacity left above end of life,
    :math:`(h_N - h_{EOL}) / (1 - h_{EOL})` clipped to 0..1, and the residual value is
    the lesser of the two:

    .. math:: \rho = \min\Big(\frac{\max(0, p^{last} + L - N)}{L},\;
              \mathrm{clip}_{[0,1]}\frac{h_N - h_{EOL}}{1 - h_{EOL}}\Big)

    (a battery at 85 % with end of life at 80 % keeps a quarter of its value at most,
    however young; a healthy one no more than its age leaves).

    Parameters
    ----------
    remaining_years : float
        :math:`\max(0, p^{last} + L - N)` [year].
    lifetime_years : int
        :math:`L` [year].
    state_of_health : (float, float) or None
        :math:`(h_N, h_{EOL})`, fractions of nameplate capacity [-]; None: by age.
    """
    by_age = remaining_years / lifetime_years
    if state_of_health is None:
        return by_age
    soh, eol = state_of_health
    if not (0.0 <= eol < 1.0 and 0.0 <= soh <= 1.0):
        raise ValueError(
            f"state of health {soh!r} and end of life {eol!r} must be fractions, "
            "the end of life below 1"
        )
    return min(by_age, min(1.0, max(0.0, (soh - eol) / (1.0 - eol))))


def _battery_capacity(investments: Sequence[Investment], n: int) -> np.ndarray | None:
    """Yearly battery capacity relative to nameplate, weighted by year-1 discharge; None
    when no battery has ageing (the savings then do not fade) [-]."""
    bess = [i for i in investments if LEVELIZED_AS[i.kind] == LCOS_KEY]
    if not any(i.ageing is not None for i in bess):
        return None
    energy = np.array([i.annual_energy_kwh for i in bess])
    weights = energy / energy.sum() if energy.sum() > 0.0 else np.full(len(bess), 1 / len(bess))
    return sum(w * i.life(n).capacity_fraction for w, i in zip(weights, bess, strict=True))


def cash_flows(
    investments: Sequence[Investment],
    *,
    annual_savings_cny: float,
    pv_savings_cny: float,
    finance: Finance,
    annual_co2_avoided_t: float = 0.0,
    pv_co2_avoided_t: float = 0.0,
    state_of_health: Mapping[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    r"""Yearly cash flows of the investment against the site as it is, years ``0..N``.

    Parameters
    ----------
    investments : sequence of Investment
        The new components.
    annual_savings_cny, pv_savings_cny : float
        Year-1 savings :math:`A` (the site's bill without the new capacity minus the bill
        with it, at today's tariff) and its part :math:`P` earned by the PV, which
        degrades (0 without PV) [CNY/year].
    finance : vpp.scenario.planning.Finance
        Discount rate, analysis period and escalations.
    annual_co2_avoided_t, pv_co2_avoided_t : float
        Year-1 CO2 avoided :math:`C` by the whole investment, and its part
        :math:`C_P` due to the PV [t/year].
    state_of_health : mapping, optional
        Per battery name, its state of health at year :math:`N` and its end-of-life
        fraction [-]: its salvage follows :func:`residual_fraction` by state of health
        instead of by age. A battery with ``ageing`` has its own (:meth:`Investment.life`),
        unless given here.

    Returns
    -------
    pandas.DataFrame
        One row per year ``0..N``, columns ``year``, ``capex_cny``, ``replacement_cny``,
        ``om_cny``, ``savings_cny``, ``salvage_cny``, ``net_cny``, ``discount_factor``,
        ``discounted_net_cny``, ``cumulative_net_cny``, ``cumulative_discounted_net_cny``,
        ``co2_avoided_t`` ([CNY] in year ``y``, [t] for CO2, [-] for the factor); with a
        battery's ageing also ``battery_capacity_fraction`` :math:`h(y)` (1 in year 0) [-].

    Notes
    -----
    Each component *i* is bought at the years :math:`p \in \{0, L_i, 2L_i, \ldots\} < N`
    (a component whose life ends inside the period is bought again, at the same cost)
    and serves years :math:`p+1 .. p+L_i`. Its age in year :math:`y \ge 1` is
    :math:`a_i(y) = (y - 1) \bmod L_i`. With :math:`[\cdot]` the indicator:

    .. math::

        \mathrm{capex}_y &= \textstyle\sum_i \sum_p K_i\,[y = p]

        \mathrm{replacement}_y &= \textstyle\sum_i \sum_p X_i\,[y = p + R_i < N]

        \mathrm{om}_y &= \textstyle\sum_i M_i (1 + e)^{y - 1} \quad (y \ge 1)

        f(y) &= \textstyle\sum_{i \in PV} w_i (1 - d_i)^{a_i(y)},
            \qquad w_i = E_i / \textstyle\sum_{j \in PV} E_j \ (\text{or equal})

        h(y) &= \textstyle\sum_{b} v_b\, q_b(y), \qquad v_b = E_b / \textstyle\sum_{c} E_c
            \ (\text{or equal})

        \mathrm{savings}_y &= \big((A - P)\,h(y) + P f(y)\big) (1 + g)^{y - 1}
            \quad (y \ge 1)

        \mathrm{salvage}_N &= \textstyle\sum_i K_i\,\rho_i
            \quad (\rho_i: \text{:func:`residual_fraction`, by age or state of health})

        \mathrm{net}_y &= \mathrm{savings}_y + \mathrm{salvage}_y - \mathrm{capex}_y
            - \mathrm{replacement}_y - \mathrm{om}_y

        \mathrm{discount\_factor}_y &= (1 + r)^{-y}

        \mathrm{co2}_y &= (C - C_P)\,h(y) + C_P f(y) \quad (y \ge 1)

    The PV part of the savings fades per PV investment, weighted by its year-1 energy
    (equal weights if no energy is given): more exact than one capacity-weighted rate
    when arrays of different ages or technologies are mixed, and equal to it when
    they share a rate. A re-purchased array starts again at full output. A
    replacement falling at or after year :math:`N` is not made (it would buy nothing
    inside the period); salvage values only the last purchase, linearly over its
    life, and not a replacement. CO2 is neither escalated nor discounted.

    Battery ageing (:class:`~vpp.planning.investment.Ageing`): :math:`q_b(y)` is battery
    *b*'s capacity at the start of year :math:`y` (:meth:`Investment.life`; 1 without
    ageing, and :math:`h \equiv 1` when no battery has ageing), :math:`E_b` its year-1
    discharge. The part of the savings and of the CO2 that is not the PV's,
    :math:`A - P`, is taken as the batteries' and scales with their capacity left: an
    approximation (the saving of a smaller battery is taken as proportional to its
    capacity, while a battery's first kWh are its most valuable, so it overstates the
    loss). Its cells are replaced (:math:`X_i`) at the end of each year
    :meth:`Investment.life` names, and its salvage is by state of health
    (:func:`residual_fraction`) at :math:`h_N` = its capacity at the end of year :math:`N`.
    """
    rate = checked_rate(finance.discount_rate)
    n = checked_years("analysis_years", finance.analysis_years)
    g = checked_finite(
        "tariff_escalation_fraction_per_year", finance.tariff_escalation_fraction_per_year
    )
    e = checked_finite("om_escalation_fraction_per_year", finance.om_escalation_fraction_per_year)
    savings_a = checked_finite("annual_savings_cny", annual_savings_cny)
    savings_p = checked_finite("pv_savings_cny", pv_savings_cny)
    co2_a = checked_finite("annual_co2_avoided_t", annual_co2_avoided_t)
    co2_p = checked_finite("pv_co2_avoided_t", pv_co2_avoided_t)
    fade = _pv_fade(investments, n)
    if fade is None:
        if savings_p != 0.0 or co2_p != 0.0:
            raise ValueError(
                f"pv_savings_cny {savings_p:g} CNY and pv_co2_avoided_t {co2_p:g} t are "
                "given, but there is no PV investment; give them as 0"
            )
        fade = np.ones(n)

    capex, replacement, om, salvage = (np.zeros(n + 1) for _ in range(4))
    escalation_om = (1.0 + e) ** np.arange(n)
    for item in investments:
        bought = range(0, n, item.lifetime_years)
        for p in bought:
            capex[p] += item.capex_cny
            if item.replacement_year is not None and p + item.replacement_year < n:
                replacement[p + item.replacement_year] += item.replacement_cny
        om[1:] += item.om_cny_per_year * escalation_om
        remaining = max(0, bought[-1] + item.lifetime_years - n)
        soh = (state_of_health or {}).get(item.name)
        if item.ageing is not None:
            life = item.life(n)
            for year in life.replacement_years:
                replacement[year] += item.replacement_cny
            if soh is None:
                soh = (life.state_of_health_end, item.ageing.end_of_life_fraction)
        if soh is None:  # by age, as (K x remaining) / L
            salvage[n] += item.capex_cny * remaining / item.lifetime_years
        else:
            salvage[n] += item.capex_cny * residual_fraction(remaining, item.lifetime_years, soh)

    capacity = _battery_capacity(investments, n)
    held = np.ones(n) if capacity is None else capacity
    savings = np.zeros(n + 1)
    savings[1:] = ((savings_a - savings_p) * held + savings_p * fade) * (1.0 + g) ** np.arange(n)
    co2 = np.zeros(n + 1)
    co2[1:] = (co2_a - co2_p) * held + co2_p * fade

    net = savings + salvage - capex - replacement - om
    factor = (1.0 + rate) ** -np.arange(n + 1, dtype=float)
    frame = pd.DataFrame(
        {
            "year": np.arange(n + 1),
            "capex_cny": capex,
            "replacement_cny": replacement,
            "om_cny": om,
            "savings_cny": savings,
            "salvage_cny": salvage,
            "net_cny": net,
            "discount_factor": factor,
            "discounted_net_cny": net * factor,
            "cumulative_net_cny": np.cumsum(net),
            "cumulative_discounted_net_cny": np.cumsum(net * factor),
            "co2_avoided_t": co2,
        }
    )
    if capacity is not None:
        frame["battery_capacity_fraction"] = np.concatenate([[1.0], capacity])
    return frame


def npv_cny(net: Sequence[float] | np.ndarray | pd.Series, rate: float) -> float:
    r"""Net present value :math:`\sum_{y=0}^{N} \mathrm{net}_y (1 + r)^{-y}`.

    Parameters
    ----------
    net : sequence of float
        Net cash flow of years ``0..N`` [CNY].
    rate : float
        Discount rate, above -1 [-/year].

    Returns
    -------
    float
        The NPV at year 0 [CNY].
    """
    values, rate = _flows(net), checked_rate(rate)
    return float(np.sum(values * (1.0 + rate) ** -np.arange(values.size, dtype=float)))


def irr(net: Sequence[float] | np.ndarray | pd.Series) -> float | None:
    r"""Internal rate of return: the rate :math:`r > -1` at which the NPV is 0.

    The NPV is scanned for sign changes on a grid of rates from -0.95 to 1000 per
    year, each bracket is solved with :func:`scipy.optimize.brentq`, and the root
    nearest to 0 is returned (flows that change sign more than once, as with a
    re-purchase or a replacement, may have several).

    Parameters
    ----------
    net : sequence of float
        Net cash flow of years ``0..N`` [CNY].

    Returns
    -------
    float or None
        The IRR [-/year]; None when the flows never change sign (all gains or all
        losses) or the NPV has no root in the scanned range.
    """
    values = _flows(net)
    if not (values > 0.0).any() or not (values < 0.0).any():
        return None

    def npv(rate: float) -> float:
        return npv_cny(values, rate)

    at_grid = np.array([npv(r) for r in _IRR_GRID])
    roots = [float(r) for r, v in zip(_IRR_GRID, at_grid, strict=True) if v == 0.0]
    change = np.flatnonzero(np.sign(at_grid[:-1]) * np.sign(at_grid[1:]) < 0.0)
    for k in change:
        roots.append(float(brentq(npv, _IRR_GRID[k], _IRR_GRID[k + 1], xtol=_IRR_XTOL)))
    if not roots:
        return None
    return min(roots, key=abs)


def payback_years(
    net: Sequence[float] | np.ndarray | pd.Series,
    discounted: bool = False,
    rate: float | None = None,
) -> float | None:
    r"""Years until the cumulative (optionally discounted) net cash flow is recovered.

    With :math:`S_y = \sum_{k \le y} c_k` (:math:`c_k = \mathrm{net}_k`, or
    :math:`\mathrm{net}_k (1 + r)^{-k}` when discounted) and :math:`y^*` the first
    year with :math:`S_{y^*} \ge 0`, the flow of year :math:`y^*` is taken as spread
    evenly over it:

    .. math:: \mathrm{payback} = y^* - 1 + \frac{-S_{y^* - 1}}{c_{y^*}}

    (0 when :math:`S_0 \ge 0`). A later dip below 0 (a re-purchase) does not undo it.

    Parameters
    ----------
    net : sequence of float
        Net cash flow of years ``0..N`` [CNY].
    discounted : bool
        Discount the flows at ``rate`` first.
    rate : float, optional
        Discount rate, needed when ``discounted`` [-/year].

    Returns
    -------
    float or None
        The payback time [year]; None when the cumulative never reaches 0.
    """
    values = _flows(net)
    if discounted:
        if rate is None:
            raise ValueError("a discounted payback needs the discount rate")
        values = values * (1.0 + checked_rate(rate)) ** -np.arange(values.size, dtype=float)
    cumulative = np.cumsum(values)
    if cumulative[0] >= 0.0:
        return 0.0
    recovered = np.flatnonzero(cumulative >= 0.0)
    if recovered.size == 0:
        return None
    y = int(recovered[0])
    return float(y - 1 + -cumulative[y - 1] / values[y])


def finance_summary(
    investments: Sequence[Investment],
    *,
    annual_savings_cny: float,
    pv_savings_cny: float,
    finance: Finance,
    annual_co2_avoided_t: float = 0.0,
    pv_co2_avoided_t: float = 0.0,
    state_of_health: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    r"""The investment's figures of merit before tax, as the owner's, JSON-able.

    Parameters are those of :func:`cash_flows`. The finance by party (energy-management
    contract, tax, subsidies, debt) builds on these cash flows:
    :func:`vpp.planning.parties.party_cash_flows`.

    Returns
    -------
    dict
        ``npv_cny`` [CNY]; ``irr_fraction`` [-/year] or None; ``simple_payback_years``
        and ``discounted_payback_years`` [year] or None; ``capex_cny``, the year-0
        capital [CNY]; ``annualized_capex_cny`` :math:`\sum_i K_i\,\mathrm{CRF}(r, L_i)`
        [CNY/year]; ``lcoe_pv_cny_per_kwh`` (None without PV or PV energy) and
        ``lcos_cny_per_kwh`` (None without a battery or discharge) [CNY/kWh], each the
        present costs of all such components over their present energy, each over its
        own lifetime (see :func:`lcoe_cny_per_kwh`, :func:`lcos_cny_per_kwh`);
        ``co2_avoided_life_t`` :math:`\sum_{y=1}^{N} \mathrm{co2}_y` [t];
        ``cny_per_t_avoided`` :math:`= -\mathrm{NPV} / \mathrm{co2}_{life}`, the net
        cost of abatement, negative when the investment saves money, None when no
        CO2 is avoided [CNY/t]; ``cash_flows``, the rows of :func:`cash_flows` as a
        list of dicts; with a battery's ageing, ``battery_fade`` {battery: what
        :func:`vpp.planning.fade.with_fade` found} (absent without).
    """

    frame = cash_flows(
        investments,
        annual_savings_cny=annual_savings_cny,
        pv_savings_cny=pv_savings_cny,
        finance=finance,
        annual_co2_avoided_t=annual_co2_avoided_t,
        pv_co2_avoided_t=pv_co2_avoided_t,
        state_of_health=state_of_health,
    )
    rate = finance.discount_rate
    net = frame["net_cny"].to_numpy()
    npv = npv_cny(net, rate)
    internal = irr(net)
    co2_life = float(frame["co2_avoided_t"].sum())
    pv = [i for i in investments if LEVELIZED_AS[i.kind] == LCOE_KEY]
    bess = [i for i in investments if LEVELIZED_AS[i.kind] == LCOS_KEY]
    records = [
        {k: (int(v) if k == "year" else float(v)) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]
    out = {
        "npv_cny": npv,
        "irr_fraction": internal,
        "simple_payback_years": payback_years(net),
        "discounted_payback_years": payback_years(net, discounted=True, rate=rate),
        "capex_cny": float(frame["capex_cny"].iloc[0]),
        "annualized_capex_cny": float(
            sum(annualized_cny(i.capex_cny, rate, i.lifetime_years) for i in investments)
        ),
        LCOE_KEY: levelized_cny_per_kwh(pv, rate, finance.om_escalation_fraction_per_year),
        LCOS_KEY: levelized_cny_per_kwh(bess, rate, finance.om_escalation_fraction_per_year),
        "co2_avoided_life_t": co2_life,
        "cny_per_t_avoided": -npv / co2_life if co2_life > 0.0 else None,
        "cash_flows": records,
    }
    aged = {i.name: i.ageing.summary for i in investments if i.ageing is not None}
    if aged:
        out["battery_fade"] = aged
    return out
