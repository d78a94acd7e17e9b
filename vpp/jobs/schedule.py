"""The daily scheduling job: ``vpp schedule PARK --date YYYY-MM-DD``.

Run every afternoon by the park's energy platform (cron or a systemd timer, see
``docs/operations.md``), unattended:

1. takes the date's lock (a second start for the same date is refused, exit 5) and
   records the run in the registry (:mod:`vpp.jobs.registry`), marking runs killed
   earlier as failed;
2. builds the park for the date (the park file's sites and step, one day), its
   demand-response events of that day (from the park file and the notices folder);
3. forecasts PV and load and takes each battery's state from telemetry, or the previous
   run (:mod:`vpp.jobs.inputs`, which states the fallbacks), recording every source and
   flag;
4. optimizes the park within the time budget (the solver gets what is left after
   reading, minus :data:`WRITE_MARGIN_S` for writing);
5. writes ``<out>/<date>/`` atomically: ``sites/<site>/schedule.csv`` and ``.parquet``
   (15-min set points), ``park_plan.csv``/``.parquet``, ``summary.json`` (sources, flags,
   offers, costs; no timings, so identical inputs give identical files) and
   ``final_soc.json`` (tomorrow's starting states); a re-run replaces the date's folder.

On any failure after the park is read (bad input, infeasible, solver error or time
limit) it writes a **safe fallback schedule** instead (batteries idle, flexible loads at
their defaults, EV fleets charging as they arrive: the pv-only baseline of each site),
marks it ``fallback`` in ``summary.json`` with the reason, records the failure and exits
with the code of the failure (2, 3 or 4). The run's log goes to standard error and to
``<out>/logs/<date>-run<id>.log``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vpp.errors import EXIT_SOLVER, Problem, ScenarioError, SolverError, VppError
from vpp.jobs import inputs as job_inputs
from vpp.portfolio.park import Park, load_park, site_inputs
from vpp.report.atomic import write_csv, write_folder_atomically

#: Seconds of the time budget kept for writing the outputs [s].
WRITE_MARGIN_S = 5.0
#: Columns of a site's schedule file, besides those of its own assets.
SCHEDULE_COLUMNS = ("load_kw", "price_cny_per_kwh", "grid_import_kw", "grid_export_kw")


@dataclass
class JobOutcome:
    """What a run of the job did."""

    status: str
    exit_code: int
    out_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None


def day_park(park: Park, date: pd.Timestamp, notices: list[Any]) -> Park:
    """The park on one day: the park file's step, that day only, that day's events."""
    spec = park.spec
    horizon = spec.horizon.model_copy(
        update={"start": date.to_pydatetime(), "end": None, "days": 1}
    )
    day = date.date()
    events = [e for e in (*spec.demand_response, *notices) if pd.Timestamp(e.start).date() == day]
    new_spec = spec.model_copy(update={"horizon": horizon, "demand_response": events})
    sites = {n: s.model_copy(update={"horizon": horizon}) for n, s in park.sites.items()}
    return Park(new_spec, sites, park.file)


def read_notices(folder: Path | None) -> list[Any]:
    """Demand-response notices: every ``*.yaml`` in the folder, each a list of events."""
    import yaml
    from pydantic import ValidationError

    from vpp.scenario.dr import DemandResponseEvent

    out: list[Any] = []
    if folder is None or not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for i, entry in enumerate(data if isinstance(data, list) else [data]):
            try:
                out.append(DemandResponseEvent.model_validate(entry))
            except ValidationError as exc:
                raise ScenarioError(
                    Problem(f"demand-response notice is not valid: {exc.errors()[0]['msg']}",
                            file=str(path), key=f"[{i}]", value=repr(entry)[:120])
                ) from None  # fmt: skip
    return out


def files_hash(paths: list[Path]) -> str:
    """SHA-256 over the contents of the files, in order."""
    digest = hashlib.sha256()
    for p in paths:
        digest.update(Path(p).read_bytes())
    return digest.hexdigest()


def _site_files(park: Park) -> list[Path]:
    files = [Path(park.file)] if park.file else []
    files += [Path(s.file) for s in park.spec.sites if s.file is not None]
    return files


def run_schedule(
    park_path: str | Path,
    date: str,
    *,
    out_dir: str | Path = "runs/schedule",
    forecasts_dir: str | Path | None = "forecasts",
    telemetry_dir: str | Path | None = None,
    notices_dir: str | Path | None = None,
    now: str | None = None,
    time_limit_s: float | None = None,
    log: Any = None,
) -> JobOutcome:
    """Run the daily job for ``date`` (module docstring). Never raises for a failure of
    the day's optimization: that is recorded, and a fallback schedule is written."""
    from vpp.jobs.registry import Registry, date_lock, sha256_file

    clock = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    day = pd.Timestamp(date)
    if day != day.normalize():
        raise ScenarioError(Problem("the date must be a day", key="--date", value=date,
                                    allowed="YYYY-MM-DD"))  # fmt: skip
    day_key = day.strftime("%Y-%m-%d")
    park = load_park(park_path)
    registry = Registry(out / "registry.sqlite")
    with date_lock(out, day_key):
        # a run killed while writing leaves its temporary folder: nobody else writes this
        # date while we hold its lock, so any such folder is stale
        for stale in out.glob(f".{day_key}.*"):
            shutil.rmtree(stale, ignore_errors=True)
        forecast_folder = Path(forecasts_dir) if forecasts_dir else None
        used = (
            [p for p in sorted(forecast_folder.glob("*.csv"))]
            if forecast_folder and forecast_folder.is_dir()
            else []
        )
        tele = Path(telemetry_dir) if telemetry_dir else None
        inputs_hashes = {p.name: sha256_file(p) for p in used}
        if tele and tele.is_dir():
            inputs_hashes.update(
                {f"telemetry/{p.name}": sha256_file(p) for p in sorted(tele.glob("*.csv"))}
            )
        scenario_hash = files_hash(_site_files(park))
        run_id = registry.start(
            job="schedule", date=day_key, park=park.name, scenario_hash=scenario_hash,
            inputs=inputs_hashes, out_dir=str(out / day_key),
        )  # fmt: skip
        logfile = out / "logs" / f"{day_key}-run{run_id}.log"
        logfile.parent.mkdir(exist_ok=True)
        with open(logfile, "a", encoding="utf-8") as handle:

            def say(message: str) -> None:
                line = f"[{time.perf_counter() - clock:6.1f} s] {message}"
                handle.write(line + "\n")
                handle.flush()
                if log is not None:
                    log(line)

            say(f"run {run_id}: park {park.name}, date {day_key}, pid {os.getpid()}")
            try:
                outcome = _run_day(park, day, out, forecast_folder, tele,
                                   Path(notices_dir) if notices_dir else None, now,
                                   time_limit_s, clock, say)  # fmt: skip
            except BaseException as exc:  # a bug, not a failure of the day: record, re-raise
                registry.finish(run_id, status="failed", exit_code=1,
                                message=f"internal error: {type(exc).__name__}: {exc}")  # fmt: skip
                say(f"run {run_id} failed with an internal error: {exc!r}")
                raise
            outcome.run_id = run_id
            kpis = {
                "sites": {n: {k: v for k, v in s.items() if isinstance(v, (int, float))}
                          for n, s in outcome.summary.get("sites", {}).items()},
                "flags": len(outcome.summary.get("flags", [])),
            }  # fmt: skip
            registry.finish(
                run_id, status=outcome.status, exit_code=outcome.exit_code,
                objective_cny=outcome.summary.get("net_cost_cny"), kpis=kpis,
                outputs=[str(out / day_key)], message=outcome.summary.get("failure"),
            )  # fmt: skip
            say(
                f"run {run_id} {outcome.status} (exit {outcome.exit_code}); outputs {out / day_key}"
            )
    return outcome


