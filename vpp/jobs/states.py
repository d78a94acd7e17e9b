"""The state a window starts from at ``now``, measured where it can be, and its sources.

Each measured input has a maximum age (below): a reading older than it at ``now`` is not
used, the next source is (flagged). Every choice goes into ``sources``. The chains
(``docs/telemetry.md``):

Battery state of charge [kWh]:

1. the latest ``soc.csv`` reading at or before ``now``, at most :data:`SOC_MAX_AGE_H` old;
2. the previous run's plan at ``now`` (``<out>/<date>/state.json``, the newest run whose
   window holds ``now``: :func:`read_previous_plan`), interpolated between its steps;
3. the previous date's ``final_soc.json`` when its time (the end of that date) is ``now``;
4. the scenario's initial state.

A state outside the battery's bounds is clipped to them and flagged (a meter a little off
should not stop the day's plan; the flag lets operators check it).

Month-to-date peak import [kW] per site (the grid's state for ``now``'s month):

1. the largest ``import_kw`` of ``grid-<site>.csv`` since the month's first step, when the
   readings cover the month so far: the first within one step of the month's start, no
   gap over :data:`METER_MAX_GAP_H`, the last at most :data:`METER_MAX_AGE_H` old;
2. the previous run's ``mtd_peak_kw`` for the same month: the peak it measured, raised
   by the imports it planned for the steps before this ``now`` (not those after it);
3. 0 kW, flagged: the plan may buy a new peak.

Billed peak so far of each demand charge [kW] (its floor in the billing period of
``now``: a calendar month or date, :func:`demand_peak_kw`):

1. the charge's billed peak of ``grid-<site>.csv`` since the billing period's start (the
   largest import, export or :math:`|import - export|` of the readings in the charge's
   window: TOU periods, hours, months), when the readings cover the period so far (as
   for the month-to-date peak);
2. the previous run's ``demand_peaks_kw`` of the charge for the same billing period,
   raised by the quantity it planned for the steps before this ``now``;
3. the scenario's ``peak_floor_kw``, flagged.

EV sessions connected at ``now``: the latest ``delivered_kwh`` of ``ev-<site>.csv`` per
fleet and session (the sessions file's ``vehicle``) at most :data:`EV_MAX_AGE_H` old;
else the session is assumed given its pro-rata share so far (the scenario's rule, flagged
when a reading was there but too old).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.errors import clip
from vpp.jobs.telemetry import Telemetry

#: Largest age of a state-of-charge reading at ``now`` [h].
SOC_MAX_AGE_H = 1.0
#: Largest age of the last meter reading (load, PV, grid) for it to count as current [h].
METER_MAX_AGE_H = 1.0
#: Longest gap between grid meter readings for the month-to-date peak to be known [h].
METER_MAX_GAP_H = 1.0
#: Largest age of an EV session's delivered-energy reading at ``now`` [h].
EV_MAX_AGE_H = 1.0
#: Days back from ``now``'s date searched for a previous run's ``state.json`` [days].
PREVIOUS_PLAN_DAYS = 3
#: Slack on a battery's bounds before a state counts as outside them [kWh].
SOC_BOUND_TOL_KWH = 1e-9


@dataclass(frozen=True)
class PreviousPlan:
    """A previous run's carried state (its ``state.json``).

    Attributes
    ----------
    file : str
        The file read.
    now : pandas.Timestamp
        That run's ``now``.
    soc_kwh : dict
        Site -> battery -> planned state of charge by timestamp [kWh].
    mtd_peak_kw : dict
        Site -> (month ``YYYY-MM``, month-to-date peak import at that run's ``now`` [kW]).
    planned_import_kw : dict
        Site -> planned import by step start in that month [kW] (empty for a file
        without it).
    demand_peaks_kw : dict
        Site -> demand charge -> (billing period, billed peak so far at that run's
        ``now`` [kW], planned billed quantity by step start in that period [kW]).
    runs : dict
        Site -> deferrable load -> its planned flags as written (``on`` and ``start``
        by step start [0/1]; :meth:`vpp.assets.deferrable.job.DeferrableJob.plan_state`).
    """

    file: str
    now: pd.Timestamp
    soc_kwh: dict[str, dict[str, pd.Series]]
    mtd_peak_kw: dict[str, tuple[str, float]]
    planned_import_kw: dict[str, pd.Series] = field(default_factory=dict)
    demand_peaks_kw: dict[str, dict[str, tuple[str, float, pd.Series]]] = field(
        default_factory=dict
    )
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok and np.isfinite(value) else None


def _parse_plan(path: Path, tz: Any) -> PreviousPlan:
    """A ``state.json``; raises ValueError (or KeyError, TypeError) when it is not one."""
    data = json.loads(path.read_text(encoding="utf-8"))
    run_now = pd.Timestamp(data["now"]).tz_convert(tz)
    soc: dict[str, dict[str, pd.Series]] = {}
    peaks: dict[str, tuple[str, float]] = {}
    planned: dict[str, pd.Series] = {}
    demand: dict[str, dict[str, tuple[str, float, pd.Series]]] = {}
    runs: dict[str, dict[str, Any]] = {}
    for site, block in dict(data["sites"]).items():
        for battery, points in dict(block.get("soc_kwh", {})).items():
            stamps = pd.to_datetime(list(points), format="ISO8601", utc=True).tz_convert(tz)
            values = [_number(v) for v in points.values()]
            if any(v is None for v in values):
                raise ValueError(f"site {site} battery {battery}: a state is not a finite number")
            soc.setdefault(str(site), {})[str(battery)] = pd.Series(
                values, index=stamps, dtype=float
            ).sort_index()
        peak = block.get("mtd_peak_kw")
        if peak is not None:
            value = _number(peak["value"])
            if value is None or value < 0:
                raise ValueError(f"site {site}: mtd_peak_kw is not a number >= 0")
            peaks[str(site)] = (str(peak["month"]), value)
            points = dict(peak.get("planned_import_kw") or {})
            if points:
                values = [_number(v) for v in points.values()]
                if any(v is None or v < 0 for v in values):
                    raise ValueError(f"site {site}: a planned import is not a number >= 0")
                stamps = pd.to_datetime(list(points), format="ISO8601", utc=True).tz_convert(tz)
                planned[str(site)] = pd.Series(values, index=stamps, dtype=float)
        for charge, entry in dict(block.get("demand_peaks_kw") or {}).items():
            demand.setdefault(str(site), {})[str(charge)] = _parse_demand(site, charge, entry, tz)
        runs[str(site)] = {str(k): dict(v) for k, v in dict(block.get("runs") or {}).items()}
    return PreviousPlan(str(path), run_now, soc, peaks, planned, demand, runs)


def _parse_demand(site: str, charge: str, entry: Any, tz: Any) -> tuple[str, float, pd.Series]:
    """One charge's ``demand_peaks_kw`` entry of a ``state.json``."""
    value = _number(entry["value"])
    if value is None or value < 0:
        raise ValueError(f"site {site} demand charge {charge}: value is not a number >= 0")
    points = dict(entry.get("planned_kw") or {})
    values = [_number(v) for v in points.values()]
    if any(v is None or v < 0 for v in values):
        raise ValueError(f"site {site} demand charge {charge}: a planned kW is not a number >= 0")
    stamps = pd.to_datetime(list(points), format="ISO8601", utc=True).tz_convert(tz)
    return str(entry["period"]), value, pd.Series(values, index=stamps, dtype=float)


def read_previous_plan(out_dir: Path, now: pd.Timestamp, flags: list[str]) -> PreviousPlan | None:
    """The newest previous run's ``state.json`` whose plan holds ``now``: a date folder's
    ``<out>/<date>/state.json``, or an intraday re-plan's
    ``<out>/<date>/intraday/<HHMM>/state.json`` whose run was ``ok`` (the plan dispatched).

    Dates from ``now``'s next day back :data:`PREVIOUS_PLAN_DAYS` days are searched; a run
    whose ``now`` is after this ``now`` is not used (it knew the future), nor one whose
    planned states do not span ``now``. A file that cannot be read is flagged and skipped.
    """
    from vpp.jobs.window import INTRADAY_DIR

    found: list[PreviousPlan] = []
    day = now.normalize()
    paths: list[Path] = []
    for back in range(-1, PREVIOUS_PLAN_DAYS + 1):
        folder = Path(out_dir) / (day - pd.Timedelta(days=back)).strftime("%Y-%m-%d")
        intraday = sorted((folder / INTRADAY_DIR).glob("*/state.json"))
        paths += [folder / "state.json", *(p for p in intraday if _run_ok(p.parent))]
    for path in paths:
        if not path.is_file():
            continue
        try:
            plan = _parse_plan(path, now.tz)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            flags.append(f"{path} not used: {clip(str(exc), 120)}")
            continue
        if plan.now > now or not _spans(plan, now):
            continue
        found.append(plan)
    return max(found, key=lambda p: p.now) if found else None


def _run_ok(folder: Path) -> bool:
    """Whether the run that wrote ``folder`` says ``ok`` in its ``summary.json``."""
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))["status"] == "ok"
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _spans(plan: PreviousPlan, now: pd.Timestamp) -> bool:
    series = [s for site in plan.soc_kwh.values() for s in site.values() if len(s)]
    return any(s.index[0] <= now <= s.index[-1] for s in series) or (
        not series and bool(plan.mtd_peak_kw)
    )


