"""``vpp serve --demo``: the demo park on the platform, with a week of demo telemetry.

:func:`load_demo` registers ``scenarios/park/xushuguan-park.yaml``, runs the park's
daily job for today (:func:`vpp.jobs.schedule.run_schedule`, planned at 15:00 the day
before, as cron would) and stores its schedules, then stores synthesized telemetry
from local midnight seven days ago up to the present step, and creates an operator
key.

**The telemetry is demo data**, made from each site's own scenario models on those
days (:func:`vpp.inputs.build_inputs`: the synthetic load profile and the arrays'
modelled PV): the load with a small random wander (seeded), the PV scaled by a daily
cloudiness drawn at random, the grid import and export as their balance (today: the
plan's import, moved by the load's and PV's deviation from the plan, so the battery
follows its schedule), a state of charge from today's plan, and gas, heat and diesel at
illustrative constant rates per site (:data:`FUEL_RATES`); earlier days' states of
charge repeat today's planned cycle. One meter outage
(:data:`OUTAGE`) leaves a gap to see on the telemetry-gaps page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.platform.monitoring.compute import pv_channels

__all__ = ["DEMO_PARK", "FUEL_RATES", "OUTAGE", "DemoPark", "demo_park_file", "load_demo"]

DEMO_PARK = Path("scenarios") / "park" / "xushuguan-park.yaml"
#: Demo fuel use per 15-minute step by site [Nm3, GJ or t per step] (illustrative).
FUEL_RATES = {
    "biomedicine": {"natural_gas_nm3": 32.0, "heat_gj": 1.1},
    "electronics": {"natural_gas_nm3": 6.0},
    "logistics": {"diesel_t": 0.004},
}
#: The demo's meter outage: site, channel, days before today, local start hour, hours.
OUTAGE = ("rnd-offices", "load_kw", 2, 10, 3)
#: Days of telemetry before today [d].
DAYS = 7
_SEED = 20260715


@dataclass(frozen=True)
class DemoPark:
    """What :func:`load_demo` stored: the park, its sites, the schedule run and the key."""

    park: str
    sites: list[str]
    readings: int
    schedule_status: str
    operator_key: str
    site: str
    site_key: str


def demo_park_file() -> Path:
    """The demo park: ``scenarios/`` in the working folder, else in the source tree."""
    if DEMO_PARK.is_file():
        return DEMO_PARK.resolve()
    return Path(__file__).resolve().parents[2] / DEMO_PARK


def load_demo(platform: Any, out_dir: str | Path) -> DemoPark:
    """Register the demo park, store today's schedule and a week of demo telemetry.

    Parameters
    ----------
    platform : vpp.platform.Platform
        An open platform (its clock is the present).
    out_dir : str or pathlib.Path
        Where the daily job writes (``<out>/<date>/``).
    """
    from vpp.jobs.schedule import run_schedule
    from vpp.platform.keys import create_key
    from vpp.platform.parks import register_park
    from vpp.platform.refusals import ReadingConflict
    from vpp.portfolio.park import load_park

    file = demo_park_file()
    info = register_park(platform.sessions, file)
    park = load_park(file)
    tz = str(park.spec.timezone)
    now = pd.Timestamp(platform.clock()).tz_convert(tz)
    today = now.date()
    planned_at = pd.Timestamp(today - dt.timedelta(days=1)).tz_localize(tz) + pd.Timedelta(hours=15)
    outcome = run_schedule(
        file,
        today.isoformat(),
        out_dir=out_dir,
        forecasts_dir=None,
        now=planned_at.isoformat(),
    )
    status = str(getattr(outcome, "status", "ok"))
    day_folder = Path(out_dir) / today.isoformat()
    if (day_folder / "summary.json").is_file():
        platform.record_day_folder(day_folder, run_id=str(getattr(outcome, "run_id", "")) or None)
    stored = 0
    rng = np.random.default_rng(_SEED)
    for name, scenario in park.sites.items():
        plan = platform.schedule_table(park.name, name, today)
        rows = _site_readings(name, scenario, plan, now, rng)
        for start in range(0, len(rows), 20_000):
            try:
                batch = platform.store_readings(park.name, name, rows[start : start + 20_000])
            except ReadingConflict as exc:  # a database that already holds other demo data
                print(
                    f"vpp serve --demo: {name}: {len(exc.conflicts)} reading(s) already stored "
                    "with other values; that batch is kept as it was",
                    flush=True,
                )
                continue
            stored += batch.stored
    _, key = create_key(platform.sessions, "operator", label="demo operator (vpp serve --demo)")
    first = list(info["sites"])[0]
    _, site_key = create_key(
        platform.sessions, "site", park=info["park"], site=first, label="demo site key"
    )
    return DemoPark(info["park"], list(info["sites"]), stored, status, key, first, site_key)


def _site_readings(
    name: str, scenario: Any, plan: pd.DataFrame | None, now: pd.Timestamp, rng: Any
) -> list[dict[str, Any]]:
    """The site's demo readings (module docstring) up to the last ended step."""
    from vpp.inputs.site import build_inputs
    from vpp.timeseries import Horizon

    tz = str(now.tz)
    today = now.date()
    first = today - dt.timedelta(days=DAYS)
    horizon = Horizon.from_bounds(
        dt.datetime.combine(first, dt.time()), days=DAYS + 1, step_minutes=15, timezone=tz
    )
    series = build_inputs(scenario, horizon).series
    index = series.index
    n = len(index)
    step_h = 0.25
    wander = np.cumsum(rng.normal(0.0, 0.01, n))
    wander = wander - np.convolve(wander, np.ones(97) / 97, mode="same")
    load = series["load_kw"].to_numpy(dtype=float) * (1.0 + np.clip(wander, -0.08, 0.08))
    day_of = (index.normalize() - index[0].normalize()).days.to_numpy()
    clouds = rng.uniform(0.55, 1.0, DAYS + 2)[day_of]
    pv = {}
    for channel in pv_channels(scenario.site):
        available = channel.removesuffix("_pv_kw") + "_available_kw"
        if available in series:
            pv[channel] = series[available].to_numpy(dtype=float) * clouds
    pv_total = sum(pv.values(), np.zeros(n))
    net = load - pv_total
    channels: dict[str, np.ndarray] = {"load_kw": load, **pv}
    imp = np.maximum(net, 0.0)
    exp = np.maximum(-net, 0.0)
    if plan is not None:
        table = plan.copy()
        table.index = pd.DatetimeIndex(pd.to_datetime(table.index)).tz_convert(tz)
        table = table.reindex(index)
        planned = np.isfinite(table["grid_import_kw"].to_numpy(dtype=float))
        plan_pv = table[[c for c in pv if c in table]].sum(axis=1).to_numpy(dtype=float)
        # today the arrays follow the plan's PV with a little haze (the plan used clear sky)
        haze = np.clip(1.0 - np.abs(rng.normal(0.0, 0.06, n)), 0.8, 1.0)
        for c in pv:
            if c in table:
                plan_c = table[c].to_numpy(dtype=float)
                pv[c] = np.where(planned, plan_c * haze, pv[c])
                channels[c] = pv[c]
        pv_total = sum(pv.values(), np.zeros(n))
        moved = (
            table["grid_import_kw"].to_numpy(dtype=float)
            - table["grid_export_kw"].to_numpy(dtype=float)
            + (load - table["load_kw"].to_numpy(dtype=float))
            - (pv_total - plan_pv)
        )
        imp = np.where(planned, np.maximum(moved, 0.0), imp)
        exp = np.where(planned, np.maximum(-moved, 0.0), exp)
        for column in table.columns:
            if column.endswith("_soc_kwh"):  # today's plan; earlier days the same cycle
                soc = table[column].to_numpy(dtype=float)
                day = soc[planned][:96]
                if len(day) == 96:
                    soc = np.where(planned, soc, np.resize(day, n))
                drift = np.cumsum(rng.normal(0.0, 0.004, n)) * np.nanmax(soc)
                top = np.nanmax(soc)  # the plan keeps within the limits; so does the demo
                channels[column] = np.clip(soc + np.clip(drift, -40.0, 40.0), np.nanmin(soc), top)
    channels["import_kw"] = imp
    channels["export_kw"] = exp
    for channel, rate in FUEL_RATES.get(name, {}).items():
        channels[channel] = rate * rng.uniform(0.85, 1.15, n)
    ended = np.asarray(index + pd.Timedelta(hours=step_h) <= now, dtype=bool)
    site, channel, days_ago, hour, hours = OUTAGE
    outage_start = pd.Timestamp(today - dt.timedelta(days=days_ago)).tz_localize(tz)
    outage_start += pd.Timedelta(hours=hour)
    stamps = [t.isoformat() for t in index]
    rows = []
    for column, values in channels.items():
        keep = ended & np.isfinite(values)
        if name == site and column == channel:
            keep &= ~np.asarray(
                (index >= outage_start) & (index < outage_start + pd.Timedelta(hours=hours))
            )
        for i in np.flatnonzero(keep):
            rows.append(
                {"channel": column, "timestamp": stamps[i], "value": round(float(values[i]), 4)}
            )
    return rows


