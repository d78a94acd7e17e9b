"""Run a park: all sites as one virtual power plant, then per-site and park results."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.errors import InfeasibleError, Problem, ScenarioError, SolverError
from vpp.inputs.site import SiteInputs
from vpp.model import solve
from vpp.model.strategies import INFEASIBLE_STATUSES, MipOptions
from vpp.portfolio.model import build_park_model, site_objective_cny
from vpp.portfolio.park import (
    HISTORY_DAYS,
    EventInputs,
    Park,
    metered_history_kw,
    park_horizon,
    site_inputs,
)
from vpp.runs.diagnosis import diagnose
from vpp.runs.perfect import finish_run
from vpp.runs.result import RunResult
from vpp.timeseries import local_time

Progress = Callable[[str], None]
#: Slack above which the shared limit counts as exceeded in a diagnosis [kW].
DIAGNOSIS_TOL_KW = 1e-4
#: Parks up to this many sites get each site's full result (baselines, KPIs, report);
#: larger ones get each site's schedule, bill and pv-only savings (:func:`light_result`).
DETAIL_MAX_SITES = 20
#: An offer below this counts as none [kW].
OFFER_TOL_KW = 1e-6
#: A step where the park's net import is within this of the limit counts as binding [kW].
BINDING_TOL_KW = 1e-6


@dataclass(frozen=True)
class ParkResult:
    """The outcome of :func:`run_park`.

    Attributes
    ----------
    park : Park
        What was run.
    sites : dict of str to RunResult
        Each site's schedule, bill, baselines and KPIs (as a site run gives them).
    schedule : pandas.DataFrame
        Park-level series: each site's net import, the park's net import, the limit.
    summary : dict
        Park totals, the shared limit, the demand-response events (offer, baseline,
        delivery by site, settlement and its sharing), the solve method and timings.
    """

    park: Park
    sites: dict[str, RunResult]
    schedule: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def event_inputs(
    park: Park,
    horizon: Any,
    events: list[Any] | None = None,
    known_until: pd.Timestamp | None = None,
) -> list[EventInputs]:
    """The events on the horizon with every site's baseline.

    ``events`` are the park file's events when not given (a rolling window gives those
    that lie inside it). ``known_until`` (a decision's ``now``) limits the metered history
    the baselines read to the whole days before ``now``'s date: a decision estimates an
    event's baseline from the similar days it has complete; the settlement, made after
    the event, reads every day before it (the default).

    Raises
    ------
    ScenarioError
        An event outside the horizon or off its step grid.
    """
    from vpp.portfolio.dr_baseline import baseline_kw

    out: list[EventInputs] = []
    index = horizon.index
    tz = index.tz
    step = pd.Timedelta(hours=horizon.step_h)
    chosen = park.spec.demand_response if events is None else events
    for i, event in enumerate(chosen):
        start = pd.Timestamp(event.start)
        end = pd.Timestamp(event.end)
        start, end = local_time(start, tz), local_time(end, tz)
        horizon_end = index[-1] + step
        if start < index[0] or end > horizon_end:
            raise ScenarioError(
                Problem(
                    f"demand-response event '{event.name}' is not inside the horizon",
                    file=park.file,
                    key=f"demand_response[{i}]",
                    timestamp=start.isoformat(),
                    value=f"{start.isoformat()} .. {end.isoformat()}",
                    allowed=f"{index[0].isoformat()} .. {horizon_end.isoformat()}",
                    fix="move the event into the horizon, or the horizon onto the event day",
                )
            )
        steps = np.flatnonzero((index >= start) & (index < end))
        baselines = {}
        days: list[str] = []
        for name, scenario in park.sites.items():
            end = start.normalize()
            if known_until is not None:
                end = min(end, pd.Timestamp(known_until).tz_convert(tz).normalize())
            history = metered_history_kw(
                scenario,
                end,
                HISTORY_DAYS,
                purpose=f"the demand-response baseline of event '{event.name}'",
            )
            base = baseline_kw(history, event)
            if len(base) != steps.size:
                raise ScenarioError(
                    Problem(
                        f"demand-response event '{event.name}' is not on the horizon's steps",
                        file=park.file,
                        key=f"demand_response[{i}]",
                        value=f"{start.isoformat()} .. {end.isoformat()}",
                        fix="start and end the event on the run's step grid",
                    )
                )
            baselines[name] = np.asarray(base.to_numpy(), dtype=float)
            days = [str(d) for d in base.attrs.get("similar_days", [])]
        out.append(EventInputs(event, steps, baselines, float(event.payment_cny_per_kw), days))
    return out


def run_park(
    park: Park,
    *,
    method: str | None = None,
    time_limit_s: float | None = None,
    progress: Progress | None = None,
    inputs: dict[str, Any] | None = None,
) -> ParkResult:
    """Optimize the park as one virtual power plant.

    ``inputs`` replaces the sites' inputs built from their scenarios (the daily job
    passes forecasts and measured states this way, :mod:`vpp.jobs.schedule`).

    ``method`` is ``monolithic`` or ``decomposed`` (default: the park file's
    ``solve.method``; ``auto`` takes monolithic up to ``monolithic_max_sites``).

    Raises
    ------
    ScenarioError, DataError
        Bad input (exit code 2).
    InfeasibleError
        No dispatch meets the sites' and the park's limits; the message names the limit
        and the hours.
    SolverError
        HiGHS failed or hit its time limit.
    """
    say = progress or (lambda _msg: None)
    clock = time.perf_counter()
    spec = park.spec
    method = method or spec.solve.method
    if method == "auto":
        method = (
            "monolithic" if len(park.sites) <= spec.solve.monolithic_max_sites else "decomposed"
        )
    say(f"reading inputs of {len(park.sites)} site(s)")
    horizon = park_horizon(park)
    if inputs is None:
        inputs = site_inputs(park, workers=spec.solve.workers)
    events = event_inputs(park, horizon)
    t_inputs = time.perf_counter() - clock
    t0 = time.perf_counter()
    best = None
    for subset in participation_cases(len(events)):
        chosen = [events[e] for e in subset]
        joined = with_event_steps(inputs, chosen, horizon)
        trial = solve_park_case(park, joined, horizon, chosen, method, time_limit_s, say)
        if best is None or trial[3] < best[3] - 1e-9 * max(1.0, abs(trial[3])):
            best = (*trial, subset, joined)
    per_site, sub_offers, info, _objective, subset, inputs = best
    offers = [0.0] * len(events)
    for e, offer in zip(subset, sub_offers):
        offers[e] = offer
    info = {
        **info,
        "events_joined": [events[e].event.name for e in subset],
        "participation_cases": 2 ** len(events),
    }
    t_solve = time.perf_counter() - t0
    say("site results")
    sites: dict[str, RunResult] = {}
    detail = len(park.sites) <= DETAIL_MAX_SITES
    for name, scenario in park.sites.items():
        model, result = per_site[name]
        objective = site_objective_cny(model, name, result.x, result.lp)
        if detail:
            sites[name] = finish_run(
                scenario,
                inputs[name],
                model.site[name],
                result,
                {},
                time.perf_counter(),
                lambda _m: None,
                objective_cny=objective,
            )
        else:
            sites[name] = light_result(scenario, inputs[name], model.site[name], result, objective)
    schedule = park_schedule(sites, horizon, spec.shared_limit_kw)
    summary = park_summary(park, sites, schedule, events, offers, method, info)
    summary["notes"] = [
        *park.notes,
        *(f"site '{n}': {note}" for n, site in inputs.items() for note in site.notes),
    ]
    summary["timings_s"] = {
        "inputs": round(t_inputs, 4),
        "solve": round(t_solve, 4),
        "total": round(time.perf_counter() - clock, 4),
    }
    return ParkResult(park, sites, schedule, summary)


def light_result(
    scenario: Any, inputs: Any, block: Any, result: Any, objective_cny: float
) -> RunResult:
    """A site's schedule, bill and savings against its pv-only baseline, without the other
    baselines, KPIs and report tables (for large parks). The bill is checked against the
    site's part of the objective as in a full result."""
    from vpp.model import extract
    from vpp.runs.baseline import baseline_schedule
    from vpp.runs.bill import bill
    from vpp.runs.solved_schedule import check_objective, with_derived_columns

    dt_h = inputs.horizon.step_h
    solved = extract(block, result, inputs.horizon)
    schedule = with_derived_columns(pd.concat([inputs.series, solved.schedule], axis=1), scenario)
    optimized = bill(schedule, scenario, dt_h)
    check_objective(objective_cny, optimized, schedule, scenario, dt_h)
    base = baseline_schedule(inputs, scenario)
    base_bill = bill(base, scenario, dt_h)
    summary = {
        "scenario": scenario.name,
        "mode": "park-site",
        "status": "Optimal",
        **optimized,
        "baseline": base_bill,
        "savings_cny": base_bill["total_cost_cny"] - optimized["total_cost_cny"],
    }
    return RunResult(
        scenario=scenario, schedule=schedule, baseline=base, summary=summary, horizon=inputs.horizon
    )


