r"""The genset unit: its input series from the scenario, its idle and rule-based behaviour.

Input series of a genset entry (:func:`genset_series`), on the horizon:

- ``availability_fraction`` :math:`\alpha_t` [-]: the constant or the series file, each
  step in 0..1;
- ``available_kw`` :math:`\bar P \alpha_t` [kW], times the demand-response event steps
  (1 in an event, else 0) when ``use: dr_events``: a single-site run has no events, so
  that genset never runs there; a park gives its events' steps
  (:meth:`GensetRules.with_event_steps`);
- ``max_kw`` :math:`\hat P_t` [kW]: ``available_kw``, and with ``use: grid_limit``
  at most :math:`\max(0, L_t - \sum_{pv} A_t - \bar I)` (the fixed load, the available PV
  of every array, the grid's import limit);
- ``carbon_cny_per_l`` [CNY/L]: the carbon price on a litre of its diesel
  (:func:`vpp.assets.genset.diesel.carbon_cny_per_l`).

Idle and rule-based behaviour: a genset is a cost, never a saving the rules could count
on, so baselines (no optimisation) and the daily job's fallback leave it off:
:math:`P_t = 0`, :math:`u_t = 0`. When the site cannot be served without it (the load
above the import limit), the baseline shows the import above the limit, as it does
without a genset.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from vpp.assets.genset.diesel import carbon_cny_per_l
from vpp.errors import DataError, Problem, ScenarioError, VppError
from vpp.model.build import AssetInput
from vpp.timeseries import Horizon, read_series

__all__ = ["GensetRules", "genset_inputs", "genset_series", "grid_limit_need_kw"]

#: Names a genset may not take: the site's own blocks.
RESERVED = ("grid", "load", "green", "carbon")


def grid_limit_need_kw(
    load_kw: np.ndarray, pv_available_kw: np.ndarray, import_limit_kw: float
) -> np.ndarray:
    """What the grid connection cannot carry: :math:`\\max(0, L_t - A_t - \\bar I)` [kW]."""
    return np.maximum(
        0.0, np.asarray(load_kw, float) - np.asarray(pv_available_kw, float) - import_limit_kw
    )


def _availability(
    genset: Any, horizon: Horizon, where: str, problems: list[Problem]
) -> np.ndarray | None:
    """:math:`\\alpha_t` [-], or None (problems recorded) when it cannot be used."""
    spec = genset.availability
    if not hasattr(spec, "file"):
        return np.full(horizon.n, float(spec))
    try:
        values = read_series(
            spec.file,
            spec.column,
            horizon,
            timestamp_column=spec.timestamp_column,
            timezone=spec.timezone,
            resample=spec.resample,
            scale=spec.scale,
            where=f"{where}.availability",
        )
    except VppError as exc:
        problems.extend(exc.problems)
        return None
    bad = np.flatnonzero((values < 0.0) | (values > 1.0))
    if bad.size:
        problems.append(
            Problem(
                f"availability must be a share of the rated power, 0 to 1 ({bad.size} step(s) "
                "outside)",
                file=str(spec.file),
                key=f"{where}.availability column '{spec.column}'",
                timestamp=horizon.index[bad[0]].isoformat(),
                value=f"{values[bad[0]]:g}",
                allowed="0 to 1 [-]",
                fix="give shares (0.5 for half the rated power), not kW or percent; or set "
                "the series' 'scale'",
            )
        )
        return None
    return values


def genset_series(
    genset: Any,
    site: Any,
    horizon: Horizon,
    cols: dict[str, np.ndarray],
    where: str,
    problems: list[Problem],
) -> dict[str, np.ndarray] | None:
    """The block's series of one genset (module docstring), or None on problems.

    ``cols`` holds the site's input series (``load_kw``, ``<array>_available_kw``).
    """
    alpha = _availability(genset, horizon, where, problems)
    if alpha is None:
        return None
    available = genset.rated_kw * alpha
    if genset.use == "dr_events":
        available = np.zeros(horizon.n)  # a single site has no events (with_event_steps)
    cap = available
    if genset.use == "grid_limit":
        limit = site.grid.import_limit_kw
        if limit is None:
            problems.append(
                Problem(
                    f"genset '{genset.name}' has use: grid_limit but the grid has no import limit",
                    key=f"{where}.use",
                    value="grid_limit",
                    allowed="always, dr_events; grid_limit with site.grid.import_limit_kw",
                    fix="give site.grid.import_limit_kw [kW], or use: always",
                )
            )
            return None
        pv = sum((cols[f"{a.name}_available_kw"] for a in site.pv), np.zeros(horizon.n))
        cap = np.minimum(available, grid_limit_need_kw(cols["load_kw"], pv, limit))
    return {
        "availability_fraction": alpha,
        "available_kw": available,
        "max_kw": cap,
        "carbon_cny_per_l": np.full(horizon.n, carbon_cny_per_l(genset, site)),
    }


def _names(site: Any) -> list[str]:
    """Every other asset name of the site."""
    out = [a.name for a in site.pv] + [b.name for b in site.batteries]
    out += [f.name for f in site.flexible_loads] + [e.name for e in site.ev_fleets]
    return out + [c.name for c in site.green_contracts]


def genset_inputs(site: Any, horizon: Horizon, cols: dict[str, np.ndarray]) -> list[AssetInput]:
    """Block inputs of every genset of the site; adds ``<name>_max_kw`` to ``cols``.

    Raises
    ------
    ScenarioError, DataError
        Every problem found (a name taken twice, a bad availability series, grid_limit
        without an import limit, an unknown diesel factor); the type of the first.
    """
    problems: list[Problem] = []
    first: type[VppError] | None = None
    taken = _names(site)
    out: list[AssetInput] = []
    for i, genset in enumerate(site.gensets):
        where = f"site.gensets[{i}]"
        clash = genset.name in taken or genset.name in RESERVED
        if clash:
            problems.append(
                Problem(
                    f"genset name '{genset.name}' is taken by another asset or reserved",
                    key=f"{where}.name",
                    value=repr(genset.name),
                    allowed="a name no other asset has, not 'grid', 'load', 'green' or 'carbon'",
                    fix="rename the genset",
                )
            )
            first = first or ScenarioError
        taken.append(genset.name)
        before = len(problems)
        try:
            series = genset_series(genset, site, horizon, cols, where, problems)
        except ScenarioError as exc:  # an unknown diesel factor name
            problems.extend(exc.problems)
            series = None
        if len(problems) > before:
            kind = DataError if problems[before].file else ScenarioError
            first = first or kind
        if series is None or clash:
            continue
        cols[f"{genset.name}_max_kw"] = series["max_kw"]
        out.append(AssetInput(genset.name, "genset", genset, series))
    if problems:
        raise (first or ScenarioError)(problems)
    return out


class GensetRules:
    """Its input series, idle and rule-based behaviour."""

    def with_event_steps(self, asset: AssetInput, in_event: np.ndarray) -> AssetInput:
        """The genset's inputs when a park's demand-response events cover ``in_event``.

        Parameters
        ----------
        asset : AssetInput
            The genset's block input (:func:`genset_inputs`).
        in_event : numpy.ndarray of bool
            Per step of the horizon, whether an event the park joins covers it.

        Returns
        -------
        AssetInput
            With ``use: dr_events``, ``available_kw`` and ``max_kw`` opened to
            :math:`\\bar P \\alpha_t` in the event steps; any other use unchanged.
        """
        spec = asset.spec
        if spec.use != "dr_events":
            return asset
        mask = np.asarray(in_event, dtype=bool)
        open_kw = np.where(mask, spec.rated_kw * asset.series["availability_fraction"], 0.0)
        return replace(asset, series={**asset.series, "available_kw": open_kw, "max_kw": open_kw})

    def idle_kw(self, asset: AssetInput, horizon: Horizon) -> dict[str, np.ndarray]:
        """The genset in a baseline (no optimisation): off in every step.

        Returns
        -------
        dict of str to numpy.ndarray
            ``power_kw`` [kW] and ``running_fraction`` [-], zero on every step.
        """
        zero = np.zeros(horizon.n)
        return {"power_kw": zero, "running_fraction": zero.copy()}