def read_final_soc(
    out_dir: Path, now: pd.Timestamp, flags: list[str]
) -> dict[str, dict[str, float]] | None:
    """The previous date's ``final_soc.json`` when ``now`` is the end of that date
    (midnight); None otherwise. Values that are not finite numbers are dropped, flagged."""
    if now != now.normalize():
        return None
    path = Path(out_dir) / (now - pd.Timedelta(days=1)).strftime("%Y-%m-%d") / "final_soc.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        flags.append(f"{path} not used: {clip(str(exc), 120)}")
        return None
    out: dict[str, dict[str, float]] = {}
    for site, batteries in data.items() if isinstance(data, dict) else []:
        for battery, value in batteries.items() if isinstance(batteries, dict) else []:
            number = _number(value)
            if number is None:
                flags.append(
                    f"{path}: state of site {clip(repr(site), 40)} battery "
                    f"{clip(repr(battery), 40)} is not a finite number "
                    f"({clip(repr(value), 40)}); dropped"
                )
                continue
            out.setdefault(str(site), {})[str(battery)] = number
    return out


def _planned_at(series: pd.Series, now: pd.Timestamp) -> float | None:
    """The planned state at ``now``, linear between the plan's points [kWh]."""
    if not len(series) or not series.index[0] <= now <= series.index[-1]:
        return None
    t = series.index.as_unit("ns").asi8.astype(float)
    return float(np.interp(float(now.as_unit("ns").value), t, series.to_numpy(float)))


