"""What a run of the job publishes from its window's plan.

The window (:mod:`vpp.jobs.window`) holds the rest of today, the target day and the
look-ahead. From each site's schedule over the window (:func:`window_schedules`):

- the **target day** (``schedule.csv``) and the **revised rest of today**
  (``today.csv``) are cut out (:func:`split`); the look-ahead past the target day is not
  published (it is planned again by the next run);
- the state carried to the next run (``state.json``, :func:`carried_state`): every
  battery's planned state of charge at every step of the window, and each site's
  month-to-date peak import as the plan expects it, so that a run whose telemetry is
  stale or missing starts from this plan at its own ``now``
  (:func:`vpp.jobs.states.read_previous_plan`), and each demand charge's billed peak so
  far with the quantity the plan bills in that billing period (:func:`demand_state`);
- the state at the end of the target day (``final_soc.json``);
- per site the target day's energy, cost and peak (:func:`site_figures`), and per event
  the offer and its expected settlement on the plan (:func:`expected_settlement`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.model import extract
from vpp.operation.park_window import ParkPlan
from vpp.timeseries import Horizon


def window_schedules(
    plan: ParkPlan, inputs: dict[str, Any], horizon: Horizon
) -> dict[str, pd.DataFrame]:
    """Each site's schedule over the window: its input series (forecasts in) and the
    solved dispatch (:func:`vpp.model.extract`)."""
    out = {}
    for name, (block, result) in plan.solved.items():
        solved = extract(block, result, horizon)
        frame = pd.concat([inputs[name].series, solved.schedule], axis=1)
        frame.index.name = "timestamp"
        out[name] = frame
    return out


def split(
    frames: dict[str, pd.DataFrame], day_start: pd.Timestamp, day_end: pd.Timestamp
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The frames cut into the target day ``[day_start, day_end)`` and the rest of today
    before it (empty frames for an intraday run)."""
    target, today = {}, {}
    for name, frame in frames.items():
        index = frame.index
        target[name] = frame[(index >= day_start) & (index < day_end)]
        today[name] = frame[index < day_start]
    return target, today


def storage_names(inputs: Any) -> list[str]:
    """The site's assets with a measured state of charge (batteries), by name."""
    return [a.name for a in inputs.assets if unit(a.kind).measured_state(a.spec) is not None]


def soc_path(plan: ParkPlan, name: str, battery: str, horizon: Horizon) -> pd.Series:
    """A battery's planned state of charge at every step's start and at the window's end
    [kWh]."""
    values = np.asarray(plan.plans[name][f"{battery}_soc_kwh"], float)
    stamps = horizon.index.append(pd.DatetimeIndex([horizon.index[-1] + horizon.index.freq]))
    return pd.Series(values[: len(stamps)], index=stamps[: len(values)])


def soc_at(path: pd.Series, moment: pd.Timestamp) -> float:
    """The planned state at ``moment`` (its last point if the plan ends before) [kWh]."""
    held = path[path.index <= moment]
    return float(held.iloc[-1] if len(held) else path.iloc[0])


