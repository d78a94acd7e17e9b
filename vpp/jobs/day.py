"""One run of the job: one decision of the operation engine at ``now``, or the fallback.

The run plans the park's window (:mod:`vpp.jobs.window`: the rest of today, the target
day and the look-ahead) from every site's state at ``now`` (:mod:`vpp.jobs.states`:
telemetry within its maximum age, else the previous run's plan, else the scenario) and
its forecasts (:mod:`vpp.jobs.inputs`), as one decision of the park backtest
(:func:`vpp.operation.park_window.plan_park_window`), and publishes the target day and
the revised rest of today (:mod:`vpp.jobs.plan_tables`).

Which input problems the job rides out (dropped and flagged, the rest optimized) and
which stop the optimization (the safe fallback schedule, exit 2):

=============================  ===============================================================
input                          when it is bad
=============================  ===============================================================
forecast file                  skipped and flagged; the next forecast, else clear-sky index
                               persistence, else clear sky (:mod:`vpp.jobs.inputs`)
notice file or event           dropped and flagged, the other events kept: a file that cannot
                               be read, an event that fails validation, is off the park's
                               step grid, repeats a name, or is one too many for the day
                               (:data:`~vpp.portfolio.run.MAX_EVENTS_PER_DAY`); events the
                               optimization itself refuses are dropped with a flag and the
                               day optimized without them
telemetry                      fallback: a reading not a finite number, negative, future-dated,
                               repeated, a bad timestamp, a column missing, an unreadable
                               file (:mod:`vpp.jobs.telemetry`); a stale reading is not used,
                               the next source is (:mod:`vpp.jobs.states`)
a site's own data              fallback; that site has no schedule, the others have theirs
park file                      the run fails: nothing to schedule (recorded, exit 2)
=============================  ===============================================================

The fallback (:mod:`vpp.jobs.fallback`) is built per site on that site's forecasts only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.errors import DataError, InfeasibleError, ScenarioError, SolverError, VppError, clip
from vpp.inputs.site import SiteInputs
from vpp.jobs import inputs as job_inputs
from vpp.jobs.fallback import (
    SAFE_SCHEDULE,
    describe,
    fallback_plan,
    fallback_states,
    limits_exceeded,
    site_fallback,
)
from vpp.jobs.outputs import DayOutputs, drop_fallback, fallback_place
from vpp.jobs.plan_tables import (
    carried_state,
    demand_state,
    expected_settlement,
    final_states,
    frames_state,
    site_figures,
    split,
    window_schedules,
)
from vpp.jobs.states import park_mtd_peak_kw, read_final_soc, read_previous_plan, site_states
from vpp.jobs.telemetry import empty_telemetry, read_telemetry
from vpp.jobs.window import (
    INTRADAY_DIR,
    committed_offers,
    day_bounds,
    job_spec,
    job_window,
    peak_targets,
    window_events,
    window_inputs,
    window_park,
)
from vpp.operation.park_window import ParkPlan, plan_park_window
from vpp.portfolio.park import Park
from vpp.scenario.common import step_minutes

#: Seconds of the time budget kept for writing the outputs [s].
WRITE_MARGIN_S = 5.0
#: Characters of an error kept in a flag.
FLAG_CHARS = 300
#: A step where the park's net import is within this share of the limit is binding [-].
BINDING_TOL_KW = 1e-6


@dataclass(frozen=True)
class JobFolders:
    """Where the job reads and writes: output root, forecasts, telemetry, notices."""

    out: Path
    forecasts: Path | None = None
    telemetry: Path | None = None
    notices: Path | None = None


@dataclass(frozen=True)
class Notice:
    """A demand-response event read from a notice file, and where (``file[i]``)."""

    event: Any
    where: str


@dataclass
class JobOutcome:
    """What a run of the job did."""

    status: str
    exit_code: int
    out_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None
    outputs: DayOutputs | None = None
    decision: Decision | None = None


@dataclass(frozen=True)
class Decision:
    """The decision a good run took, in memory (for callers that operate it, such as a
    backtest of the job that settles each plan on actuals).

    Attributes
    ----------
    window : Horizon
        The window's steps.
    plan : ParkPlan
        The plan (per site by column, offers).
    inputs : dict of str to SiteInputs
        Each site's window inputs (its ``series`` hold the forecasts).
    """

    window: Any
    plan: Any
    inputs: dict[str, SiteInputs]


@dataclass
class SitesRead:
    """The sites' inputs with forecasts put in, and what could not be read."""

    inputs: dict[str, SiteInputs] = field(default_factory=dict)
    unreadable: dict[str, VppError] = field(default_factory=dict)
    fatal: list[VppError] = field(default_factory=list)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    mtd_peak_kw: dict[str, float] = field(default_factory=dict)
    demand_peaks_kw: dict[str, dict[str, tuple[str, float]]] = field(default_factory=dict)

    def failure(self) -> VppError | None:
        """One error for everything that stops the optimization, or None."""
        errors = [*self.fatal, *self.unreadable.values()]
        if not errors:
            return None
        if len(errors) == 1:
            return errors[0]
        return type(errors[0])([p for e in errors for p in e.problems])


