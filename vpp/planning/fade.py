r"""Battery capacity fade in planning: the sized year's cycling over the analysis period.

:func:`with_fade` is the one call :func:`vpp.planning.size.size` makes: every sized
battery whose ``sizing.fade`` is given gets its :class:`~vpp.planning.investment.Ageing`
from the sized dispatch, and the finance (:func:`vpp.planning.finance.cash_flows`) then
replaces its cells at end of life, scales its savings with the capacity left and values
its residue by state of health.

For battery *b* with nameplate :math:`E` [kWh], state of charge :math:`S_t` [kWh] of the
sized dispatch at the start of each step (then the year closes on its initial state, as
it repeats), and cell temperature :math:`T_t` [degC]:

.. math::

    s_t = S_t / E, \qquad q(a) = \text{:func:`vpp.planning.fade_model.capacity_fraction`}
    (s, T;\ a), \qquad a_{EOL}: q(a_{EOL}) = h_{EOL}

    R = \begin{cases}
        \texttt{replacement\_year} & \text{if given} \\
        \lceil a_{EOL} \rceil & \text{if } \lceil a_{EOL} \rceil < L \\
        \text{none} & \text{otherwise (the battery's life } L \text{ ends first)}
    \end{cases}

The cells are replaced every :math:`R` years after each purchase, at
``replacement_cny_per_kwh`` :math:`\times E` (``capex_cny_per_kwh`` :math:`\times E` when
that is 0: cells bought again at today's price). The temperature is a constant
(``temperature_c``; by default the data file's conditioned container, 25 degC, an
assumption) or ``ambient``, the site weather's air temperature on the horizon.

Equivalent full cycles per year, from the discharged energy at the bus :math:`D` [kWh]
over the horizon of :math:`Y` years:

.. math::

    \mathrm{EFC}_{nameplate} = \frac{D}{E\,Y}, \qquad
    \mathrm{EFC}_{usable} = \frac{D}{(s_{max} - s_{min}) E\,Y}

(the usable one is the run's KPI ``equivalent_full_cycles`` per year).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from vpp.assets.columns import role_columns
from vpp.planning.fade_model import capacity_fraction, fade_model, year_stress, years_to_fraction
from vpp.planning.fade_stressors import fade_data
from vpp.planning.investment import Ageing, Investment
from vpp.planning.sizing_model import sized_entries

__all__ = ["cell_temperature_c", "cycles_per_year", "with_fade"]


def cell_temperature_c(spec: Any, scenario: Any, horizon: Any) -> tuple[np.ndarray, str]:
    """The cell temperature of each step [degC] and how it was chosen, in words.

    ``spec.temperature_c``: a number (constant), ``"ambient"`` (the site weather's
    ``temp_air``), or None (the data file's conditioned container, an assumption).
    """
    if spec.temperature_c == "ambient":
        from vpp.assets.pv.availability import site_weather

        weather, source, _notes = site_weather(scenario.site, horizon)
        return weather["temp_air"].to_numpy(dtype=float), f"ambient air ({source})"
    if spec.temperature_c is None:
        conditioned = float(fade_data()["cell_temperature"]["conditioned_c"])
        return (
            np.full(horizon.n, conditioned),
            f"{conditioned:g} degC, a conditioned container (assumption)",
        )
    return np.full(horizon.n, float(spec.temperature_c)), f"{spec.temperature_c:g} degC (given)"


def cycles_per_year(
    discharged_kwh: float, energy_kwh: float, usable_fraction: float, years: float
) -> dict[str, float]:
    """Equivalent full cycles per year on nameplate and on usable capacity [1/year]
    (module docstring)."""
    nameplate = discharged_kwh / (energy_kwh * years) if energy_kwh > 0.0 else 0.0
    return {"nameplate": nameplate, "usable": nameplate / usable_fraction}


def with_fade(
    investments: Sequence[Investment], scenario: Any, dispatch: Any, years: float
) -> list[Investment]:
    """The investments, each battery with a ``sizing.fade`` given its ageing.

    Parameters
    ----------
    investments : sequence of Investment
        As the units' ``investment`` gives them.
    scenario : Scenario
        The planning scenario (its candidates' ``sizing``).
    dispatch : RunResult
        The sized site's run (its schedule, KPIs and final state).
    years : float
        The horizon's length [year].

    Returns
    -------
    list of Investment
        Unchanged when no battery has a fade entry.
    """
    specs = {
        entry.name: entry.sizing
        for _, entry in sized_entries(scenario)
        if getattr(entry.sizing, "fade", None) is not None
    }
    if not specs:
        return list(investments)
    soc = {e.name: (e, col) for _, e, col in role_columns(dispatch.scenario.site, "storage_soc")}
    out = []
    for item in investments:
        sizing = specs.get(item.name)
        if sizing is None or item.name not in soc:
            out.append(item)
            continue
        entry, column = soc[item.name]
        out.append(_aged(item, sizing, entry, column, scenario, dispatch, years))
    return out


def _aged(
    item: Investment,
    sizing: Any,
    entry: Any,
    column: str,
    scenario: Any,
    dispatch: Any,
    years: float,
) -> Investment:
    """One battery's investment with its ageing (module docstring)."""
    spec = sizing.fade
    model = fade_model(spec.model)
    energy = float(entry.energy_kwh)
    state = dispatch.schedule[column].to_numpy(dtype=float)
    soc = np.append(state, state[0]) / energy  # the year closes on itself as it repeats
    temperature, temperature_text = cell_temperature_c(spec, scenario, dispatch.horizon)
    stress = year_stress(model, soc, temperature, dispatch.horizon.step_h)
    eol_data = fade_data()["end_of_life"]
    eol = spec.end_of_life_fraction
    eol_text = "given"
    if eol is None:
        eol = float(eol_data["fraction"])
        eol_text = f"default ({eol_data['source']['reliability']}, battery-fade-models.yaml)"
    life_years = item.lifetime_years
    to_eol = years_to_fraction(model, stress, eol)
    if sizing.replacement_year is not None:
        interval, interval_from = sizing.replacement_year, "replacement_year"
    elif to_eol is not None and math.ceil(to_eol) < life_years:
        interval, interval_from = max(1, math.ceil(to_eol)), "end of life"
    else:
        interval, interval_from = None, f"none: end of life after lifetime_years {life_years}"
    per_kwh = sizing.replacement_cny_per_kwh or sizing.capex_cny_per_kwh
    discharged = {
        e.name: col for _, e, col in role_columns(dispatch.scenario.site, "storage_discharge")
    }
    out_kwh = float(dispatch.schedule[discharged[item.name]].sum()) * dispatch.horizon.step_h
    usable = float(entry.soc_max_fraction - entry.soc_min_fraction)
    ageing = Ageing(
        capacity_fraction_by_age=tuple(
            float(q) for q in capacity_fraction(model, stress, np.arange(life_years + 1))
        ),
        end_of_life_fraction=eol,
        replacement_interval_years=interval,
    )
    aged = replace(item, replacement_year=None, replacement_cny=per_kwh * energy, ageing=ageing)
    life = aged.life(scenario.finance.analysis_years)
    summary = {
        "model": model.name,
        "source": f"{model.source['document'].split(' (')[0]}, doi:{model.source['doi']}",
        "cell_temperature": temperature_text,
        "mean_cell_temperature_c": stress.mean_temperature_c,
        "end_of_life_fraction": eol,
        "end_of_life_from": eol_text,
        "years_to_end_of_life": to_eol,
        "replacement_interval_years": interval,
        "replacement_from": interval_from,
        "replacement_years": list(life.replacement_years),
        "replacement_cny": per_kwh * energy,
        "replacement_cny_from": (
            "replacement_cny_per_kwh" if sizing.replacement_cny_per_kwh else "capex_cny_per_kwh"
        ),
        "capacity_fraction_by_year": [float(q) for q in life.capacity_fraction],
        "capacity_fraction_end_of_year": [float(q) for q in life.capacity_end_fraction],
        "renewed_years": list(life.renewed_years),
        "state_of_health_end": life.state_of_health_end,
        "equivalent_full_cycles_per_year": cycles_per_year(out_kwh, energy, usable, years),
        "cell_efc_per_year": stress.cell_efc_per_year,
        "notes": [f"outside the model's tested range: {o}" for o in stress.outside],
    }
    return replace(aged, ageing=replace(ageing, summary=summary))