#: Events whose participation is decided by trying every combination (2^E solves).
MAX_EVENTS_PER_DAY = 4


def participation_cases(n_events: int) -> list[tuple[int, ...]]:
    """Every combination of joined events: joining is the park's choice, and an offer of
    nothing still commits the park to stay at its baseline, so 'not joining' is a case of
    its own (the cheaper is kept)."""
    from itertools import combinations

    if n_events > MAX_EVENTS_PER_DAY:
        raise ScenarioError(
            Problem(
                f"{n_events} demand-response events in one run; at most "
                f"{MAX_EVENTS_PER_DAY} are weighed (every combination is solved)",
                key="demand_response",
                fix="run the days apart",
            )
        )
    return [c for k in range(n_events, -1, -1) for c in combinations(range(n_events), k)]


def with_event_steps(
    inputs: dict[str, SiteInputs], chosen: list[EventInputs], horizon: Any
) -> dict[str, SiteInputs]:
    """Each site's block inputs when the park joins the ``chosen`` events.

    Every block input's unit sees the steps the events cover
    (:meth:`vpp.assets.base.AssetUnit.with_event_steps`): assets used only in
    demand-response events (a genset with ``use: dr_events``) open there.
    """
    in_event = np.zeros(horizon.n, dtype=bool)
    for ev in chosen:
        in_event[ev.steps] = True
    return {
        name: dataclasses.replace(
            si, assets=[unit(a.kind).with_event_steps(a, in_event) for a in si.assets]
        )
        for name, si in inputs.items()
    }