def read_sites(
    wpark: Park,
    now: pd.Timestamp,
    folders: JobFolders,
    flags: list[str],
    sources: dict[str, Any],
) -> SitesRead:
    """Each site's inputs on the window, with its forecasts and states at ``now``.

    A site whose own inputs (scenario data, load history) cannot be read is listed in
    ``unreadable``; a telemetry file that cannot be used goes to ``fatal`` and the sites
    take their states and PV from the next source, so that the fallback has them.
    """
    from vpp.inputs.site import build_inputs

    read = SitesRead()
    first = next(iter(wpark.sites.values()))
    forecasts = job_inputs.read_forecasts(folders.forecasts, first, flags)
    previous = read_previous_plan(folders.out, now, flags)
    final_soc = read_final_soc(folders.out, now, flags)
    try:
        telemetry = read_telemetry(folders.telemetry, list(wpark.sites), now)
    except VppError as exc:
        read.fatal.append(exc)
        telemetry = empty_telemetry(now)
    step = pd.Timedelta(minutes=step_minutes(wpark.spec.horizon.step))
    park_peak = park_mtd_peak_kw(telemetry, list(wpark.sites), now, step)
    sources["park_mtd_peak"] = (
        {"value_kw": park_peak, "source": "telemetry grid-<site>.csv of every site"}
        if park_peak is not None
        else {"value_kw": None, "why": "not every site's grid meter covers the month so far"}
    )
    for name, scenario in wpark.sites.items():
        try:
            site = build_inputs(_without_future_load(scenario), planning="job")
            index = site.horizon.index
            load, load_source = job_inputs.load_forecast(
                name, scenario, index, now, telemetry, flags
            )
        except VppError as exc:
            problems = [replace(p, message=f"site '{name}': {p.message}") for p in exc.problems]
            read.unreadable[name] = type(exc)(problems)
            sources["load"][name] = {"method": "none", "why": clip(str(exc), FLAG_CHARS)}
            continue
        flags.extend(f"site '{name}': {note}" for note in site.notes)
        try:
            pv, pv_source = job_inputs.pv_forecast(
                name, scenario, index, now, forecasts, telemetry, flags
            )
        except VppError as exc:  # a forecast file: the fallback takes clear sky
            read.fatal.append(exc)
            pv, pv_source = job_inputs.pv_forecast(
                name, scenario, index, now, [], empty_telemetry(now), flags
            )
        states = site_states(
            name, scenario, site, telemetry, previous, now, flags, sources, final_soc=final_soc
        )
        sources["pv"][name] = pv_source
        sources["load"][name] = load_source
        try:
            soc = {k: v for k, v in states.items() if isinstance(v, float)}
            read.inputs[name] = job_inputs.with_forecasts(site, load, pv, soc, site=name)
        except VppError as exc:
            read.unreadable[name] = exc
            continue
        read.states[name] = states
        peak = sources.get("mtd_peak", {}).get(name, {})
        read.mtd_peak_kw[name] = float(peak.get("value_kw", 0.0) or 0.0)
        demand = sources.get("demand_peaks", {}).get(name, {})
        read.demand_peaks_kw[name] = {c: (d["period"], d["value_kw"]) for c, d in demand.items()}
    return read