def carried_state(
    plan: ParkPlan,
    inputs: dict[str, Any],
    horizon: Horizon,
    now: pd.Timestamp,
    mtd_peak_kw: dict[str, float],
    demand_peaks: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``state.json``: the plan's states for the next run (module docstring).

    The month-to-date peak is the one measured at ``now`` (``value``) with the planned
    import of the window's steps in ``now``'s month (``planned_import_kw``, by step start)
    [kW]: the next run counts only the steps before its own ``now``
    (:func:`vpp.jobs.states.mtd_peak_kw`), not imports still to come.
    """
    soc = {
        name: {b: soc_path(plan, name, b, horizon) for b in storage_names(site)}
        for name, site in inputs.items()
    }
    imports = {
        name: np.asarray(plan.plans[name].get("grid_import_kw", []), float) for name in inputs
    }
    runs = {
        name: planned_runs(site, plan.plans[name], horizon.index) for name, site in inputs.items()
    }
    return state_document(now, horizon.index, soc, imports, mtd_peak_kw, demand_peaks, runs)


def planned_runs(
    site: Any, columns: Any, index: pd.DatetimeIndex
) -> dict[str, dict[str, dict[str, float]]]:
    """A site's ``runs`` of ``state.json``: each unit with runs that span two runs of the
    job (a deferrable load: :meth:`~vpp.assets.deferrable.job.DeferrableJob.plan_state`),
    its planned flags by step start [0/1]."""
    out = {}
    for asset in site.assets:
        u = unit(asset.kind)
        entry = u.plan_state(asset, columns, index) if hasattr(u, "plan_state") else None
        if entry is not None:
            out[asset.name] = entry
    return out


def demand_state(
    frames: dict[str, pd.DataFrame],
    inputs: dict[str, Any],
    peaks: dict[str, dict[str, tuple[str, float]]],
) -> dict[str, dict[str, Any]]:
    """Each site's ``demand_peaks_kw`` of ``state.json``: per demand charge its billing
    period, its billed peak so far at ``now`` (``peaks``: site -> charge -> (period,
    value) [kW]) and the quantity the schedule (``frames``, over the inputs' horizon)
    bills at each step in its window in that period (``planned_kw`` by step start, [kW];
    :meth:`~vpp.assets.demand_charge.operation.DemandChargeOperation.planned_quantity_kw`):
    the next run counts only the steps before its own ``now``."""
    out: dict[str, dict[str, Any]] = {}
    for name, site in inputs.items():
        frame = frames.get(name)
        for asset in site.assets:
            u = unit(asset.kind)
            if asset.name not in peaks.get(name, {}) or not hasattr(u, "planned_quantity_kw"):
                continue
            period, value = peaks[name][asset.name]
            planned: dict[str, float] = {}
            if frame is not None and len(frame):
                zeros = pd.Series(0.0, index=frame.index)
                quantity = u.planned_quantity_kw(
                    asset,
                    frame.get("grid_import_kw", zeros).to_numpy(float),
                    frame.get("grid_export_kw", zeros).to_numpy(float),
                )
                if u.billing_period(asset, frame.index[0])[0] == period:
                    planned = {
                        t.isoformat(): float(q)
                        for t, q in zip(frame.index, quantity)
                        if np.isfinite(q)
                    }
            out.setdefault(name, {})[asset.name] = {
                "period": period,
                "value": float(value),
                "planned_kw": planned,
            }
    return out


def state_document(
    now: pd.Timestamp,
    index: pd.DatetimeIndex,
    soc_kwh: dict[str, dict[str, pd.Series]],
    import_kw: dict[str, np.ndarray],
    mtd_peak_kw: dict[str, float],
    demand_peaks: dict[str, dict[str, Any]] | None = None,
    runs: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``state.json`` from each site's planned states of charge (by time, [kWh]) and
    planned import on ``index`` [kW] (a plan's or a fallback schedule's), with its demand
    charges' ``demand_peaks`` (:func:`demand_state`) and its deferrable loads' planned
    flags (``runs``, :func:`planned_runs`)."""
    month = now.strftime("%Y-%m")
    in_month = np.asarray([t.strftime("%Y-%m") == month for t in index])
    sites: dict[str, Any] = {}
    for name, planned in import_kw.items():
        entry: dict[str, Any] = {
            "soc_kwh": {
                b: {t.isoformat(): float(v) for t, v in path.items()}
                for b, path in soc_kwh.get(name, {}).items()
            }
        }
        steps = [(t, v) for t, v, m in zip(index, planned, in_month) if m]
        entry["mtd_peak_kw"] = {
            "month": month,
            "value": float(mtd_peak_kw.get(name, 0.0)),
            "planned_import_kw": {t.isoformat(): float(v) for t, v in steps},
        }
        if (demand_peaks or {}).get(name):
            entry["demand_peaks_kw"] = demand_peaks[name]
        if (runs or {}).get(name):
            entry["runs"] = runs[name]
        sites[name] = entry
    return {"now": now.isoformat(), "sites": sites}


def frames_state(
    frames: dict[str, pd.DataFrame],
    inputs: dict[str, Any],
    finals: dict[str, dict[str, float]],
    now: pd.Timestamp,
    mtd_peak_kw: dict[str, float],
    demand_peaks: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``state.json`` of schedules given as frames over the window (a fallback's): each
    battery's ``<b>_soc_kwh`` at every step and ``finals`` at the window's end [kWh]."""
    soc: dict[str, dict[str, pd.Series]] = {}
    imports: dict[str, np.ndarray] = {}
    for name, frame in frames.items():
        index = frame.index
        end = index[-1] + (index[1] - index[0] if len(index) > 1 else pd.Timedelta(minutes=15))
        for b in storage_names(inputs[name]):
            column = f"{b}_soc_kwh"
            if column in frame and b in finals.get(name, {}):
                values = [*frame[column].to_numpy(float), finals[name][b]]
                soc.setdefault(name, {})[b] = pd.Series(
                    values, index=index.append(pd.DatetimeIndex([end]))
                )
        imports[name] = frame["grid_import_kw"].to_numpy(float)
    first = next(iter(frames.values())).index if frames else pd.DatetimeIndex([])
    runs = {name: planned_runs(inputs[name], frame, frame.index) for name, frame in frames.items()}
    return state_document(now, first, soc, imports, mtd_peak_kw, demand_peaks, runs)


def final_states(
    plan: ParkPlan, inputs: dict[str, Any], horizon: Horizon, day_end: pd.Timestamp
) -> dict[str, dict[str, float]]:
    """Each battery's planned state at the end of the target day [kWh]."""
    out: dict[str, dict[str, float]] = {}
    for name, site in inputs.items():
        for battery in storage_names(site):
            path = soc_path(plan, name, battery, horizon)
            out.setdefault(name, {})[battery] = soc_at(path, day_end)
    return out


def site_figures(frame: pd.DataFrame, step_h: float) -> dict[str, float]:
    """A site's planned energy, cost and peak over ``frame``'s steps.

    ``energy_cost_cny`` is the import at the step's price less the export at the export
    price [CNY]; the basic charge is monthly and not part of a day's figure.
    """
    if frame.empty:
        return {"import_kwh": 0.0, "export_kwh": 0.0, "energy_cost_cny": 0.0, "peak_import_kw": 0.0}
    imp = frame["grid_import_kw"].to_numpy(float)
    exp = frame["grid_export_kw"].to_numpy(float)
    price = frame["price_cny_per_kwh"].to_numpy(float)
    export_price = (
        frame["export_price_cny_per_kwh"].to_numpy(float)
        if "export_price_cny_per_kwh" in frame
        else np.zeros(len(frame))
    )
    return {
        "import_kwh": float(imp.sum() * step_h),
        "export_kwh": float(exp.sum() * step_h),
        "energy_cost_cny": float((imp * price - exp * export_price).sum() * step_h),
        "peak_import_kw": float(imp.max()),
    }


def expected_settlement(
    plan: ParkPlan, frames: dict[str, pd.DataFrame], horizon: Horizon, sharing: str
) -> list[dict[str, Any]]:
    """Each event of the window: the offer, and its settlement and sharing among the
    sites (``sharing``: the park's ``revenue_sharing``) if the plan is what the meters
    read (:func:`vpp.portfolio.dr.settle_event`, :func:`vpp.portfolio.dr.share_payment`)."""
    from vpp.portfolio.dr import settle_event, share_payment

    out = []
    for ev in plan.events:
        name = ev.event.name
        offered = float(plan.offers_kw.get(name, 0.0))
        steps = ev.steps
        by_site = {
            n: (f["grid_import_kw"] - f["grid_export_kw"]).to_numpy(float)[steps]
            for n, f in frames.items()
        }
        delivered = {n: float(ev.baseline_kw[n].mean() - v.mean()) for n, v in by_site.items()}
        if ev.event.kind == "valley_filling":
            delivered = {n: -v for n, v in delivered.items()}
        baseline = sum(ev.baseline_kw.values())
        metered = sum(by_site.values())
        if offered > 0.0:
            settled = settle_event(baseline, metered, offered, ev.event)
        else:
            settled = {"offered_kw": 0.0, "paid_kw": 0.0, "payment_cny": 0.0, "note": "no offer"}
        capacity = {
            n: float(np.max(f["grid_import_kw"].to_numpy(float))) for n, f in frames.items()
        }
        shares = share_payment(
            settled["payment_cny"], delivered, sharing, capacity_kw_by_site=capacity
        )
        out.append(
            {
                "name": name,
                "date": horizon.index[steps[0]].strftime("%Y-%m-%d"),
                "kind": ev.event.kind,
                "start": horizon.index[steps[0]].isoformat(),
                "end": (horizon.index[steps[-1]] + horizon.index.freq).isoformat(),
                "requested_kw": float(ev.event.requested_kw),
                "offered_kw": offered,
                "joined": name in plan.joined,
                "payment_cny_per_kw": float(ev.rate_cny_per_kw),
                "baseline_days": ev.baseline_days,
                "baseline_kw": float(np.mean(baseline)),
                "planned_kw": float(np.mean(metered)),
                "delivered_kw_by_site": delivered,
                "settlement": {**settled, "expected": True},
                "payment_by_site_cny": shares,
            }
        )
    return out