def solve_park_case(
    park: Park,
    inputs: dict,
    horizon: Any,
    events: list,
    method: str,
    time_limit_s: float | None,
    say: Progress,
    offers_at_least_kw: list[float] | None = None,
    explain: bool = True,
) -> tuple[dict, list[float], dict, float]:
    """Solve the park with these events joined: per-site (model, result), offers, info,
    and the park's objective [CNY].

    ``offers_at_least_kw`` (a rolling window keeping committed offers; the monolithic
    model only) raises each event's lower bound on the offer: with the events' requested
    power set to the committed offer, the offer is then fixed.
    """
    spec = park.spec
    if method == "decomposed":
        from vpp.portfolio.decompose import solve_decomposed

        say("solving the sites, coordinated by prices on the shared terms")
        per_site, offers, info = solve_decomposed(
            inputs,
            horizon,
            events,
            spec.shared_limit_kw,
            spec.solve,
            time_limit_s=time_limit_s,
            progress=say,
        )
        return per_site, offers, info, float(info["objective_cny"])
    say("building the park model")
    model = build_park_model(inputs, horizon, events, spec.shared_limit_kw)
    for e, low in enumerate(offers_at_least_kw or []):
        model.offer_kw[e].setlb(min(float(low), float(events[e].event.requested_kw)))
    say("solving with HiGHS")
    result = solve(model, time_limit_s=time_limit_s, mip=mip_options(park))
    if not result.has_solution:  # optimal, or a MIP's best point at its time limit
        if events or not explain:  # joining may be what makes it infeasible: the other
            return {}, [], {}, float("inf")  # cases decide (a window: the elastic plan)
        _raise(result.status, park, inputs, horizon, events)
    per_site = dict.fromkeys(park.sites, (model, result))
    offers = [float(result.value(model.offer_kw[e])) for e in range(len(events))]
    return per_site, offers, {}, result.objective_cny