def _without_future_load(scenario: Any) -> Any:
    """The scenario whose window inputs are built: a measured load file ends at ``now``
    (the job reads no load after it), so the window's load is a placeholder here and the
    load forecast replaces it (:func:`vpp.jobs.inputs.with_forecasts`); the file is read
    as history by the forecast (:func:`vpp.jobs.inputs.load_forecast`)."""
    from vpp.scenario.schema import LoadSpec, SyntheticLoad

    if scenario.site.load.series is None:
        return scenario
    placeholder = LoadSpec(synthetic=SyntheticLoad(profile="two_shift", peak_kw=1.0))
    site = scenario.site.model_copy(update={"load": placeholder})
    return scenario.model_copy(update={"site": site})


def _budget(time_limit_s: float | None, clock: float) -> float | None:
    if time_limit_s is None:
        return None
    spent = time.perf_counter() - clock
    left = time_limit_s - spent - WRITE_MARGIN_S
    if left <= 0:
        raise SolverError(
            f"the time budget of {time_limit_s:g} s was spent before solving "
            f"(reading took {spent:.1f} s)"
        )
    return left


def _plan(
    park: Park,
    window: Any,
    events: list,
    read: SitesRead,
    committed: dict[str, float],
    caps_kw: dict[str, float],
    caps_until: pd.Timestamp | None,
    time_limit_s: float | None,
    clock: float,
    sources: dict[str, Any],
    flags: list[str],
    say: Any,
    now: pd.Timestamp,
) -> tuple[Park, dict[str, SiteInputs], ParkPlan]:
    """Plan the window (:func:`vpp.operation.park_window.plan_park_window`).

    Events of notices the optimization refuses are dropped once; an intraday peak target
    that cannot be kept is dropped once, flagged with the reason; a window infeasible on
    its forecasts is an :class:`~vpp.errors.InfeasibleError` explained in the user's
    words (the job then falls back).
    """
    from vpp.portfolio.run import diagnose_park

    wpark = window_park(park, window, events)
    inputs = window_inputs(wpark, read, caps_kw, caps_until)
    left = _budget(time_limit_s, clock)
    say("optimizing the park's window" + (f" (solver limit {left:.1f} s)" if left else ""))
    try:
        plan = plan_park_window(
            wpark, inputs, window, committed, time_limit_s=left, known_until=now
        )
    except (ScenarioError, DataError) as exc:
        if not events:
            raise
        flags.append(
            f"demand-response event(s) {', '.join(e.name for e in events)} dropped: the "
            f"window cannot be optimized with them ({clip(str(exc), FLAG_CHARS)})"
        )
        wpark = window_park(park, window, [])
        sources["notices"] = []
        plan = plan_park_window(
            wpark, inputs, window, committed, time_limit_s=left, known_until=now
        )
    if plan.elastic and caps_kw:
        uncapped = window_inputs(wpark, read)
        retry = plan_park_window(
            wpark, uncapped, window, committed, time_limit_s=left, known_until=now
        )
        if not retry.elastic:
            flags.append(
                "the day-ahead plan's peak target(s) "
                + ", ".join(f"{n} {v:,.0f} kW" for n, v in caps_kw.items())
                + " broken: the rest of the day cannot be planned under them on the latest "
                "forecasts and telemetry; re-planned without them"
            )
            plan, inputs = retry, uncapped
    flags.extend(plan.notes)
    if plan.elastic:
        raise InfeasibleError(diagnose_park(wpark, inputs, window, []))
    return wpark, inputs, plan