def demo_platform(db: str | None, host: str, port: int) -> Any:
    """``vpp serve --demo``: open the platform (a fresh SQLite database under
    ``runs/demo/`` unless ``db`` is given), load the demo and print the URL and key."""
    import time

    from vpp.platform.service import Platform

    clock = time.perf_counter()
    root = Path("runs") / "demo"
    if db is None:
        root.mkdir(parents=True, exist_ok=True)
        for old in root.glob("platform.sqlite*"):
            old.unlink()
        db = f"sqlite:///{root / 'platform.sqlite'}"
    platform = Platform.open(db)
    demo = load_demo(platform, root / "schedule")
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    print(
        f"vpp serve --demo: park {demo.park} ({', '.join(demo.sites)}), today's schedule "
        f"{demo.schedule_status}, {demo.readings:,} readings of DEMO telemetry "
        f"(synthesized from the sites' scenarios) in {time.perf_counter() - clock:.1f} s\n"
        f"  dashboard: http://{shown}:{port}/login\n"
        f"  API docs:  http://{shown}:{port}/docs\n"
        f"  demo site key ({demo.site} only):\n  {demo.site_key}\n"
        f"  demo operator key (log in with it; X-API-Key for the API):\n  {demo.operator_key}",
        flush=True,
    )
    return platform
