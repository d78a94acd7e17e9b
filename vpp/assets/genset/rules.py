r"""The genset unit: its input series from the scenario, its idle and rule-based behaviour.

Input series of a genset entry (:func:`genset_series`), on the horizon:

- ``availability_fraction`` :math:`\alpha_t` [-]: the constant or the series file, each
  step in 0..1;
- ``available_kw`` :math:`\bar P \alpha_t` [kW]; with ``use: dr_events`` only in the steps
  of the park's demand-response events (:meth:`GensetRules.with_event_steps`), else 0: a
  single-site run has no events, so that genset never runs there;
- ``max_kw`` :math:`\hat P_t` [kW]: ``available_kw``, and with ``use: grid_limit`` only in
  the steps where ``need_kw`` is above zero (0 elsewhere);
- ``carbon_cny_per_l`` [CNY/L]: the carbon price on a litre of its diesel
  (:func:`vpp.assets.genset.diesel.carbon_cny_per_l`);
- with ``use: grid_limit``: ``need_kw``, what the grid connection cannot carry,
  :math:`N_t = \max(0, L_t - \sum_{pv} A_t - \bar I_t)` [kW], and what it is computed from,
  under the input-frame names so that forecasts replace them by name (rolling windows, the
  daily job): ``load_kw`` (the fixed load), each PV array's ``<array>_available_kw`` and
  ``import_limit_kw`` (the grid's, per step) [kW] (:func:`rule_inputs`).

Idle and rule-based behaviour: baselines (no optimisation) and the daily job's safe
fallback schedule leave it off (:math:`P_t = u_t = 0`: its columns are missing from a
baseline, and count as zero). A baseline is not held to the import limit, so a load above
the limit shows as import there, as it does without a genset. The fallback is the rule
(:func:`vpp.runs.rule_based.guard_schedule`), in which only batteries act, so a
``grid_limit`` genset is off in it too (the limits it breaks are reported).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from vpp.assets.genset.diesel import carbon_cny_per_l
from vpp.assets.grid.limits import limit_on_index
from vpp.assets.opt_outs import PassiveInRules
from vpp.errors import DataError, Problem, ScenarioError, VppError
from vpp.model.build import AssetInput
from vpp.series_bounds import Bound
from vpp.timeseries import Horizon, read_series

__all__ = [
    "GensetRules",
    "genset_input",
    "genset_series",
    "grid_limit_need_kw",
    "pv_keys",
    "rule_inputs",
]


def grid_limit_need_kw(load_kw: Any, pv_available_kw: Any, import_limit_kw: Any) -> np.ndarray:
    """What the grid connection cannot carry: :math:`\\max(0, L_t - A_t - \\bar I_t)` [kW]."""
    return np.maximum(
        0.0,
        np.asarray(load_kw, float)
        - np.asarray(pv_available_kw, float)
        - np.asarray(import_limit_kw, float),
    )


def pv_keys(series: dict[str, Any]) -> list[str]:
    """The PV columns a ``grid_limit`` genset's series carries (``<array>_available_kw``)."""
    return [k for k in series if k.endswith("_available_kw")]


def rule_inputs(series: dict[str, Any]) -> dict[str, np.ndarray]:
    """``need_kw`` and ``max_kw`` of a ``grid_limit`` genset from its series' ``load_kw``,
    PV columns (:func:`pv_keys`), ``import_limit_kw`` and ``available_kw`` [kW]."""
    load = np.asarray(series["load_kw"], float)
    pv = sum((np.asarray(series[k], float) for k in pv_keys(series)), np.zeros(load.size))
    need = grid_limit_need_kw(load, pv, series["import_limit_kw"])
    return {"need_kw": need, "max_kw": np.where(need > 0.0, series["available_kw"], 0.0)}