def battery_soc_kwh(
    name: str,
    battery: str,
    bounds: tuple[float, float, float],
    telemetry: Telemetry,
    previous: PreviousPlan | None,
    final_soc: dict[str, dict[str, float]] | None,
    now: pd.Timestamp,
    flags: list[str],
) -> tuple[float, str]:
    """A battery's state at ``now`` and its source (module docstring) [kWh].

    ``bounds`` is (scenario initial, lowest, highest) [kWh]
    (:meth:`~vpp.assets.base.AssetUnit.measured_state`).
    """
    scenario_kwh, lo, hi = bounds
    found = None
    rows = telemetry.soc
    if rows is not None:
        mine = rows[(rows["site"] == name) & (rows["battery"] == battery)]
        if len(mine):
            last = mine.iloc[-1]
            stamp = last["timestamp"].isoformat()
            if now - last["timestamp"] <= pd.Timedelta(hours=SOC_MAX_AGE_H):
                found = (float(last["soc_kwh"]), f"telemetry soc.csv at {stamp}")
            else:
                flags.append(
                    f"site '{name}' battery '{battery}': the latest soc.csv reading (row "
                    f"{int(last['row'])}, {stamp}) is more than {SOC_MAX_AGE_H:g} h before now; "
                    "the state is taken from the next source"
                )
    if found is None and previous is not None:
        series = previous.soc_kwh.get(name, {}).get(battery)
        value = None if series is None else _planned_at(series, now)
        if value is not None:
            found = (value, f"previous run's plan at now ({previous.file})")
    if found is None and final_soc and battery in final_soc.get(name, {}):
        found = (float(final_soc[name][battery]), "previous day's run (final_soc.json)")
    if found is None:
        found = (scenario_kwh, "scenario initial state")
        if rows is not None or previous is not None:
            flags.append(
                f"site '{name}' battery '{battery}': no current reading or plan; the "
                "scenario's initial state is used"
            )
    value, source = found
    if not lo - SOC_BOUND_TOL_KWH <= value <= hi + SOC_BOUND_TOL_KWH:
        clipped = min(max(value, lo), hi)
        flags.append(
            f"site '{name}' battery '{battery}': state {value:.1f} kWh from {source} is "
            f"outside its bounds {lo:.1f}..{hi:.1f} kWh; clipped to {clipped:.1f}"
        )
        source += " (clipped)"
        value = clipped
    return value, source