def run_day(
    park: Park,
    day: pd.Timestamp,
    now: pd.Timestamp,
    notices: list[Notice],
    folders: JobFolders,
    flags: list[str],
    time_limit_s: float | None,
    clock: float,
    say: Any,
    *,
    intraday: bool = False,
) -> JobOutcome:
    """Read, plan the window and write the target day (module docstring); a failure
    writes the fallback.

    Raises only for I/O errors while writing and for bugs; every failure of the day's
    inputs or optimization is a fallback with its exit code.
    """
    tz = park.spec.timezone
    day_key = day.strftime("%Y-%m-%d")
    day_start, day_end = day_bounds(day, tz)
    spec = job_spec(park)
    window = job_window(park, day, now, spec.lookahead_h)
    end = window.index[-1] + pd.Timedelta(hours=window.step_h)
    sources: dict[str, Any] = {
        "now": now.isoformat(),
        "window": {"start": window.index[0].isoformat(), "end": end.isoformat()},
        "pv": {},
        "load": {},
        "soc": {},
    }
    events = window_events(park, window, notices, flags, now, sources)
    sources["notices"] = [e.name for e in events]
    wpark = window_park(park, window, events)
    say(
        f"window {window.index[0].isoformat()} .. {end.isoformat()}: reading the sites' "
        "inputs, forecasting PV and load, taking the states at now"
    )
    read = read_sites(wpark, now, folders, flags, sources)
    today = now.normalize().tz_localize(None)
    # earlier runs whose window held an event: today's and tomorrow's date folders (the
    # day-ahead run for tomorrow, made today, decided today's remaining events too)
    dates = sorted({today, today + pd.Timedelta(days=1), day})
    committed = committed_offers(folders.out, now, dates, flags)
    caps = peak_targets(folders.out, day, flags) if intraday else {}
    if caps:
        caps = {n: max(v, read.mtd_peak_kw.get(n, 0.0)) for n, v in caps.items()}
        sources["peak_targets_kw"] = caps
    failure = read.failure()
    if failure is None:
        try:
            wpark, inputs, plan = _plan(
                park,
                window,
                events,
                read,
                committed,
                caps,
                day_end,
                time_limit_s,
                clock,
                sources,
                flags,
                say,
                now,
            )
        except VppError as exc:
            failure = exc
    place = _place(folders.out, day_key, now, intraday)
    if failure is not None:
        say(f"failed: {type(failure).__name__}: {failure}")
        return _fallback(
            wpark, place, read, failure, flags, sources, (day_start, day_end), say, now
        )
    frames = window_schedules(plan, inputs, window)
    target, rest = split(frames, day_start, day_end)
    step_h = window.step_h
    sites = {}
    same_month = day_start.strftime("%Y-%m") == now.strftime("%Y-%m")
    at_end = final_states(plan, inputs, window, day_end)  # the target day's end
    at_midnight = final_states(plan, inputs, window, day_start)  # the end of today
    for name, frame in target.items():
        figures = site_figures(frame, step_h)
        # the target day's month so far: a target day in the next month starts it at 0
        figures["mtd_peak_kw"] = read.mtd_peak_kw.get(name, 0.0) if same_month else 0.0
        figures["mtd_peak_month"] = day_start.strftime("%Y-%m")
        figures["final_soc_kwh"] = at_end.get(name, {})
        sites[name] = figures
    dr = expected_settlement(plan, frames, window, wpark.spec.revenue_sharing)
    paid = sum(e["settlement"]["payment_cny"] for e in dr if e["date"] == day_key)
    total = sum(s["energy_cost_cny"] for s in sites.values())
    plan_day = fallback_plan(target, wpark.spec.shared_limit_kw)
    plan_today = fallback_plan(rest, wpark.spec.shared_limit_kw) if _any_rows(rest) else None
    summary = {
        "date": day_key,
        "park": park.name,
        "currency": park.currency,  # every site's (portfolio.park checks)
        "status": "ok",
        "kind": "intraday" if intraday else "day-ahead",
        "flags": flags,
        "sources": sources,
        "sites": sites,
        "total_cost_cny": total,
        "dr_payment_cny": paid,
        "net_cost_cny": total - paid,
        "window": {
            **sources["window"],
            "objective_cny": plan.objective_cny,
            "steps": window.n,
        },
        "shared_limit": _limit(plan_day, wpark.spec.shared_limit_kw),
        "demand_response": dr,
        # an offer, once decided, is the park's commitment: later plans keep or break it
        "offers_kw": {**plan.offers_kw, **committed},
        "planned_offers_kw": plan.offers_kw,
        "revised_today": {
            name: {
                **site_figures(frame, step_h),
                "final_soc_kwh": at_midnight.get(name, {}),
            }
            for name, frame in rest.items()
            if len(frame)
        },
    }
    outputs = DayOutputs(
        place.folder,
        target,
        plan_day,
        summary,
        at_end,
        wpark,
        today=rest,
        plan_today=plan_today,
        state=carried_state(
            plan,
            inputs,
            window,
            now,
            read.mtd_peak_kw,
            demand_state(frames, inputs, read.demand_peaks_kw),
        ),
    )
    outputs.write()
    if not intraday:
        drop_fallback(outputs.folder)
    say(f"wrote {outputs.folder}/ ({len(flags)} flag(s))")
    decision = Decision(window, plan, inputs)
    return JobOutcome("ok", 0, outputs.folder, summary, outputs=outputs, decision=decision)


