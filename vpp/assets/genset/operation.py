r"""The genset unit: rolling-window inputs, reading a plan, the real-time rule, the hold.

- **Window inputs** (:func:`window_series`): the steps of the window of every series;
  with ``use: grid_limit`` the cap is recomputed from the window's forecasts
  (:math:`\max(0, \tilde L_t - \sum_{pv} \tilde A_t - \bar I)`), as a planner would know it.
  A genset carries no state between windows (no fuel tank, no minimum up or down time).
- **Real-time rule** (:func:`real_time`): the genset gives its planned output, never more
  than the rule allows with the actual load and PV (:math:`\hat P_t`, the ``max_kw`` of
  the inputs); with a minimum stable load, an output the cap pushes below
  :math:`m \bar P` is not held: the genset stops (:math:`P_t = u_t = 0`). The grid takes the
  rest, as for every other asset.
- **Settlement**: its settled ``power_kw`` and ``running_fraction`` are what the real-time
  rule gave; its money and diesel are recomputed from them (:mod:`vpp.assets.genset.money`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vpp.assets.genset.rules import grid_limit_need_kw

__all__ = ["GensetOperation", "real_time", "running_of", "window_series"]


def window_series(
    asset: Any,
    site: Any,
    start: int,
    stop: int,
    forecasts: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The genset's series on the window ``start..stop-1`` (module docstring).

    ``forecasts`` holds the window's ``load_kw`` and ``<array>_available_kw`` [kW].
    """
    series = {k: np.asarray(v)[start:stop] for k, v in asset.series.items()}
    if asset.spec.use == "grid_limit":
        n = stop - start
        pv = sum((forecasts[f"{a.name}_available_kw"] for a in site.pv), np.zeros(n))
        need = grid_limit_need_kw(forecasts["load_kw"], pv, site.grid.import_limit_kw)
        series["max_kw"] = np.minimum(series["available_kw"], need)
    return series


def running_of(genset: Any, power_kw: np.ndarray) -> np.ndarray:
    """:math:`u_t` of outputs :math:`P_t` [-]: on/off (a minimum stable load), else
    :math:`P_t / \\bar P`."""
    p = np.asarray(power_kw, float)
    if genset.min_stable_fraction is None:
        return p / genset.rated_kw
    return (p > 0.0).astype(float)


def real_time(genset: Any, planned_kw: np.ndarray, max_kw: np.ndarray) -> dict[str, np.ndarray]:
    """The settled output of planned outputs under the actual caps (module docstring).

    Parameters
    ----------
    genset : vpp.scenario.genset.Genset
        The scenario entry.
    planned_kw : numpy.ndarray
        The plan's ``power_kw`` on the steps [kW].
    max_kw : numpy.ndarray
        The actual :math:`\\hat P_t` on the same steps [kW].

    Returns
    -------
    dict of str to numpy.ndarray
        ``power_kw`` [kW] and ``running_fraction`` [-].
    """
    p = np.clip(np.asarray(planned_kw, float), 0.0, np.minimum(max_kw, genset.rated_kw))
    if genset.min_stable_fraction is not None:
        low = genset.min_stable_fraction * genset.rated_kw
        p = np.where(p >= low * (1.0 - 1e-9), p, 0.0)
    return {"power_kw": p, "running_fraction": running_of(genset, p)}


class GensetOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold."""