def mip_options(park: Park) -> MipOptions:
    """The branch-and-cut options of a park with integer variables (a deferrable load at
    a site): the park file's ``operation.mip_gap`` and ``operation.mip_time_limit_s``,
    as a single-site run takes its scenario's."""
    operation = park.spec.operation
    return MipOptions(gap=operation.mip_gap, time_limit_s=operation.mip_time_limit_s)


def _raise(status: str, park: Park, inputs: dict, horizon: Any, events: list) -> None:
    """Explain an answer that is not optimal (a solve that found none raised already)."""
    if status not in INFEASIBLE_STATUSES:
        raise SolverError(f"HiGHS ended with status '{status}'")
    raise InfeasibleError(diagnose_park(park, inputs, horizon, events))


def diagnose_park(park: Park, inputs: dict, horizon: Any, events: list) -> list[Problem]:
    """Explain an infeasible park: a site on its own, or the shared limit (which hours)."""
    problems: list[Problem] = []
    for name, site in inputs.items():
        model = build_park_model({name: site}, horizon, [], None)
        if solve(model).status != "Optimal":
            problems += [
                replace(p, message=f"site '{name}': {p.message}", file=park.file)
                for p in diagnose(site)
            ]
    if problems:
        return problems
    model = build_park_model(inputs, horizon, events, park.spec.shared_limit_kw, elastic=True)
    result = solve(model)
    if result.status != "Optimal":
        return [Problem(f"the park is infeasible (HiGHS: {result.status})", file=park.file)]
    excess = result.values(model.limit_excess_kw) if hasattr(model, "limit_excess_kw") else []
    bad = np.flatnonzero(np.asarray(excess) > DIAGNOSIS_TOL_KW)
    if bad.size:
        index = horizon.index
        must = sum(s.series["load_kw"].to_numpy() for s in inputs.values())
        first = ", ".join(index[i].isoformat() for i in bad[:5])
        limit = park.spec.shared_limit_kw
        problems.append(
            Problem(
                f"the park's shared limit of {limit:g} kW cannot be kept in {bad.size} step(s), "
                f"by up to {np.max(excess):.1f} kW, even with every battery, flexible load and "
                f"PV of the sites helping; first: {first} (the sites' fixed load there: "
                f"{must[bad[0]]:.1f} kW)",
                file=park.file,
                key="shared_limit_kw",
                timestamp=index[bad[0]].isoformat(),
                value=f"{limit:g} kW",
                fix="raise the shared limit, or add storage or load shedding at the sites",
            )
        )
    return problems or [Problem("the park is infeasible, but no single limit explains it")]


def park_schedule(sites: dict[str, RunResult], horizon: Any, limit: float | None) -> pd.DataFrame:
    cols = {f"{n}_net_import_kw": r.schedule["grid_net_import_kw"] for n, r in sites.items()}
    frame = pd.DataFrame(cols, index=horizon.index)
    frame["park_net_import_kw"] = frame.sum(axis=1)
    frame["park_load_kw"] = sum(r.schedule["load_kw"] for r in sites.values())
    frame["shared_limit_kw"] = np.nan if limit is None else float(limit)
    return frame