def _any_rows(frames: dict[str, pd.DataFrame]) -> bool:
    return any(len(f) for f in frames.values())


def _limit(plan: pd.DataFrame, limit: float | None) -> dict[str, Any]:
    net = plan["park_net_import_kw"].to_numpy(float)
    binding = 0
    if limit is not None:
        binding = int(np.sum(np.abs(np.abs(net) - limit) <= BINDING_TOL_KW * max(1.0, limit)))
    return {
        "limit_kw": limit,
        "max_net_import_kw": float(net.max()),
        "min_net_import_kw": float(net.min()),
        "binding_steps": binding,
    }


@dataclass(frozen=True)
class _Place:
    """Where a run writes: the date folder (day-ahead) or an intraday folder."""

    folder: Path
    day_key: str
    intraday: bool


def _place(out: Path, day_key: str, now: pd.Timestamp, intraday: bool) -> _Place:
    if intraday:
        return _Place(out / day_key / INTRADAY_DIR / now.strftime("%H%M"), day_key, True)
    return _Place(out / day_key, day_key, False)


def _fallback(
    wpark: Park,
    place: _Place,
    read: SitesRead,
    failure: VppError,
    flags: list[str],
    sources: dict[str, Any],
    day: tuple[pd.Timestamp, pd.Timestamp],
    say: Any,
    now: pd.Timestamp,
) -> JobOutcome:
    """Write each readable site's rule-based schedule and the park plan of those, and the
    state it carries (``state.json``: the next run starts from what the fallback that was
    dispatched leaves, not from an older plan)."""
    frames: dict[str, pd.DataFrame] = {}
    missing = {n: clip(str(e), FLAG_CHARS) for n, e in read.unreadable.items()}
    for name, site in read.inputs.items():
        try:
            frames[name] = site_fallback(
                site, wpark.sites[name], mtd_peak_kw=read.mtd_peak_kw.get(name)
            )
        except Exception as inner:  # one site's fallback must not stop the others
            missing[name] = f"no fallback schedule: {clip(str(inner), FLAG_CHARS)}"
    for name, why in missing.items():
        flags.append(f"site '{name}' has no schedule: {why}")
    target, rest = split(frames, *day)
    plan = fallback_plan(target, wpark.spec.shared_limit_kw) if target else None
    plan_today = fallback_plan(rest, wpark.spec.shared_limit_kw) if _any_rows(rest) else None
    exceeded = limits_exceeded(wpark, target, plan)
    flags.extend(describe(e) for e in exceeded)
    if missing and plan is not None:
        flags.append(
            f"the park plan sums the {len(target)} site(s) with a schedule, not "
            f"{', '.join(repr(n) for n in missing)}"
        )
    if place.intraday:
        folder, kept = place.folder, None
    else:
        folder, kept = fallback_place(place.folder.parent, place.day_key)
    summary: dict[str, Any] = {
        "date": place.day_key,
        "park": wpark.name,
        "currency": wpark.currency,
        "status": "fallback",
        "kind": "intraday" if place.intraday else "day-ahead",
        "failure": f"{type(failure).__name__.removesuffix('Error').lower()}: {failure}",
        "exit_code": failure.exit_code,
        "fallback": SAFE_SCHEDULE,
        "flags": flags,
        "sources": sources,
        "sites_scheduled": sorted(target),
        "sites_without_schedule": missing,
        "limits_exceeded": exceeded,
    }
    if kept is not None:
        summary["kept_schedule"] = kept
    final = fallback_states(target, read.inputs)
    state = frames_state(
        frames,
        read.inputs,
        fallback_states(frames, read.inputs),
        now,
        read.mtd_peak_kw,
        demand_state(frames, read.inputs, read.demand_peaks_kw),
    )
    outputs = DayOutputs(
        folder, target, plan, summary, final, wpark, today=rest, plan_today=plan_today, state=state
    )
    outputs.write()
    say(f"wrote the fallback schedule to {folder}/" + (f" ({kept['rule']})" if kept else ""))
    return JobOutcome("fallback", failure.exit_code, folder, summary, outputs=outputs)
