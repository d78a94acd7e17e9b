"""The ledger's views of registered sites: monitoring's month, the ledger's entries (one
query for all the sites), the year's earlier months' load and PV for the certificates'
need (one query for all the sites with a target, :mod:`~vpp.platform.carbon_ledger.year`)
and the metered year to date, through
:func:`~vpp.platform.carbon_ledger.view.carbon_assets`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from vpp.platform.alerts.trajectory import site_trajectory
from vpp.platform.carbon_ledger.store import load_entries
from vpp.platform.carbon_ledger.view import carbon_assets
from vpp.platform.carbon_ledger.year import earlier_energy
from vpp.platform.monitoring.data import month_bounds, site_model
from vpp.platform.monitoring.service import site_monitor
from vpp.platform.parks import SiteRef

__all__ = ["month_fraction", "site_views"]

#: The run-rate window asked of the targets' trajectory; only its year to date is used [d].
_WINDOW_DAYS = 1


def month_fraction(now: pd.Timestamp) -> float:
    """The elapsed share of ``now``'s month (zone-aware, local) [-], as monitoring counts it."""
    first, following = month_bounds(now.date())
    start = pd.Timestamp(first).tz_localize(now.tz)
    end = pd.Timestamp(following).tz_localize(now.tz)
    return float((now - start) / (end - start))


def _holds_allowances(entries: Sequence[dict[str, Any]], year: str) -> bool:
    """Whether the entries in force hold allowances or emissions of ``year`` (only then
    is the metered year to date compared, and read)."""
    return any(
        e["period"] == year and e["unit"] == "t" and e["superseded_by"] is None for e in entries
    )


def site_views(
    platform: Any, file: str, refs: Sequence[SiteRef], *, metered: bool = True
) -> dict[str, dict[str, Any]]:
    """Each site's carbon assets at the platform's present.

    Parameters
    ----------
    platform : vpp.platform.Platform
        The database and clock.
    file : str
        The park's file (:func:`vpp.platform.monitoring.service.park_file`).
    refs : sequence of SiteRef
        The sites (of that park).
    metered : bool
        Compare the allowances with the platform's metered year to date
        (:data:`~vpp.platform.carbon_ledger.view.METERED_BASIS`); it is read only for
        a site holding allowance or emission entries of the present year.

    Returns
    -------
    dict
        Site name -> :func:`~vpp.platform.carbon_ledger.view.carbon_assets`, with the
        month's ``now`` (local ISO 8601).
    """
    entries = load_entries(platform.sessions, [r.site_id for r in refs])
    seen = []
    for ref in refs:
        view = site_monitor(platform, ref, file, steps=False)
        model = site_model(file, ref.site)
        seen.append((ref, view, model, pd.Timestamp(view["now"]).tz_convert(model.timezone)))
    # the year's earlier months, for the sites whose target counts certificates
    months: dict[dt.date, list[tuple[int, Any]]] = {}
    for ref, _, model, now in seen:
        goal = model.scenario.site.renewable_target
        if goal is not None and goal.certificates_allowed:
            months.setdefault(now.date().replace(day=1), []).append((ref.site_id, model))
    earlier: dict[int, dict[str, float]] = {}
    for first, sites in months.items():
        earlier.update(earlier_energy(platform, sites, first))
    out = {}
    for ref, view, model, now in seen:
        ytd = None
        if metered and _holds_allowances(entries[ref.site_id], str(now.year)):
            path = site_trajectory(
                platform, ref, model, now.year, now.to_pydatetime(), _WINDOW_DAYS
            )
            ytd = {"year": now.year, "co2_t": path["ytd"]["co2_t"]}
        assets = carbon_assets(
            model.scenario,
            view["month"],
            view["month_account"]["energy"],
            month_fraction(now),
            entries[ref.site_id],
            ytd,
            earlier.get(ref.site_id),
        )
        out[ref.site] = {"now": view["now"], **assets}
    return out
