"""The park backtest: a park operated day after day on forecasts, settled on actuals.

``vpp run PARK.yaml --mode rolling`` (the park file's ``operation: {mode: rolling,
rolling: {...}}``) operates every site of the park together over the horizon, as the
daily job would (:mod:`vpp.jobs.day` is one decision of this loop):

1. every site's inputs and forecasts are prepared as for a site's rolling run
   (:func:`vpp.operation.prepare.prepare_rolling`), on the horizon **extended by the
   look-ahead** (prices and actuals past the last day are known as the job knows them),
   so the last days are planned with the same look-ahead past midnight as the others;
   each site takes the park's rolling settings, its own forecast methods
   (``load_forecast``, ``pv_forecast``, ...) when its scenario gives
   ``operation.rolling``;
2. at each decision (:func:`vpp.operation.windows.decision_steps`: ``reoptimize_hour``
   every ``interval_h``) the park's window is planned as one LP
   (:func:`vpp.operation.park_window.plan_park_window`): every site's window inputs
   from its carried state and the forecasts issued then, the shared feeder limit, and
   the demand-response events announced by then (``notified_at``) that lie in the
   window. The first plan that holds an event **commits** its offer; later windows keep
   it (or break it, with a note);
3. each site's plan is applied until the next decision on its actuals by the real-time
   rule (:func:`vpp.operation.real_time.apply_span`) and its state carried
   (:func:`vpp.operation.rolling.settle_span`): state of charge, month-to-date peak
   import, EV sessions' energy, shiftable loads' served energy;
4. each site is settled over the horizon (:func:`vpp.operation.settlement.settle`) and
   billed as a site run; the park's demand-response events are settled on the sites'
   settled (metered) net import against their baselines; the feeder limit is checked on
   the settled park import (a step above it is a **violation**, counted with its first
   time, never hidden);
5. the cost of imperfect forecasts, per site and for the park, is the settled cost less
   that of the perfect-foresight park run over the same horizon
   (:func:`vpp.portfolio.run.run_park`), when that run can be made (at most
   :data:`~vpp.portfolio.run.MAX_EVENTS_PER_DAY` events in the horizon; otherwise the
   summary says why it is missing).
"""

from __future__ import annotations

import math
import multiprocessing
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.assets.control import Applied
from vpp.errors import InfeasibleError, Problem, ScenarioError, VppError
from vpp.inputs.site import build_inputs
from vpp.model.park_update import SiteModels
from vpp.operation.park_window import SiteWindow, plan_park_window, shift_events
from vpp.operation.prepare import prepare_rolling
from vpp.operation.rolling import operated_frame, settle_span
from vpp.operation.settlement import settle
from vpp.operation.summary import rolling_summary
from vpp.operation.windows import Operated, initial_states, window_assets, window_notes
from vpp.portfolio.dr import announced_by
from vpp.portfolio.park import Park, park_horizon
from vpp.portfolio.run import (
    ParkResult,
    event_inputs,
    park_schedule,
    park_summary,
    run_park,
)
from vpp.runs.perfect import finish_run
from vpp.runs.result import Progress
from vpp.scenario.operation import NO_FORECAST_SOURCE, Operation, RollingSpec
from vpp.scenario.schema import Scenario

#: Rolling keys a site's own scenario may set (its forecast methods); the timing keys
#: (hour, interval, look-ahead, rule) are the park's, shared by every site.
SITE_FORECAST_KEYS = (
    "load_forecast",
    "profile_weeks",
    "pv_forecast",
    "pv_forecast_folder",
    "pv_error",
)
#: Net import above the shared limit by more than this counts as a violation [kW].
LIMIT_TOL_KW = 1e-6
#: Horizons of at least this length run the perfect-foresight reference in a worker
#: process beside the operation (:class:`Background`); shorter ones run it in line [h].
REFERENCE_PROCESS_MIN_H = 28 * 24.0


