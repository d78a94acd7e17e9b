"""Demand response (需求响应): rules, event settlement, payment sharing.

Pure functions on plain data (pandas series, dicts, :class:`DemandResponseEvent`); the
rule figures live in ``vpp/portfolio/data/jiangsu-demand-response.yaml`` with their source,
validity date and reliability (:func:`load_dr_rules`). The baseline an event is measured
against (similar days of the meter history) is :mod:`vpp.portfolio.dr_baseline`.

Settlement (:func:`settle_event`)
---------------------------------
With ``Bbar`` and ``Mbar`` the means of the baseline and the metered load over the event's
steps [kW] and ``P`` the offered response [kW]:

- effective response ``E = Bbar - Mbar`` (peak shaving) or ``E = Mbar - Bbar`` (valley
  filling) [kW];
- paid only if ``E >= min_fraction * P``; then paid response ``Q = min(E, cap_fraction * P)``
  [kW], else ``Q = 0``;
- payment ``Q * rate`` [CNY], ``rate`` in CNY/kW per event.

Sharing (:func:`share_payment`): the park's payment is split among its sites in proportion
to their delivered response (negative deliveries count as 0), equally, or by capacity.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from vpp.errors import DataError, Problem, ScenarioError
from vpp.scenario.dr import DemandResponseEvent, dr_rules_data
from vpp.timeseries import local_time

__all__ = [
    "annual_usage",
    "load_dr_rules",
    "settle_event",
    "share_payment",
]

#: Relative tolerance on the delivery threshold: a delivery equal to ``min_fraction`` of the
#: offer up to float rounding is paid.
_THRESHOLD_RTOL = 1e-9
SHARE_METHODS = ("delivered", "equal", "capacity")
"""Ways :func:`share_payment` splits a park's payment among its sites."""


def load_dr_rules() -> dict[str, Any]:
    """The demand-response rules of ``jiangsu-demand-response.yaml``, as a fresh dict.

    Returns
    -------
    dict
        Keys ``name``, ``title``, ``source``, ``valid_from``, ``valid_to``, ``notes``,
        ``payments`` (per kind: ``default_response_type`` and ``response_types``, each with
        ``payment_cny_per_kw`` [CNY/kW per event], ``min_duration_h`` [h], ``source``,
        ``reliability``), ``baseline`` (``n_days``, ``exclusions``), ``settlement``
        (``min_fraction``, ``cap_fraction`` [-]) and ``limits`` (``max_events_per_year``,
        ``max_hours_per_year`` [h], ``min_notice_h`` [h], ``min_duration_h``,
        ``max_duration_h`` [h]); each figure as ``{value, source, reliability}``. A copy:
        changing it changes nothing else.
    """
    return copy.deepcopy(dr_rules_data())


# --- settlement -----------------------------------------------------------------------------


def _terms(rules: DemandResponseEvent | Mapping[str, Any]) -> dict[str, Any]:
    names = ("kind", "payment_cny_per_kw", "min_fraction", "cap_fraction")
    if isinstance(rules, Mapping):
        lacking = [name for name in names if name not in rules]
        if lacking:
            raise ScenarioError(
                Problem(
                    "settlement terms are incomplete",
                    key="rules",
                    value=", ".join(sorted(rules)),
                    allowed=", ".join(names),
                    fix=f"add {', '.join(lacking)}",
                )
            )
        terms = {name: rules[name] for name in names}
    else:
        terms = {name: getattr(rules, name) for name in names}
    if terms["kind"] not in ("peak_shaving", "valley_filling"):
        raise ScenarioError(
            Problem(
                "unknown demand-response kind",
                key="rules.kind",
                value=str(terms["kind"]),
                allowed="peak_shaving, valley_filling",
            )
        )
    return terms


def _mean_kw(series: pd.Series | np.ndarray | Iterable[float], key: str) -> float:
    values = np.asarray(series, dtype=float)
    if values.size == 0 or not np.isfinite(values).all():
        bad = np.flatnonzero(~np.isfinite(values))
        where = None
        if len(bad) and isinstance(series, pd.Series):
            where = str(series.index[bad[0]])
        raise DataError(
            Problem(
                f"{key} needs finite values on every step of the event",
                key=key,
                timestamp=where,
                value="no steps" if values.size == 0 else "NaN or inf",
                fix="fill the gap in the metered data",
            )
        )
    return float(values.mean())


