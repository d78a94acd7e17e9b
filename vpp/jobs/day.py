"""One day of the job: read every input per site, optimize the park, or fall back.

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

import pandas as pd

from vpp.errors import DataError, ScenarioError, SolverError, VppError, clip
from vpp.inputs.site import SiteInputs
from vpp.jobs import inputs as job_inputs
from vpp.jobs.fallback import (
    SAFE_SCHEDULE,
    describe,
    fallback_plan,
    idle_states,
    limits_exceeded,
    site_fallback,
)
from vpp.jobs.outputs import DayOutputs, drop_fallback, fallback_place
from vpp.jobs.states import read_final_soc, read_previous_plan, site_states
from vpp.jobs.telemetry import empty_telemetry, read_telemetry
from vpp.portfolio.park import Park
from vpp.scenario.common import step_minutes

#: Seconds of the time budget kept for writing the outputs [s].
WRITE_MARGIN_S = 5.0
#: Characters of an error kept in a flag.
FLAG_CHARS = 300


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


@dataclass
class SitesRead:
    """The sites' inputs with forecasts put in, and what could not be read."""

    inputs: dict[str, SiteInputs] = field(default_factory=dict)
    unreadable: dict[str, VppError] = field(default_factory=dict)
    fatal: list[VppError] = field(default_factory=list)

    def failure(self) -> VppError | None:
        """One error for everything that stops the optimization, or None."""
        errors = [*self.fatal, *self.unreadable.values()]
        if not errors:
            return None
        if len(errors) == 1:
            return errors[0]
        return type(errors[0])([p for e in errors for p in e.problems])


def _local(moment: Any, tz: str) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize(tz) if stamp.tz is None else stamp.tz_convert(tz)


def day_park(park: Park, date: pd.Timestamp, notices: list[Any]) -> Park:
    """The park on one day: the park file's step, that day only, that day's events."""
    spec = park.spec
    horizon = spec.horizon.model_copy(
        update={"start": date.to_pydatetime(), "end": None, "days": 1}
    )
    day = date.date()
    events = [
        e for e in (*spec.demand_response, *notices) if _local(e.start, spec.timezone).date() == day
    ]
    new_spec = spec.model_copy(update={"horizon": horizon, "demand_response": events})
    sites = {n: s.model_copy(update={"horizon": horizon}) for n, s in park.sites.items()}
    return Park(new_spec, sites, park.file)


def day_events(park: Park, date: pd.Timestamp, notices: list[Notice], flags: list[str]) -> list:
    """The notices' events that apply on ``date``; the others of that day dropped, flagged.

    An event applies when it lies inside the day on the park's step grid, its name is not
    taken by another event of the day, and the day has room for it
    (:data:`~vpp.portfolio.run.MAX_EVENTS_PER_DAY` with the park file's events).
    """
    from vpp.portfolio.run import MAX_EVENTS_PER_DAY

    tz = park.spec.timezone
    start = date.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
    end = (date + pd.Timedelta(days=1)).tz_localize(
        tz, ambiguous=False, nonexistent="shift_forward"
    )
    step = pd.Timedelta(minutes=step_minutes(park.spec.horizon.step))
    taken = [e.name for e in park.spec.demand_response if _local(e.start, tz).date() == date.date()]
    out = []
    for notice in notices:
        event = notice.event
        first, last = _local(event.start, tz), _local(event.end, tz)
        if first.date() != date.date():
            continue  # another day's event
        why = None
        if first < start or last > end:
            why = f"it is not inside the day ({first.isoformat()} .. {last.isoformat()})"
        elif (first - start) % step or (last - start) % step:
            why = f"it is not on the park's {park.spec.horizon.step} step grid"
        elif event.name in taken:
            why = f"another event of the day is named '{event.name}'"
        elif len(taken) >= MAX_EVENTS_PER_DAY:
            why = f"the day already has {MAX_EVENTS_PER_DAY} events, the most weighed"
        if why:
            flags.append(f"demand-response notice {notice.where} ('{event.name}') dropped: {why}")
            continue
        taken.append(event.name)
        out.append(event)
    return out


def read_sites(
    dpark: Park,
    day: pd.Timestamp,
    now: pd.Timestamp,
    folders: JobFolders,
    flags: list[str],
    sources: dict[str, Any],
) -> SitesRead:
    """Each site's inputs with its forecasts and battery states, site by site.

    A site whose own inputs (scenario data, load history) cannot be read is listed in
    ``unreadable``; a telemetry file that cannot be used goes to ``fatal`` and the sites
    take their states and PV from the next source, so that the fallback has them.
    """
    from vpp.inputs.site import build_inputs

    read = SitesRead()
    first = next(iter(dpark.sites.values()))
    forecasts = job_inputs.read_forecasts(folders.forecasts, first, flags)
    previous = read_previous_plan(folders.out, now, flags)
    final_soc = read_final_soc(folders.out, now, flags)
    try:
        telemetry = read_telemetry(folders.telemetry, list(dpark.sites), now)
    except VppError as exc:
        read.fatal.append(exc)
        telemetry = empty_telemetry(now)
    for name, scenario in dpark.sites.items():
        try:
            site = build_inputs(scenario)
            load, load_source = job_inputs.load_forecast(
                name, scenario, site.horizon.index, now, telemetry, flags
            )
        except VppError as exc:
            problems = [replace(p, message=f"site '{name}': {p.message}") for p in exc.problems]
            read.unreadable[name] = type(exc)(problems)
            sources["load"][name] = {"method": "none", "why": clip(str(exc), FLAG_CHARS)}
            continue
        index = site.horizon.index
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
        soc = {k: v for k, v in states.items() if isinstance(v, float)}
        sources["pv"][name] = pv_source
        sources["load"][name] = load_source
        try:
            read.inputs[name] = job_inputs.with_forecasts(site, load, pv, soc, site=name)
        except VppError as exc:
            read.unreadable[name] = exc
    return read


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