def rolling_spec(park: Park) -> RollingSpec:
    """The park's rolling settings.

    Raises
    ------
    ScenarioError
        The park file has no ``operation.rolling``.
    """
    spec = park.spec.operation.rolling
    if spec is None:
        raise ScenarioError(
            Problem(
                NO_FORECAST_SOURCE.replace(
                    "'operation: rolling:'", "'operation: rolling:' to the park file"
                ),
                file=park.file,
                key="operation.rolling",
                value="missing",
                fix="add for example: operation: {mode: rolling, rolling: {reoptimize_hour: 15, "
                "load_forecast: profile, pv_forecast: synthetic, lookahead_h: 48}}",
            )
        )
    return spec


def site_rolling(scenario: Scenario, spec: RollingSpec, horizon: Any = None) -> Scenario:
    """A site's scenario as the park operates it: the park's rolling settings, with the
    site's own forecast methods (:data:`SITE_FORECAST_KEYS`) when it gives them, on
    ``horizon`` (a :class:`~vpp.scenario.schema.HorizonSpec`) when given."""
    own = scenario.operation.rolling
    merged = spec
    if own is not None:
        merged = spec.model_copy(update={k: getattr(own, k) for k in SITE_FORECAST_KEYS})
    update: dict[str, Any] = {"operation": Operation(mode="rolling", rolling=merged)}
    if horizon is not None:
        update["horizon"] = horizon
    return scenario.model_copy(update=update)


def extended_horizon_spec(park: Park, lookahead_h: float) -> Any:
    """The park's horizon spec extended past its end by the look-ahead (whole steps)."""
    horizon = park_horizon(park)
    step = pd.Timedelta(hours=horizon.step_h)
    steps = math.ceil(lookahead_h / horizon.step_h - 1e-9)
    end = horizon.index[-1] + step * (1 + steps)
    spec = park.spec.horizon
    return spec.model_copy(update={"end": end.tz_localize(None).to_pydatetime(), "days": None})


def run_park_rolling(
    park: Park,
    *,
    time_limit_s: float | None = None,
    progress: Progress | None = None,
    lookahead_past_end: bool = True,
    reference: bool = True,
) -> ParkResult:
    """Operate the park on a rolling horizon and settle it (module docstring).

    Parameters
    ----------
    park : Park
        The park, with ``operation.rolling`` in its file.
    time_limit_s : float, optional
        HiGHS time limit per solve [s].
    progress : callable, optional
        Called with a short message at each stage.
    lookahead_past_end : bool
        Plan the last days with the look-ahead past the horizon's end (as the daily job
        does). False ends every window at the horizon's end: with perfect forecasts the
        park then costs what perfect foresight costs.
    reference : bool
        Also run the perfect-foresight park for the cost of imperfect forecasts.

    Raises
    ------
    ScenarioError, DataError
        No rolling settings, or bad inputs, histories or forecast files of a site.
    SolverError
        HiGHS failed on a window, or even its elastic plan found no answer.
    """
    say = progress or (lambda _msg: None)
    clock = time.perf_counter()
    spec = rolling_spec(park)
    horizon0 = park_horizon(park)
    n0 = horizon0.n
    background = None
    if reference and n0 * horizon0.step_h >= REFERENCE_PROCESS_MIN_H:
        say("perfect-foresight reference started in a worker process")
        background = Background(park, time_limit_s)
    try:
        return _operate(
            park, spec, time_limit_s, say, lookahead_past_end, reference, background, clock
        )
    finally:
        if background is not None:
            background.stop()