def _run_day(
    park: Park, day: pd.Timestamp, out: Path, forecast_folder: Path | None, tele: Path | None,
    notices_dir: Path | None, now_text: str | None, time_limit_s: float | None, clock: float,
    say: Any,
) -> JobOutcome:  # fmt: skip
    from vpp.portfolio.run import run_park

    day_key = day.strftime("%Y-%m-%d")
    flags: list[str] = []
    sources: dict[str, Any] = {"pv": {}, "load": {}, "soc": {}, "notices": []}
    inputs: dict[str, Any] | None = None
    try:
        notices = read_notices(notices_dir)
        dpark = day_park(park, day, notices)
        sources["notices"] = [e.name for e in dpark.spec.demand_response]
        say("reading the sites' inputs")
        inputs = site_inputs(dpark)
        tz = next(iter(inputs.values())).horizon.index.tz
        start = next(iter(inputs.values())).horizon.index[0]
        now = pd.Timestamp(now_text) if now_text else start - pd.Timedelta(hours=9)
        now = now.tz_localize(tz) if now.tz is None else now.tz_convert(tz)
        sources["now"] = now.isoformat()
        first = next(iter(dpark.sites.values()))
        forecasts = job_inputs.read_forecasts(forecast_folder, first, flags)
        previous = job_inputs.read_previous(out, day)
        say("forecasting PV and load, reading battery states")
        for name, scenario in dpark.sites.items():
            site = inputs[name]
            pv, pv_source = job_inputs.pv_forecast(
                name, scenario, site.horizon.index, forecasts, flags, tele, now
            )
            if pv_source.pop("flag", False):
                flags.append(f"site '{name}': PV from {pv_source['method']} ({pv_source['why']})")
            load, load_source = job_inputs.load_forecast(scenario, site)
            soc, soc_source = job_inputs.initial_soc(name, scenario, now, tele, previous, flags)
            sources["pv"][name] = pv_source
            sources["load"][name] = load_source
            sources["soc"][name] = soc_source
            inputs[name] = job_inputs.with_forecasts(site, load, pv, soc)
        left = None
        if time_limit_s is not None:
            left = time_limit_s - (time.perf_counter() - clock) - WRITE_MARGIN_S
            if left <= 0:
                raise SolverError(
                    f"the time budget of {time_limit_s:g} s was spent before solving "
                    f"(reading took {time.perf_counter() - clock:.1f} s)"
                )
        say("optimizing the park" + (f" (solver limit {left:.1f} s)" if left else ""))
        result = run_park(dpark, time_limit_s=left, inputs=inputs)
    except VppError as exc:
        say(f"failed: {type(exc).__name__}: {exc}")
        return _fallback(park, day, out, inputs, exc, flags, sources, say)
    summary = {
        "date": day_key,
        "park": park.name,
        "status": "ok",
        "flags": flags,
        "sources": sources,
        **{k: result.summary[k] for k in ("sites", "total_cost_cny", "dr_payment_cny",
                                          "net_cost_cny", "shared_limit", "demand_response")},
    }  # fmt: skip
    schedules = {n: r.schedule for n, r in result.sites.items()}
    final = {n: r.summary.get("final_soc_kwh", {}) for n, r in result.sites.items()}
    _write_day(out / day_key, schedules, result.schedule, summary, final, dpark)
    say(f"wrote {out / day_key}/ ({len(flags)} flag(s))")
    return JobOutcome("ok", 0, out / day_key, summary)