def month_start(now: pd.Timestamp) -> pd.Timestamp:
    """The first instant of ``now``'s local calendar month."""
    return now.normalize().replace(day=1)


def _meter_since(
    frame: pd.DataFrame, start: pd.Timestamp, now: pd.Timestamp, step: pd.Timedelta
) -> pd.DataFrame | None:
    """The grid meter's readings since ``start`` when they cover the time since then:
    the first within one step of ``start``, no gap over :data:`METER_MAX_GAP_H`, the
    last at most :data:`METER_MAX_AGE_H` old; else None."""
    rows = frame[frame["timestamp"] >= start]
    if not len(rows):
        return rows if now - start < step else None
    stamps = pd.DatetimeIndex(rows["timestamp"])
    gaps = np.diff(np.concatenate([[start.as_unit("ns").value], stamps.as_unit("ns").asi8]))
    if (
        stamps[0] - start > step
        or (len(gaps) > 1 and gaps[1:].max() > pd.Timedelta(hours=METER_MAX_GAP_H).value)
        or now - stamps[-1] > pd.Timedelta(hours=METER_MAX_AGE_H)
    ):
        return None
    return rows


def _net_import_kw(frame: pd.DataFrame, now: pd.Timestamp, step: pd.Timedelta) -> pd.Series | None:
    """``import_kw - export_kw`` since the month's start when the readings cover the
    month so far (module docstring), else None [kW]."""
    month = _meter_since(frame, month_start(now), now, step)
    if month is None:
        return None
    values = month["import_kw"].to_numpy(float) - month["export_kw"].to_numpy(float)
    return pd.Series(values, index=pd.DatetimeIndex(month["timestamp"]), dtype=float)


def mtd_peak_kw(
    name: str,
    telemetry: Telemetry,
    previous: PreviousPlan | None,
    now: pd.Timestamp,
    step: pd.Timedelta,
    flags: list[str],
) -> tuple[float, dict[str, Any]]:
    """The site's month-to-date peak import at ``now`` and its source (module docstring)
    [kW]."""
    month = month_start(now).strftime("%Y-%m")
    frame = telemetry.grid.get(name)
    file = f"grid-{name}.csv"
    why = f"no telemetry {file}"
    if frame is not None:
        net = _net_import_kw(frame, now, step)
        if net is not None:
            start = month_start(now)
            imports = frame.loc[frame["timestamp"] >= start, "import_kw"]
            value = float(imports.max()) if len(imports) else 0.0
            return value, {"value_kw": value, "month": month, "source": f"telemetry {file}"}
        why = (
            f"telemetry {file} does not cover {month} so far (first reading within one step "
            f"of the month's start, gaps up to {METER_MAX_GAP_H:g} h, last at most "
            f"{METER_MAX_AGE_H:g} h old)"
        )
        flags.append(f"site '{name}': {why}; the month-to-date peak takes the next source")
    if previous is not None and name in previous.mtd_peak_kw:
        prev_month, value = previous.mtd_peak_kw[name]
        imports = previous.planned_import_kw.get(name)
        if imports is not None:  # what it planned to import until now, not after
            before = imports[(imports.index >= previous.now) & (imports.index < now)]
            value = max(value, float(before.max())) if len(before) else value
        if prev_month == month:
            return value, {
                "value_kw": value,
                "month": month,
                "source": f"previous run's plan ({previous.file})",
                "why": why,
            }
    flags.append(f"site '{name}': no month-to-date peak known: the plan may buy a new peak ({why})")
    return 0.0, {"value_kw": 0.0, "month": month, "source": "none (0 kW)", "why": why}