def _operate(
    park: Park,
    spec: RollingSpec,
    time_limit_s: float | None,
    say: Progress,
    lookahead_past_end: bool,
    reference: bool,
    background: Background | None,
    clock: float,
) -> ParkResult:
    """The body of :func:`run_park_rolling` (``clock``: its start, ``time.perf_counter``)."""
    horizon0 = park_horizon(park)
    n0 = horizon0.n
    long_spec = extended_horizon_spec(park, spec.lookahead_h) if lookahead_past_end else None
    sites0 = {n: site_rolling(s, spec) for n, s in park.sites.items()}
    sites = {n: site_rolling(s, spec, long_spec) for n, s in park.sites.items()}
    say(f"reading inputs and issuing the forecasts of every decision for {len(sites)} site(s)")
    preps = {}
    problems: list[Problem] = []
    for name, scenario in sites.items():
        try:
            preps[name] = prepare_rolling(scenario, open_end=True)
        except VppError as exc:
            problems += [replace(p, message=f"site '{name}': {p.message}") for p in exc.problems]
            error = type(exc)
    if problems:
        raise error(problems)
    t_prepare = time.perf_counter() - clock
    first = next(iter(preps.values()))
    horizon = first.inputs.horizon
    lookahead = first.lookahead
    decisions = [d for d in first.decisions if d < n0]
    ext_park = Park(park.spec, sites, park.file, park.notes)
    all_events = event_inputs(ext_park, horizon)
    ops = {n: Operated(load_evaluation=p.load_evaluation) for n, p in preps.items()}
    planned = {
        n: [a for a in p.inputs.assets if unit(a.kind).in_windows(a)] for n, p in preps.items()
    }
    for name in preps:
        for a in planned[name]:
            ops[name].columns.update(unit(a.kind).operated_columns(a, horizon.n))
    states = {n: initial_states(p.inputs.assets, horizon, open_end=True) for n, p in preps.items()}
    committed: dict[str, float] = {}
    models = SiteModels(reuse=spec.reuse_model)
    decisions_log: list[dict[str, Any]] = []
    t_plan = t_apply = 0.0
    month_seen = None
    for i, start in enumerate(decisions):
        until = decisions[i + 1] if i + 1 < len(decisions) else n0
        stop = min(start + lookahead, horizon.n if lookahead_past_end else n0)
        moment = horizon.index[start]
        month = moment.strftime("%Y-%m")
        if month != month_seen:
            say(f"park rolling: {month} (decision {i + 1} of {len(decisions)})")
            month_seen = month
        t0 = time.perf_counter()
        windows: dict[str, SiteWindow] = {}
        for name, prep in preps.items():
            forecasts = {k: v[: stop - start] for k, v in prep.forecasts[i].items()}
            assets, window = window_assets(
                prep.inputs.assets, sites[name], horizon, start, stop, states[name], forecasts
            )
            series = prep.inputs.series.iloc[start:stop].copy()
            for column, values in forecasts.items():
                series[column] = values
            windows[name] = SiteWindow(assets, series)
        known = [announced_by(ev.event, moment) for ev in all_events]
        inside, notes = shift_events(all_events, start, stop, known)
        # the baselines as the decision knows them: the whole days before its date
        events = (
            event_inputs(ext_park, window, [ev.event for ev in inside], moment) if inside else []
        )
        plan = plan_park_window(
            ext_park,
            windows,
            window,
            committed,
            events=events,
            time_limit_s=time_limit_s,
            models=models,
        )
        t_plan += time.perf_counter() - t0
        for ev in plan.events:
            committed.setdefault(ev.event.name, plan.offers_kw[ev.event.name])
        if plan.elastic:
            for o in ops.values():
                o.elastic_windows.append(moment.isoformat())
        t0 = time.perf_counter()
        for name, prep in preps.items():
            forecasts = {k: v[: stop - start] for k, v in prep.forecasts[i].items()}
            applied = Applied(
                sites[name],
                horizon,
                start,
                until,
                plan.plans[name],
                forecasts,
                prep.inputs.series,
                spec.real_time_rule,
            )
            settle_span(planned[name], ops[name], states[name], applied)
            ops[name].solves += 1
        t_apply += time.perf_counter() - t0
        if notes or plan.notes:
            decisions_log.append({"at": moment.isoformat(), "notes": [*notes, *plan.notes]})
    for name in ops:
        # scalar states (a battery's charge) at the horizon's end; per-session and
        # per-month states belong to the horizon extended by the look-ahead (an EV
        # session still connected at the end is not short): the settlement's bill
        # prices unmet EV energy where the fleet prices it
        ops[name].final_states = {k: v for k, v in states[name].items() if np.ndim(v) == 0}
        ops[name].builds = models.built.get(name, 0)
        ops[name].columns = {k: v[:n0] for k, v in ops[name].columns.items()}
        ops[name].timings_s = {"plan": t_plan, "apply": t_apply}
    say("perfect-foresight reference")
    t0 = time.perf_counter()
    if background is not None:
        perfect, why = background.result()
    elif reference:
        perfect, why = _reference(park, time_limit_s)
    else:
        perfect, why = None, "not asked for"
    t_ref = time.perf_counter() - t0  # a background reference: the wait for it only
    say("settling every site over the horizon")
    spans = [(d, min(d + lookahead, horizon.n if lookahead_past_end else n0)) for d in decisions]
    results = {}
    for name, scenario in sites0.items():
        # notes as the backtest treats what its horizon and windows cut (it plans past
        # the horizon's end)
        inputs = build_inputs(scenario, planning="open-end")
        said = window_notes(preps[name].inputs.assets, horizon, spans)
        inputs = replace(inputs, notes=[*inputs.notes, *said])
        model, solved = settle(inputs, ops[name], time_limit_s=time_limit_s)
        extra = operated_frame(ops[name], horizon0.index)
        out = finish_run(
            scenario,
            inputs,
            model,
            solved,
            {},
            time.perf_counter(),
            lambda _m: None,
            extra_columns=extra,
        )
        out.summary["mode"] = "park-rolling"
        site_perfect = (
            perfect.sites[name]
            if perfect is not None
            else InfeasibleError(Problem(why or "no reference"))
        )
        out.summary["rolling"] = rolling_summary(
            scenario, spec, inputs, ops[name], site_perfect, out
        )
        results[name] = out
    events0 = event_inputs(park, horizon0)
    offers = [committed.get(ev.event.name, 0.0) for ev in events0]
    schedule = park_schedule(results, horizon0, park.spec.shared_limit_kw)
    summary = park_summary(park, results, schedule, events0, offers, "rolling", {})
    summary["mode"] = "park-rolling"
    if park.notes:  # what loading changed in the sites (vpp.portfolio.park.Park.notes)
        summary["notes"] = list(park.notes)
    summary["rolling"] = _park_rolling_summary(
        park, spec, schedule, results, perfect, why, decisions, decisions_log, horizon0
    )
    summary["rolling"]["models"] = {
        "reuse": models.reuse,
        "built": models.builds,
        "updated": models.updates,
        "built_by_site": dict(models.built),
        "build_s": round(models.build_s, 4),
        "update_s": round(models.update_s, 4),
    }
    summary["timings_s"] = {
        "prepare": round(t_prepare, 4),
        "plan": round(t_plan, 4),
        "apply": round(t_apply, 4),
        "reference": round(t_ref, 4),
        "total": round(time.perf_counter() - clock, 4),
    }
    return ParkResult(park, results, schedule, summary)