def _fallback(
    park: Park, day: pd.Timestamp, out: Path, inputs: dict[str, Any] | None, exc: VppError,
    flags: list[str], sources: dict[str, Any], say: Any,
) -> JobOutcome:  # fmt: skip
    """Write the safe schedule: each site's pv-only baseline (batteries idle)."""
    from vpp.sim.baseline import baseline_schedule

    day_key = day.strftime("%Y-%m-%d")
    reason = f"{type(exc).__name__.removesuffix('Error').lower()}: {exc}"
    schedules: dict[str, pd.DataFrame] = {}
    for name, site in (inputs or {}).items():
        try:
            frame = baseline_schedule(site, park.sites[name])
            for a in site.assets:  # explicit set points: idle, at the state it starts in
                if a.kind == "battery":
                    spec = a.spec
                    start = a.series.get(
                        "soc_initial_kwh", [spec.soc_initial_fraction * spec.energy_kwh]
                    )
                    frame[f"{a.name}_charge_kw"] = 0.0
                    frame[f"{a.name}_discharge_kw"] = 0.0
                    frame[f"{a.name}_soc_kwh"] = float(start[0])
            schedules[name] = frame
        except Exception as inner:  # one site's fallback must not stop the others
            flags.append(f"site '{name}': no fallback schedule ({inner})")
    summary = {
        "date": day_key,
        "park": park.name,
        "status": "fallback",
        "failure": reason,
        "exit_code": exc.exit_code,
        "fallback": "batteries idle, flexible loads at their defaults, EV fleets charging as "
        "they arrive (each site's pv-only baseline)",
        "flags": flags,
        "sources": sources,
    }
    plan = None
    if schedules:
        plan = pd.DataFrame(
            {f"{n}_net_import_kw": s["grid_import_kw"] - s["grid_export_kw"]
             for n, s in schedules.items()}
        )  # fmt: skip
        plan["park_net_import_kw"] = plan.sum(axis=1)
    _write_day(out / day_key, schedules, plan, summary, {}, park)
    say(f"wrote the fallback schedule to {out / day_key}/")
    return JobOutcome("fallback", exc.exit_code or EXIT_SOLVER, out / day_key, summary)


def _write_day(
    folder: Path, schedules: dict[str, pd.DataFrame], plan: pd.DataFrame | None,
    summary: dict[str, Any], final: dict[str, Any], park: Park,
) -> list[Path]:  # fmt: skip
    from vpp.report.files import _jsonable

    def columns(name: str, frame: pd.DataFrame) -> pd.DataFrame:
        scenario = park.sites[name]
        own = [c for c in frame.columns if c in SCHEDULE_COLUMNS or any(
            c.startswith(f"{a.name}_") for a in (*scenario.site.pv, *scenario.site.batteries,
                                                *scenario.site.flexible_loads,
                                                *scenario.site.ev_fleets))]  # fmt: skip
        return frame[own].astype(float)

    def fill(tmp: Path) -> None:
        (tmp / "sites").mkdir()
        for name, frame in schedules.items():
            (tmp / "sites" / name).mkdir()
            table = columns(name, frame)
            table.to_parquet(tmp / "sites" / name / "schedule.parquet")
            write_csv(table, tmp / "sites" / name / "schedule.csv")
        if plan is not None:
            plan.to_parquet(tmp / "park_plan.parquet")
            write_csv(plan, tmp / "park_plan.csv")
        (tmp / "summary.json").write_text(
            json.dumps(_jsonable(summary), indent=2, ensure_ascii=False, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        (tmp / "final_soc.json").write_text(
            json.dumps(_jsonable(final), indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        pause = os.environ.get("VPP_JOB_PAUSE_BEFORE_RENAME_S")
        if pause:  # fault tests: a window in which to kill the job before the rename
            time.sleep(float(pause))

    return write_folder_atomically(folder, ["summary.json"], fill)