def settle_event(
    baseline_kw: pd.Series | np.ndarray,
    metered_kw: pd.Series | np.ndarray,
    offered_kw: float,
    rules: DemandResponseEvent | Mapping[str, Any],
) -> dict[str, Any]:
    """Settle one demand-response event (equations in the module docstring).

    Parameters
    ----------
    baseline_kw : pandas.Series or numpy.ndarray
        Baseline load on the event's steps [kW] (:func:`baseline_kw`).
    metered_kw : pandas.Series or numpy.ndarray
        Metered load on the same steps [kW]. Two series must share their index.
    offered_kw : float
        Response the park offered (declared) for the event [kW], > 0.
    rules : DemandResponseEvent or mapping
        The settlement terms: ``kind``, ``payment_cny_per_kw`` [CNY/kW],
        ``min_fraction`` and ``cap_fraction`` [-] (an event carries them).

    Returns
    -------
    dict
        ``kind``; ``baseline_mean_kw``, ``metered_mean_kw``, ``effective_kw`` (``E``),
        ``offered_kw``, ``threshold_kw`` (``min_fraction * P``), ``cap_kw``
        (``cap_fraction * P``), ``paid_kw`` (``Q``) [kW]; ``delivery_fraction``
        (``E / P``), ``min_fraction``, ``cap_fraction`` [-]; ``paid`` (bool);
        ``payment_cny_per_kw`` [CNY/kW]; ``payment_cny`` [CNY]. ``E`` may be negative
        (the load moved the wrong way); it is then not paid.

    Raises
    ------
    DataError
        Missing or non-finite values, empty series, or indexes that differ.
    ScenarioError
        ``offered_kw`` not positive, or incomplete terms.
    """
    terms = _terms(rules)
    if isinstance(baseline_kw, pd.Series) and isinstance(metered_kw, pd.Series):
        if not baseline_kw.index.equals(metered_kw.index):
            raise DataError(
                Problem(
                    "baseline and metered load are not on the same steps",
                    key="metered_kw",
                    value=f"{len(metered_kw)} steps from {metered_kw.index[:1].tolist()}",
                    allowed=f"the baseline's {len(baseline_kw)} steps from "
                    f"{baseline_kw.index[:1].tolist()}",
                    fix="select the metered load on the event's steps",
                )
            )
    elif np.size(baseline_kw) != np.size(metered_kw):
        raise DataError(
            Problem(
                "baseline and metered load differ in length",
                key="metered_kw",
                value=f"{np.size(metered_kw)} steps",
                allowed=f"{np.size(baseline_kw)} steps",
            )
        )
    if not np.isfinite(offered_kw) or offered_kw <= 0:
        raise ScenarioError(
            Problem(
                "offered response must be a positive number of kW",
                key="offered_kw",
                value=f"{offered_kw} kW",
                allowed="> 0 kW",
            )
        )
    base = _mean_kw(baseline_kw, "baseline_kw")
    metered = _mean_kw(metered_kw, "metered_kw")
    effective = base - metered if terms["kind"] == "peak_shaving" else metered - base
    offered = float(offered_kw)
    threshold = float(terms["min_fraction"]) * offered
    cap = float(terms["cap_fraction"]) * offered
    paid = effective >= threshold * (1.0 - _THRESHOLD_RTOL)
    paid_kw = min(effective, cap) if paid else 0.0
    rate = float(terms["payment_cny_per_kw"])
    return {
        "kind": terms["kind"],
        "baseline_mean_kw": base,
        "metered_mean_kw": metered,
        "effective_kw": effective,
        "offered_kw": offered,
        "delivery_fraction": effective / offered,
        "min_fraction": float(terms["min_fraction"]),
        "cap_fraction": float(terms["cap_fraction"]),
        "threshold_kw": threshold,
        "cap_kw": cap,
        "paid": bool(paid),
        "paid_kw": float(paid_kw),
        "payment_cny_per_kw": rate,
        "payment_cny": float(paid_kw) * rate,
    }