def _reference(park: Park, time_limit_s: float | None) -> tuple[ParkResult | None, str | None]:
    """The perfect-foresight park run, or None and why it is missing."""
    try:
        return run_park(park, time_limit_s=time_limit_s), None
    except (ScenarioError, InfeasibleError) as exc:
        return None, f"the perfect-foresight park run cannot be made: {exc}"


def _reference_child(conn: Any, park: Park, time_limit_s: float | None) -> None:
    """The worker process of :class:`Background`: send the reference, or why it failed."""
    try:
        conn.send(("ok", _reference(park, time_limit_s)))
    except Exception as exc:  # any failure: the parent runs the reference itself
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class Background:
    """The perfect-foresight reference run in a worker process while the park is operated.

    A long horizon's reference is one LP of every site over the whole horizon (twice with
    an event: joined and not), which HiGHS needs tens of seconds for; it does not depend
    on the operation, so it runs beside it (``spawn``, never ``fork``: see
    :mod:`vpp.parallel`). When the worker fails or dies, the reference is run in this
    process instead (:meth:`result`: the same answer, or the same error, as in line);
    :meth:`stop` ends the worker early (the operation failed).
    """

    def __init__(self, park: Park, time_limit_s: float | None):
        self.park, self.time_limit_s = park, time_limit_s
        self.conn: Any = None
        self.proc: Any = None
        try:
            ctx = multiprocessing.get_context("spawn")
            self.conn, child = ctx.Pipe(duplex=False)
            self.proc = ctx.Process(target=_reference_child, args=(child, park, time_limit_s))
            self.proc.start()
            child.close()
        except (OSError, RuntimeError):  # no worker processes here: run it in line later
            self.stop()

    def result(self) -> tuple[ParkResult | None, str | None]:
        """The reference (:func:`_reference`), waiting for the worker."""
        payload = None
        try:
            if self.conn is not None:
                payload = self.conn.recv()
        except (EOFError, OSError):
            payload = None  # the worker died before answering
        finally:
            self.stop()
        if payload is not None and payload[0] == "ok":
            return payload[1]
        return _reference(self.park, self.time_limit_s)

    def stop(self) -> None:
        """End the worker (after its answer, or when the operation failed)."""
        if self.proc is not None:
            if self.proc.is_alive():
                self.proc.terminate()
            self.proc.join()
            self.proc = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _park_rolling_summary(
    park: Park,
    spec: RollingSpec,
    schedule: pd.DataFrame,
    results: dict[str, Any],
    perfect: ParkResult | None,
    why: str | None,
    decisions: list[int],
    log: list[dict[str, Any]],
    horizon: Any,
) -> dict[str, Any]:
    """Decisions, feeder-limit violations and the cost of imperfect forecasts."""
    net = schedule["park_net_import_kw"].to_numpy()
    limit = park.spec.shared_limit_kw
    violation: dict[str, Any] = {"steps": 0, "max_excess_kw": 0.0, "first": None}
    if limit is not None:
        excess = np.abs(net) - float(limit)
        bad = np.flatnonzero(excess > LIMIT_TOL_KW)
        if bad.size:
            violation = {
                "steps": int(bad.size),
                "max_excess_kw": float(excess[bad].max()),
                "energy_kwh": float(excess[bad].sum() * horizon.step_h),
                "first": horizon.index[bad[0]].isoformat(),
            }
    total = sum(r.summary["total_cost_cny"] for r in results.values())
    out: dict[str, Any] = {
        "reoptimize_hour": spec.reoptimize_hour,
        "interval_h": spec.interval_h,
        "lookahead_h": spec.lookahead_h,
        "real_time_rule": spec.real_time_rule,
        "decisions": len(decisions),
        "notes": log,
        "shared_limit_violation": violation,
        "total_cost_cny": total,
    }
    if perfect is None:
        out["perfect"] = {"missing": why}
        out["cost_of_imperfect_forecasts_cny"] = None
        return out
    ref = float(perfect.summary["total_cost_cny"])
    out["perfect"] = {
        "total_cost_cny": ref,
        "net_cost_cny": float(perfect.summary["net_cost_cny"]),
        "by_site_cny": {n: float(r.summary["total_cost_cny"]) for n, r in perfect.sites.items()},
    }
    out["cost_of_imperfect_forecasts_cny"] = total - ref
    out["cost_of_imperfect_forecasts_by_site_cny"] = {
        n: float(results[n].summary["total_cost_cny"] - r.summary["total_cost_cny"])
        for n, r in perfect.sites.items()
    }
    return out