def _availability(
    genset: Any, horizon: Horizon, where: str, problems: list[Problem]
) -> np.ndarray | None:
    """:math:`\\alpha_t` [-], or None (problems recorded) when it cannot be used."""
    spec = genset.availability
    if not hasattr(spec, "file"):
        return np.full(horizon.n, float(spec))
    share = Bound(
        "availability must be a share of the rated power, 0 to 1",
        "0 to 1 [-]",
        "give shares (0.5 for half the rated power), not kW or percent; or set the series' 'scale'",
        lower=0.0,
        upper=1.0,
    )
    try:  # the share is checked on each row of the file, before any averaging
        return read_series(
            spec.file,
            spec.column,
            horizon,
            timestamp_column=spec.timestamp_column,
            timezone=spec.timezone,
            resample=spec.resample,
            scale=spec.scale,
            where=f"{where}.availability",
            bounds=(share,),
        )
    except VppError as exc:
        problems.extend(exc.problems)
        return None


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

    An unknown diesel factor name is not reported here: the site's emission factors
    report it, once (:mod:`vpp.assets.emission_factors`).
    """
    alpha = _availability(genset, horizon, where, problems)
    if alpha is None:
        return None
    available = genset.rated_kw * alpha
    if genset.use == "dr_events":
        available = np.zeros(horizon.n)  # a single site has no events (with_event_steps)
    series = {"availability_fraction": alpha, "available_kw": available, "max_kw": available}
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
        series["load_kw"] = np.asarray(cols["load_kw"], float)
        for array in site.pv:
            series[f"{array.name}_available_kw"] = np.asarray(
                cols[f"{array.name}_available_kw"], float
            )
        try:  # a number or a series; a bad series is reported by the grid, once
            series["import_limit_kw"] = limit_on_index(
                site.grid, "import_limit_kw", horizon.index, horizon.step_h
            )
        except VppError:
            return None
        series.update(rule_inputs(series))
    try:
        carbon = carbon_cny_per_l(genset, site)
    except ScenarioError:  # an unknown diesel factor: the site's emission factors name it
        carbon = 0.0
    series["carbon_cny_per_l"] = np.full(horizon.n, carbon)
    return series


def genset_input(
    genset: Any, site: Any, horizon: Horizon, cols: dict[str, np.ndarray]
) -> AssetInput:
    """The block input of one genset of ``site`` (a ``site.gensets`` entry).

    ``cols`` holds the site's input series read so far (``load_kw``,
    ``<array>_available_kw``); nothing is added to it.

    Raises
    ------
    ScenarioError, DataError
        Every problem of the entry (a bad availability series, ``grid_limit`` without an
        import limit); the type of the first.
    """
    i = next(k for k, g in enumerate(site.gensets) if g is genset)
    where = f"site.gensets[{i}]"
    problems: list[Problem] = []  # unique names: checked with every asset's by Site
    series = genset_series(genset, site, horizon, cols, where, problems)
    if problems:
        raise (DataError if problems[0].file else ScenarioError)(problems)
    return AssetInput(genset.name, "genset", genset, series)


class GensetRules(PassiveInRules):
    """Its input series; off in baselines, under the rule and in the fallback."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: Any) -> list[AssetInput]:
        """Its block input (:func:`genset_input`). Read after the load and the PV arrays
        (``grid_limit`` reads them); it adds no input column to the schedule."""
        return [genset_input(entry, ctx.site, ctx.horizon, ctx.columns)]

    def site_inputs(self, ctx: Any) -> list[AssetInput]:
        """None: every genset is read as an entry."""
        return []

    def idle(self, asset: AssetInput, series: Any) -> Any:
        """Off: no demand, no supply, no column (missing columns count as zero)."""
        from vpp.assets.idle import Idle

        return Idle()

    def delivered(self, asset: AssetInput, series: Any, share: np.ndarray) -> dict:
        """None: off when nothing is optimized, it delivers nothing."""
        return {}

    def with_event_steps(self, asset: AssetInput, in_event: np.ndarray) -> AssetInput:
        """The genset's input when a park's demand-response events cover ``in_event``.

        The park (:func:`vpp.portfolio.run.with_event_steps`) calls it on every site's
        block inputs with the steps of the events it weighs.

        Parameters
        ----------
        asset : AssetInput
            The genset's block input (:func:`genset_input`).
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
