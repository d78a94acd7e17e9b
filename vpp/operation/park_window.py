"""One decision of the operation engine: plan a park's window on forecasts and states.

A decision at step :math:`s` plans the window :math:`s .. stop - 1`
(:func:`window_stop`) for every site at once, as the park's LP
(:func:`vpp.portfolio.model.build_park_model`): the sites' window block inputs (each
unit's :meth:`~vpp.assets.base.AssetUnit.window`, built by
:func:`vpp.operation.windows.window_assets` from the carried states and the forecasts
issued at :math:`s`), the shared feeder limit and the demand-response events that lie
inside the window. The park backtest (:mod:`vpp.operation.park_rolling`) takes one such
decision a day; the daily job (:mod:`vpp.jobs.day`) is one decision at ``--now``; a
single site's rolling run (:mod:`vpp.operation.rolling`) is the one-site case with the
same window inputs, real-time rule and carried states.

**Events.** Joining an event is the park's choice: every combination of the events in
the window that are not committed yet is solved, the cheapest kept
(:func:`vpp.portfolio.run.participation_cases`). An event whose offer was decided by an
earlier decision (``committed_offers_kw``) is *committed*: it is joined with its offer
fixed (an offer of 0 kW: not joined). When the window cannot be planned with the
committed offers, they are dropped and the window planned without them; the break is
reported in :attr:`ParkPlan.notes` with the reason.

**The LP.** Each participation case's park LP is assembled from the sites' compiled
models (:mod:`vpp.model.park_update`: one model per site and window structure, its
numbers updated in place; a site with an EV fleet built each time), the shared limit's
and the events' rows added in matrix form; the cases of a decision share the models,
and a backtest keeps them between decisions (``models``). A decomposed park (``solve:
{method: decomposed}``) and a site whose exchange the compiler dropped use
:func:`vpp.portfolio.run.solve_park_case`.

**Infeasible windows.** A window that is infeasible on its forecasts (a load forecast
above an import limit plus storage, a feeder limit no dispatch keeps) is planned with
every site's elastic slacks and the feeder limit's (:func:`vpp.portfolio.model.
build_park_model` with ``elastic`` and ``elastic_sites``), without events, and
:attr:`ParkPlan.elastic` says so: operation goes on, and the real-time rule's violations
show what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.errors import InfeasibleError, SolverError
from vpp.model import solve
from vpp.model.build import AssetInput
from vpp.model.park_update import Exchange, OfferRow, SiteModels, solve_park_lp
from vpp.model.strategies import INFEASIBLE_STATUSES
from vpp.portfolio.model import build_park_model, exchange_block
from vpp.portfolio.park import EventInputs, Park
from vpp.portfolio.run import (
    event_inputs,
    mip_options,
    participation_cases,
    solve_park_case,
    with_event_steps,
)
from vpp.timeseries import Horizon, local_time

#: An offer below this counts as none [kW].
OFFER_TOL_KW = 1e-6
#: Relative objective difference under which a later participation case is not better [-].
CASE_TOL = 1e-9


@dataclass(frozen=True)
class SiteWindow:
    """One site's part of a decision.

    Attributes
    ----------
    assets : list of AssetInput
        The site's window block inputs (:func:`vpp.operation.windows.window_assets`).
    series : pandas.DataFrame
        The window's input series with the forecasts put in (``load_kw``,
        ``<array>_available_kw``, prices), for explanations and the job's schedules.
    """

    assets: list[AssetInput]
    series: pd.DataFrame


@dataclass
class ParkPlan:
    """What one decision planned.

    Attributes
    ----------
    plans : dict of str to dict of str to numpy.ndarray
        Each site's plan over the window by column (each unit's
        :meth:`~vpp.assets.base.AssetUnit.plan_columns`).
    offers_kw : dict of str to float
        Each event in the window's offer, by name [kW]; 0 when not joined.
    joined : list of str
        The events joined.
    objective_cny : float
        The window's objective [CNY] (NaN for an elastic plan).
    elastic : bool
        Planned with the elastic model (infeasible on its forecasts).
    solved : dict of str to tuple
        Each site's ``(block, SolveResult)``, to read its schedule
        (:func:`vpp.model.extract`).
    events : list of EventInputs
        The events of the window, with their baselines.
    notes : list of str
        Committed offers broken, events left out, elastic planning: each with its reason.
    """

    plans: dict[str, dict[str, np.ndarray]]
    offers_kw: dict[str, float]
    joined: list[str]
    objective_cny: float
    elastic: bool
    solved: dict[str, tuple[Any, Any]]
    events: list[EventInputs] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def window_stop(
    index: pd.DatetimeIndex, start: int, lookahead_steps: int, must_reach: pd.Timestamp | None
) -> int:
    """The end (exclusive) of the window issued at ``start``: the look-ahead, and at least
    up to ``must_reach`` (the end of the target day), within ``index`` [-]."""
    stop = start + lookahead_steps
    if must_reach is not None:
        stop = max(stop, int(np.searchsorted(index, must_reach, side="left")))
    return min(stop, len(index))


def events_in_window(park: Park, window: Horizon) -> tuple[list[Any], list[str]]:
    """The park's events lying wholly inside the window, and notes on those that only
    overlap it (they are left out of this window's plan)."""
    index = window.index
    tz = index.tz
    end = index[-1] + pd.Timedelta(hours=window.step_h)
    inside, notes = [], []
    for event in park.spec.demand_response:
        first, last = local_time(event.start, tz), local_time(event.end, tz)
        if last <= index[0] or first >= end:
            continue
        if first >= index[0] and last <= end:
            inside.append(event)
        else:
            notes.append(
                f"demand-response event '{event.name}' ({first.isoformat()} .. "
                f"{last.isoformat()}) only overlaps the window {index[0].isoformat()} .. "
                f"{end.isoformat()}: left out of this plan"
            )
    return inside, notes


def shift_events(
    events: list[EventInputs], start: int, stop: int, known: list[bool] | None = None
) -> tuple[list[EventInputs], list[str]]:
    """The run's events that lie wholly in steps ``start .. stop - 1``, with their steps
    counted from ``start``; notes on those that only overlap it (left out).

    ``known`` marks the events announced by the decision (``notified_at`` at or before
    it); the others are left out silently: the park does not know them yet.
    """
    out, notes = [], []
    for k, ev in enumerate(events):
        if known is not None and not known[k]:
            continue
        first, last = int(ev.steps[0]), int(ev.steps[-1])
        if last < start or first >= stop:
            continue
        if first >= start and last < stop:
            out.append(
                EventInputs(
                    ev.event, ev.steps - start, ev.baseline_kw, ev.rate_cny_per_kw, ev.baseline_days
                )
            )
        else:
            notes.append(
                f"demand-response event '{ev.event.name}' only overlaps the window: left out "
                "of its plan"
            )
    return out, notes


def plan_park_window(
    park: Park,
    sites: dict[str, SiteWindow],
    window: Horizon,
    committed_offers_kw: dict[str, float] | None = None,
    *,
    events: list[EventInputs] | None = None,
    time_limit_s: float | None = None,
    models: SiteModels | None = None,
    known_until: pd.Timestamp | None = None,
) -> ParkPlan:
    """Plan the park's window (module docstring).

    Parameters
    ----------
    park : Park
        The park (its shared limit, events, solve settings and site scenarios).
    sites : dict of str to SiteWindow
        Every site's window inputs, in the park's site order.
    window : Horizon
        The window's steps.
    committed_offers_kw : dict of str to float, optional
        Offers decided earlier, by event name [kW]; kept fixed.
    events : list of EventInputs, optional
        The events of the window with their steps in it (:func:`shift_events`); by
        default the park file's events that lie inside the window, their baselines read
        now.
    time_limit_s : float, optional
        HiGHS time limit per solve [s].
    models : SiteModels, optional
        The sites' compiled models kept between decisions (a backtest); by default
        they are kept for this decision's participation cases only. Either way the park
        LP is the same (:mod:`vpp.model.park_update`).
    known_until : pandas.Timestamp, optional
        The decision's time: the events' baselines read the whole days before its date
        only (:func:`vpp.portfolio.run.event_inputs`).

    Raises
    ------
    ScenarioError
        An event inside the window is off its step grid.
    SolverError
        HiGHS failed, or even the elastic plan found no answer.
    """
    committed = dict(committed_offers_kw or {})
    models = models if models is not None else SiteModels()  # shared by the cases
    notes: list[str] = []
    if events is None:
        inside, notes = events_in_window(park, window)
        events = event_inputs(park, window, inside, known_until) if inside else []
    fixed = [e for e, ev in enumerate(events) if ev.event.name in committed]
    free = [e for e, ev in enumerate(events) if ev.event.name not in committed]
    held = [e for e in fixed if committed[events[e].event.name] > OFFER_TOL_KW]
    best = _best_case(park, sites, window, events, held, free, committed, time_limit_s, models)
    if best is None and held:
        names = ", ".join(events[e].event.name for e in held)
        best = _best_case(
            park, sites, window, events, held, free, committed, time_limit_s, models, hold=False
        )
        if best is not None:
            notes.append(
                f"committed demand-response offer(s) of {names} cannot be delivered in full "
                "on this window's forecasts and states: planned to deliver what the park can, "
                "up to the offer"
            )
        else:
            notes.append(
                f"committed demand-response offer(s) of {names} broken: the window cannot be "
                "planned with them on its forecasts; planned without them"
            )
            best = _best_case(
                park, sites, window, events, [], free, committed, time_limit_s, models
            )
    if best is None:
        return _elastic(park, sites, window, events, notes, time_limit_s)
    per_site, offers, objective, chosen = best
    offers_kw = {ev.event.name: 0.0 for ev in events}
    for e, offer in zip(chosen, offers):
        offers_kw[events[e].event.name] = float(offer)
    solved = {name: per_site[name] for name in sites}
    plans = {name: _plan_columns(*solved[name], sites[name].assets) for name in sites}
    joined = [events[e].event.name for e in chosen]
    return ParkPlan(plans, offers_kw, joined, objective, False, solved, events, notes)


def _best_case(
    park: Park,
    sites: dict[str, SiteWindow],
    window: Horizon,
    events: list[EventInputs],
    held: list[int],
    free: list[int],
    committed: dict[str, float],
    time_limit_s: float | None,
    models: SiteModels,
    *,
    hold: bool = True,
) -> tuple[dict, list[float], float, list[int]] | None:
    """The cheapest participation case with the ``held`` events joined at their committed
    offers (without ``hold``: at most those offers) and every combination of the ``free``
    ones; None when none is feasible."""
    method = park.spec.solve.method
    if method == "auto":
        many = len(sites) > park.spec.solve.monolithic_max_sites
        method = "decomposed" if many else "monolithic"
    best = None
    for subset in participation_cases(len(free)):
        chosen = [*held, *(free[k] for k in subset)]
        joined = []
        for e in chosen:
            ev = events[e]
            if e in held:  # the committed offer: requested and lower bound both
                ev = EventInputs(
                    ev.event.model_copy(update={"requested_kw": committed[ev.event.name]}),
                    ev.steps,
                    ev.baseline_kw,
                    ev.rate_cny_per_kw,
                    ev.baseline_days,
                )
            joined.append(ev)
        lows = [committed[events[e].event.name] if e in held and hold else 0.0 for e in chosen]
        inputs = with_event_steps(sites, joined, window)
        try:
            if method == "monolithic":
                answer = _solve_assembled(park, inputs, window, joined, lows, models, time_limit_s)
            else:
                answer = None
            if answer is None:  # decomposed, or a site whose exchange the compiler dropped
                per_model, offers, _info, objective = solve_park_case(
                    park, inputs, window, joined, method, time_limit_s, lambda _m: None, lows, False
                )
                per_site = {n: (m.site[n], r) for n, (m, r) in per_model.items()}
            else:
                per_site, offers, objective = answer
        except InfeasibleError:
            continue
        if not np.isfinite(objective):
            continue
        if best is None or objective < best[2] - CASE_TOL * max(1.0, abs(best[2])):
            best = (per_site, offers, objective, chosen)
    return best


def _solve_assembled(
    park: Park,
    inputs: dict[str, SiteWindow],
    window: Horizon,
    joined: list[EventInputs],
    lows: list[float],
    models: SiteModels,
    time_limit_s: float | None,
) -> tuple[dict[str, tuple[Any, Any]], list[float], float] | None:
    """One participation case as the park LP assembled from the sites' compiled models
    (:func:`vpp.model.park_update.solve_park_lp`): each site's (model, result), the
    offers [kW] and the objective [CNY] (inf when infeasible); None when a site's import
    or export was dropped by the compiler (the Pyomo park model is built instead)."""
    lps, exchanges = {}, {}
    for name, site in inputs.items():
        lp = models.site_lp(name, site.assets, window)
        grid = exchange_block(lp.model, site.assets)
        imp, exp = lp.positions(grid.import_kw), lp.positions(grid.export_kw)
        if imp is None or exp is None:
            return None
        lps[name], exchanges[name] = lp, Exchange(imp, exp)
    rows = []
    for ev, low in zip(joined, lows):
        requested = float(ev.event.requested_kw)
        rows.append(
            OfferRow(
                steps=np.asarray(ev.steps, dtype=np.int64),
                sign=1.0 if ev.event.kind == "peak_shaving" else -1.0,
                baseline_kw=float(ev.park_baseline_kw),
                lower_kw=min(float(low), requested),
                upper_kw=requested,
                rate_cny_per_kw=float(ev.rate_cny_per_kw),
            )
        )
    answer = solve_park_lp(
        lps,
        exchanges,
        window.n,
        park.spec.shared_limit_kw,
        rows,
        time_limit_s=time_limit_s,
        mip=mip_options(park),
    )
    if not answer.has_solution:
        return {}, [], float("inf")
    per_site = {name: (lps[name].model, answer.sites[name]) for name in inputs}
    return per_site, answer.offers_kw, answer.objective_cny


def _elastic(
    park: Park,
    sites: dict[str, SiteWindow],
    window: Horizon,
    events: list[EventInputs],
    notes: list[str],
    time_limit_s: float | None,
) -> ParkPlan:
    """Plan a window infeasible on its forecasts with the elastic model, without events."""
    model = build_park_model(
        sites, window, [], park.spec.shared_limit_kw, elastic=True, elastic_sites=True
    )
    result = solve(model, time_limit_s=time_limit_s, mip=mip_options(park))
    if not result.has_solution:
        if result.status in INFEASIBLE_STATUSES:
            raise SolverError(
                f"the window issued at {window.index[0].isoformat()} is infeasible on its "
                f"forecasts and its elastic model ended with status '{result.status}'"
            )
        raise SolverError(
            f"HiGHS ended the window issued at {window.index[0].isoformat()} with status "
            f"'{result.status}'"
        )
    notes.append(
        f"the window issued at {window.index[0].isoformat()} is infeasible on its forecasts: "
        "planned with the elastic model (limits softened at a penalty), without "
        "demand-response events"
    )
    plans = {name: _plan_columns(model.site[name], result, s.assets) for name, s in sites.items()}
    solved = {name: (model.site[name], result) for name in sites}
    offers = {ev.event.name: 0.0 for ev in events}
    return ParkPlan(plans, offers, [], float("nan"), True, solved, events, notes)


def _plan_columns(block: Any, result: Any, assets: list[AssetInput]) -> dict[str, np.ndarray]:
    """The site's plan by column, each unit reading its block."""
    plan: dict[str, np.ndarray] = {}
    for a in assets:
        plan.update(unit(a.kind).plan_columns(block.asset[a.name], a, result.values))
    return plan


__all__ = [
    "ParkPlan",
    "SiteWindow",
    "events_in_window",
    "plan_park_window",
    "shift_events",
    "window_stop",
]