def park_summary(
    park: Park,
    sites: dict[str, RunResult],
    schedule: pd.DataFrame,
    events: list[EventInputs],
    offers: list[float],
    method: str,
    info: dict[str, Any],
) -> dict[str, Any]:
    from vpp.portfolio.dr import settle_event, share_payment

    net = schedule["park_net_import_kw"].to_numpy()
    limit = park.spec.shared_limit_kw
    dr = []
    payments = dict.fromkeys(sites, 0.0)
    for ev, offered in zip(events, offers):
        steps = ev.steps
        metered_by_site = {
            n: r.schedule["grid_net_import_kw"].to_numpy()[steps] for n, r in sites.items()
        }
        delivered = {n: float(ev.baseline_kw[n].mean() - metered_by_site[n].mean()) for n in sites}
        if ev.event.kind == "valley_filling":
            delivered = {n: -v for n, v in delivered.items()}
        baseline = sum(ev.baseline_kw.values())
        metered = sum(metered_by_site.values())
        if offered > OFFER_TOL_KW:
            settled = settle_event(baseline, metered, offered, ev.event)
        else:
            settled = {
                "offered_kw": 0.0,
                "paid_kw": 0.0,
                "payment_cny": 0.0,
                "note": "nothing offered: responding did not pay for this park",
            }
        capacity = {
            n: max(r.summary["peak_import_kw"].values(), default=0.0) for n, r in sites.items()
        }
        shares = share_payment(
            settled["payment_cny"],
            delivered,
            park.spec.revenue_sharing,
            capacity_kw_by_site=capacity,
        )
        for n, v in shares.items():
            payments[n] += v
        dr.append(
            {
                "name": ev.event.name,
                "kind": ev.event.kind,
                "start": str(pd.Timestamp(ev.event.start)),
                "end": str(pd.Timestamp(ev.event.end)),
                "requested_kw": float(ev.event.requested_kw),
                "offered_kw": offered,
                "payment_cny_per_kw": ev.rate_cny_per_kw,
                "baseline_days": ev.baseline_days,
                "delivered_kw_by_site": delivered,
                "settlement": settled,
                "payment_by_site_cny": shares,
            }
        )
    per_site = {
        n: {
            "total_cost_cny": r.summary["total_cost_cny"],
            "savings_cny": r.summary["savings_cny"],
            "peak_import_kw": max(r.summary["peak_import_kw"].values()),
            "dr_payment_cny": payments[n],
            "net_cost_cny": r.summary["total_cost_cny"] - payments[n],
        }
        for n, r in sites.items()
    }
    total = sum(v["total_cost_cny"] for v in per_site.values())
    paid = sum(payments.values())
    flows: dict[str, float] = {}
    for r in sites.values():  # each site's own flows (vpp.runs.flows), added up
        for key, kwh in r.summary.get("energy_flows_kwh", {}).items():
            flows[key] = flows.get(key, 0.0) + kwh
    return {
        "park": park.name,
        "currency": park.currency,  # every site's (portfolio.park checks)
        "mode": "park",
        "sites": per_site,
        "total_cost_cny": total,
        "dr_payment_cny": paid,
        "net_cost_cny": total - paid,
        "savings_cny": sum(v["savings_cny"] for v in per_site.values()),
        "energy_flows_kwh": flows,
        "shared_limit": {
            "limit_kw": limit,
            "max_net_import_kw": float(net.max()),
            "min_net_import_kw": float(net.min()),
            "binding_steps": int(
                np.sum(np.abs(np.abs(net) - limit) <= BINDING_TOL_KW * max(1.0, limit))
            )
            if limit is not None
            else 0,
        },
        "demand_response": dr,
        "solve": {"method": method, **info},
    }