def demand_peak_kw(
    name: str,
    asset: Any,
    grid: Any,
    telemetry: Telemetry,
    previous: PreviousPlan | None,
    now: pd.Timestamp,
    step: pd.Timedelta,
    flags: list[str],
) -> tuple[float | None, dict[str, Any]]:
    """A demand charge's billed peak so far in the billing period of ``now`` and its
    source (module docstring) [kW]; None when only the scenario's floor is known.

    ``asset`` is the charge's input (its unit measures the peak:
    :meth:`~vpp.assets.demand_charge.operation.DemandChargeOperation.metered_peak_kw`),
    ``grid`` the site's grid entry (its calendar gives the readings' TOU periods).
    """
    u = unit(asset.kind)
    key, start = u.billing_period(asset, now)
    who = f"site '{name}' demand charge '{asset.name}'"
    frame = telemetry.grid.get(name)
    file = f"grid-{name}.csv"
    why = f"no telemetry {file}"
    if frame is not None:
        rows = _meter_since(frame, start, now, step)
        if rows is not None:
            value = u.metered_peak_kw(
                asset,
                grid,
                pd.DatetimeIndex(rows["timestamp"]),
                rows["import_kw"].to_numpy(float),
                rows["export_kw"].to_numpy(float),
            )
            return value, {"value_kw": value, "period": key, "source": f"telemetry {file}"}
        why = (
            f"telemetry {file} does not cover the billing period {key} so far (first reading "
            f"within one step of its start, gaps up to {METER_MAX_GAP_H:g} h, last at most "
            f"{METER_MAX_AGE_H:g} h old)"
        )
        flags.append(f"{who}: {why}; its billed peak so far takes the next source")
    carried = (previous.demand_peaks_kw.get(name, {}) if previous is not None else {}).get(
        asset.name
    )
    if previous is not None and carried is not None and carried[0] == key:
        _, value, planned = carried
        before = planned[(planned.index >= previous.now) & (planned.index < now)]
        value = max(value, float(before.max())) if len(before) else value
        return value, {
            "value_kw": value,
            "period": key,
            "source": f"previous run's plan ({previous.file})",
            "why": why,
        }
    floor = float(asset.spec.peak_floor_kw)
    flags.append(
        f"{who}: no billed peak so far known for {key} ({why}); the scenario's "
        f"peak_floor_kw {floor:g} kW is its floor"
    )
    return None, {"value_kw": floor, "period": key, "source": "scenario peak_floor_kw", "why": why}


def park_mtd_peak_kw(
    telemetry: Telemetry, names: list[str], now: pd.Timestamp, step: pd.Timedelta
) -> float | None:
    """The park's month-to-date peak of the summed net import, when every site's grid
    meter covers the month so far; else None [kW]."""
    total = None
    for name in names:
        frame = telemetry.grid.get(name)
        net = None if frame is None else _net_import_kw(frame, now, step)
        if net is None:
            return None
        net = net.resample(step).mean()
        total = net if total is None else total.add(net, fill_value=np.nan)
    if total is None or total.isna().any():
        return None
    return float(max(total.max(), 0.0)) if len(total) else 0.0


def session_delivered_kwh(
    name: str, fleet: str, telemetry: Telemetry, now: pd.Timestamp, flags: list[str]
) -> dict[str, float]:
    """Energy delivered so far per session (vehicle) of a fleet: the latest reading at
    most :data:`EV_MAX_AGE_H` old [kWh]; older readings flagged and left out."""
    frame = telemetry.ev.get(name)
    if frame is None:
        return {}
    mine = frame[frame["fleet"] == fleet]
    out: dict[str, float] = {}
    stale = []
    for session, rows in mine.groupby("session", sort=True):
        last = rows.iloc[-1]
        if now - last["timestamp"] <= pd.Timedelta(hours=EV_MAX_AGE_H):
            out[str(session)] = float(last["delivered_kwh"])
        else:
            stale.append(str(session))
    if stale:
        flags.append(
            f"site '{name}' fleet '{fleet}': ev-{name}.csv readings of session(s) "
            f"{', '.join(stale[:5])} are more than {EV_MAX_AGE_H:g} h old; those sessions "
            "are assumed given their share so far"
        )
    return out