def _optimize(
    park: Park,
    day: pd.Timestamp,
    events: list,
    read: SitesRead,
    time_limit_s: float | None,
    clock: float,
    sources: dict[str, Any],
    flags: list[str],
    say: Any,
) -> tuple[Park, Any]:
    """Optimize the day; events of notices the optimization refuses are dropped once."""
    from vpp.portfolio.run import run_park

    dpark = day_park(park, day, events)
    left = _budget(time_limit_s, clock)
    say("optimizing the park" + (f" (solver limit {left:.1f} s)" if left else ""))
    try:
        return dpark, run_park(dpark, time_limit_s=left, inputs=read.inputs)
    except (ScenarioError, DataError) as exc:
        if not events:
            raise
        flags.append(
            f"demand-response notice event(s) {', '.join(e.name for e in events)} dropped: "
            f"the day cannot be optimized with them ({clip(str(exc), FLAG_CHARS)})"
        )
    dpark = day_park(park, day, [])
    sources["notices"] = [e.name for e in dpark.spec.demand_response]
    left = _budget(time_limit_s, clock)
    say("optimizing the park without the notices' events")
    return dpark, run_park(dpark, time_limit_s=left, inputs=read.inputs)


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
) -> JobOutcome:
    """Read, optimize and write one day (module docstring); a failure writes the fallback.

    Raises only for I/O errors while writing and for bugs; every failure of the day's
    inputs or optimization is a fallback with its exit code.
    """
    day_key = day.strftime("%Y-%m-%d")
    sources: dict[str, Any] = {"now": now.isoformat(), "pv": {}, "load": {}, "soc": {}}
    events = day_events(park, day, notices, flags)
    dpark = day_park(park, day, events)
    sources["notices"] = [e.name for e in dpark.spec.demand_response]
    say("reading the sites' inputs, forecasting PV and load, reading battery states")
    read = read_sites(dpark, day, now, folders, flags, sources)
    failure = read.failure()
    if failure is None:
        try:
            dpark, result = _optimize(
                park, day, events, read, time_limit_s, clock, sources, flags, say
            )
        except VppError as exc:
            failure = exc
    if failure is not None:
        say(f"failed: {type(failure).__name__}: {failure}")
        return _fallback(dpark, day_key, folders.out, read, failure, flags, sources, say)
    summary = {
        "date": day_key,
        "park": park.name,
        "status": "ok",
        "flags": flags,
        "sources": sources,
        **{
            k: result.summary[k]
            for k in (
                "sites",
                "total_cost_cny",
                "dr_payment_cny",
                "net_cost_cny",
                "shared_limit",
                "demand_response",
            )
        },
    }
    outputs = DayOutputs(
        folders.out / day_key,
        {n: r.schedule for n, r in result.sites.items()},
        result.schedule,
        summary,
        {n: r.summary.get("final_soc_kwh", {}) for n, r in result.sites.items()},
        dpark,
    )
    outputs.write()
    drop_fallback(outputs.folder)
    say(f"wrote {outputs.folder}/ ({len(flags)} flag(s))")
    return JobOutcome("ok", 0, outputs.folder, summary, outputs=outputs)


def _fallback(
    dpark: Park,
    day_key: str,
    out: Path,
    read: SitesRead,
    failure: VppError,
    flags: list[str],
    sources: dict[str, Any],
    say: Any,
) -> JobOutcome:
    """Write each readable site's safe schedule and the park plan of those."""
    schedules: dict[str, pd.DataFrame] = {}
    missing = {n: clip(str(e), FLAG_CHARS) for n, e in read.unreadable.items()}
    for name, site in read.inputs.items():
        try:
            schedules[name] = site_fallback(site, dpark.sites[name])
        except Exception as inner:  # one site's fallback must not stop the others
            missing[name] = f"no fallback schedule: {clip(str(inner), FLAG_CHARS)}"
    for name, why in missing.items():
        flags.append(f"site '{name}' has no schedule: {why}")
    plan = fallback_plan(schedules, dpark.spec.shared_limit_kw) if schedules else None
    exceeded = limits_exceeded(dpark, schedules, plan)
    flags.extend(describe(e) for e in exceeded)
    if missing and plan is not None:
        flags.append(
            f"the park plan sums the {len(schedules)} site(s) with a schedule, not "
            f"{', '.join(repr(n) for n in missing)}"
        )
    folder, kept = fallback_place(out, day_key)
    summary: dict[str, Any] = {
        "date": day_key,
        "park": dpark.name,
        "status": "fallback",
        "failure": f"{type(failure).__name__.removesuffix('Error').lower()}: {failure}",
        "exit_code": failure.exit_code,
        "fallback": SAFE_SCHEDULE,
        "flags": flags,
        "sources": sources,
        "sites_scheduled": sorted(schedules),
        "sites_without_schedule": missing,
        "limits_exceeded": exceeded,
    }
    if kept is not None:
        summary["kept_schedule"] = kept
    final = idle_states({n: read.inputs[n] for n in schedules})
    outputs = DayOutputs(folder, schedules, plan, summary, final, dpark)
    outputs.write()
    say(f"wrote the fallback schedule to {folder}/" + (f" ({kept['rule']})" if kept else ""))
    return JobOutcome("fallback", failure.exit_code, folder, summary, outputs=outputs)