def share_payment(
    payment_cny: float,
    delivered_kw_by_site: Mapping[str, float],
    method: Literal["delivered", "equal", "capacity"] = "delivered",
    capacity_kw_by_site: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Split a park's event payment among its sites [CNY].

    Parameters
    ----------
    payment_cny : float
        The park's payment for the event [CNY], >= 0 (:func:`settle_event`).
    delivered_kw_by_site : mapping of str to float
        Each site's effective response (baseline mean - metered mean for peak shaving) [kW];
        names every site that shares.
    method : {"delivered", "equal", "capacity"}
        ``delivered``: in proportion to ``max(delivered_kw, 0)``: a site whose load moved
        the wrong way gets 0 (its negative response already lowered the park's effective
        response, so the others carry it; it pays nothing back). ``equal``: the same to
        every site. ``capacity``: in proportion to ``capacity_kw_by_site``.
    capacity_kw_by_site : mapping of str to float, optional
        Each site's capacity for ``capacity`` (such as its flexible or storage power) [kW],
        > 0, for the same sites.

    Returns
    -------
    dict of str to float
        Each site's share [CNY], summing to ``payment_cny``.

    Raises
    ------
    DataError
        No sites, a negative or non-finite payment or value, a payment with no site that
        delivered (``delivered``), capacities missing or not positive (``capacity``).
    """
    sites = list(delivered_kw_by_site)
    if not sites:
        raise DataError(Problem("no sites to share the payment among", key="delivered_kw_by_site"))
    if not np.isfinite(payment_cny) or payment_cny < 0:
        raise DataError(
            Problem(
                "payment must be a non-negative number of CNY",
                key="payment_cny",
                value=f"{payment_cny} CNY",
            )
        )
    if method == "equal":
        weights = np.ones(len(sites))
    elif method == "delivered":
        weights = np.array([float(delivered_kw_by_site[s]) for s in sites])
        if not np.isfinite(weights).all():
            raise DataError(
                Problem("delivered response must be finite", key="delivered_kw_by_site")
            )
        weights = np.maximum(weights, 0.0)
        if weights.sum() <= 0:
            if payment_cny == 0:
                return dict.fromkeys(sites, 0.0)
            raise DataError(
                Problem(
                    "a payment but no site delivered a positive response",
                    key="delivered_kw_by_site",
                    value=f"{payment_cny} CNY",
                    fix="share by 'equal' or 'capacity'",
                )
            )
    elif method == "capacity":
        caps = capacity_kw_by_site or {}
        lacking = [s for s in sites if s not in caps]
        weights = np.array([float(caps.get(s, np.nan)) for s in sites])
        if lacking or not (np.isfinite(weights) & (weights > 0)).all():
            raise DataError(
                Problem(
                    "sharing by capacity needs a positive capacity for every site",
                    key="capacity_kw_by_site",
                    value=f"missing {', '.join(lacking)}" if lacking else "a capacity <= 0 kW",
                    allowed="> 0 kW for each of " + ", ".join(sites),
                )
            )
    else:
        raise DataError(
            Problem(
                "unknown sharing method",
                key="method",
                value=str(method),
                allowed=", ".join(SHARE_METHODS),
            )
        )
    shares = float(payment_cny) * weights / weights.sum()
    return {site: float(share) for site, share in zip(sites, shares)}


def annual_usage(
    events: Iterable[DemandResponseEvent], rules: Mapping[str, Any] | None = None
) -> dict[int, dict[str, Any]]:
    """Events and hours per calendar year against the yearly limits of the rules file.

    Parameters
    ----------
    events : iterable of DemandResponseEvent
        The events the park joins (a year is that of the event's start).
    rules : mapping, optional
        Rules as from :func:`load_dr_rules` (default: the shipped file).

    Returns
    -------
    dict of int to dict
        Per year: ``events`` (count), ``hours`` [h], ``max_events``, ``max_hours`` [h]
        (the limits), ``over_events`` and ``over_hours`` (bool: beyond a limit). The
        limits are typical figures (see the file); exceeding them is reported, not refused.
    """
    limits = (rules or dr_rules_data())["limits"]
    max_events = int(limits["max_events_per_year"]["value"])
    max_hours = float(limits["max_hours_per_year"]["value"])
    out: dict[int, dict[str, Any]] = {}
    for event in events:
        row = out.setdefault(event.start.year, {"events": 0, "hours": 0.0})
        row["events"] += 1
        row["hours"] += event.duration_h
    for row in out.values():
        row.update(
            max_events=max_events,
            max_hours=max_hours,
            over_events=row["events"] > max_events,
            over_hours=row["hours"] > max_hours,
        )
    return dict(sorted(out.items()))


def announced_by(event: DemandResponseEvent, moment: pd.Timestamp | None) -> bool:
    """Whether the park knows ``event`` at ``moment`` (tz-aware): an event without
    ``notified_at``, or with no moment given, is known from the start; a naive
    ``notified_at`` is read in ``moment``'s time zone."""
    if moment is None or event.notified_at is None:
        return True
    return local_time(event.notified_at, moment.tz) <= moment