def site_states(
    name: str,
    scenario: Any,
    inputs: Any,
    telemetry: Telemetry,
    previous: PreviousPlan | None,
    now: pd.Timestamp,
    flags: list[str],
    sources: dict[str, Any],
    *,
    final_soc: dict[str, dict[str, float]] | None = None,
) -> dict[str, Any]:
    """The state of every asset of the site planned in windows, at ``now``.

    Each starts at its unit's :meth:`initial_state` (or ``job_initial_state``, when the
    unit has one: a deferrable load whose window the horizon's end cuts) on
    ``inputs.horizon`` (built over the window's horizon, starting at ``now``); then a
    storage with a measured state takes its state of charge (:func:`battery_soc_kwh`),
    the grid its month-to-date peak as the first month's (:func:`mtd_peak_kw`), a demand
    charge its billed peak so far as its first billing period's floor
    (:func:`demand_peak_kw`), an EV fleet its sessions' delivered energy
    (:func:`session_delivered_kwh`), a deferrable load the run under way at ``now`` from
    the previous run's planned flags (``with_previous_plan``, flagged). Sources go into
    ``sources["soc"]``, ``sources["mtd_peak"]``, ``sources["demand_peaks"]`` and
    ``sources["ev"]`` under the
    site's name.

    Returns
    -------
    dict of str to object
        Asset name -> state in the engine's form (SOC float [kWh], grid array per month
        [kW], EV array per session [kWh], others their unit's initial state).
    """
    horizon = inputs.horizon
    states: dict[str, Any] = {}
    for asset in inputs.assets:
        u = unit(asset.kind)
        if not u.in_windows(asset):
            continue
        state = getattr(u, "job_initial_state", u.initial_state)(asset, horizon)
        bounds = u.measured_state(asset.spec)
        if bounds is not None:
            state, source = battery_soc_kwh(
                name, asset.name, bounds, telemetry, previous, final_soc, now, flags
            )
            sources.setdefault("soc", {}).setdefault(name, {})[asset.name] = (
                f"{state:.1f} kWh from {source}"
            )
        elif "grid_import" in u.roles:
            step = pd.Timedelta(hours=horizon.step_h)
            peak, source = mtd_peak_kw(name, telemetry, previous, now, step, flags)
            state = np.array(state, dtype=float)
            if len(state) and str(horizon.months[0]) == source["month"]:
                state[0] = peak
            sources.setdefault("mtd_peak", {})[name] = source
        elif hasattr(u, "metered_peak_kw"):
            step = pd.Timedelta(hours=horizon.step_h)
            grid = scenario.site.grid
            peak, source = demand_peak_kw(name, asset, grid, telemetry, previous, now, step, flags)
            same = u.billing_period(asset, horizon.index[0])[0] == source["period"]
            if peak is not None and same:
                state = u.with_measured_peak(asset, state, peak)
            sources.setdefault("demand_peaks", {}).setdefault(name, {})[asset.name] = source
        elif hasattr(u, "with_previous_plan"):  # a run under way at now (deferrable)
            entry = None if previous is None else previous.runs.get(name, {}).get(asset.name)
            state, said = u.with_previous_plan(asset, state, horizon, entry)
            if said is not None:
                where = f" (previous plan {previous.file})" if entry and previous else ""
                flags.append(f"site '{name}' load '{asset.name}'{where}: {said}")
        elif hasattr(u, "measured_given_kwh"):
            delivered = session_delivered_kwh(name, asset.name, telemetry, now, flags)
            state, unmatched = u.measured_given_kwh(asset, state, delivered)
            if unmatched:
                flags.append(
                    f"site '{name}' fleet '{asset.name}': ev-{name}.csv session(s) "
                    f"{', '.join(unmatched[:5])} are not connected at now in the sessions "
                    "file; ignored"
                )
            sources.setdefault("ev", {}).setdefault(name, {})[asset.name] = {
                "measured_sessions": sorted(set(delivered) - set(unmatched)),
                "others": "assumed given their share so far",
            }
        states[asset.name] = state
    return states
