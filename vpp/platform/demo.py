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

**The carbon-asset ledger's entries are ILLUSTRATIVE** (:func:`demo_ledger_entries`,
no enterprise's records): each ``reference`` starts with :data:`LEDGER_REFERENCE`. The
demo sites declare no green-power contract and no renewable target (their files leave
the yearly terms to the annual study), so there are no green-power deliveries, and the
biomedicine site's GEC certificates (bought and partly retired this year) are shown
without a need to compare them with; the electronics site stands for an enterprise
covered by the national carbon market (illustrative: the market does not cover
electronics): its allowances allocated and verified emissions of last year, and its
allocation of this year, compared with the platform's metered year to date.
:func:`load_demo_ledger` records them through the ledger's own checks and store, once:
a second start on the same database records none again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.platform.monitoring.compute import pv_channels

__all__ = [
    "DEMO_PARK",
    "FUEL_RATES",
    "LEDGER_REFERENCE",
    "OUTAGE",
    "DemoPark",
    "demo_ledger_entries",
    "demo_park_file",
    "load_demo",
    "load_demo_ledger",
]

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
#: How every demo ledger entry's ``reference`` begins.
LEDGER_REFERENCE = "demo (illustrative)"
#: Who recorded the demo's ledger entries (``recorded_by``; no key).
_LEDGER_RECORDER = "vpp serve --demo"


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
    ledger_entries: int = 0


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
    ledger = load_demo_ledger(platform, park.name, park.sites, now)
    _, key = create_key(platform.sessions, "operator", label="demo operator (vpp serve --demo)")
    first = list(info["sites"])[0]
    _, site_key = create_key(
        platform.sessions, "site", park=info["park"], site=first, label="demo site key"
    )
    return DemoPark(info["park"], list(info["sites"]), stored, status, key, first, site_key, ledger)


def demo_ledger_entries(year: int) -> list[tuple[str, dict[str, Any]]]:
    """The demo's carbon-ledger entries when the present year is ``year``: (site, body of
    :class:`~vpp.platform.carbon_ledger.kinds.EntryIn`). ILLUSTRATIVE numbers, sized to
    the demo sites' modelled year (electronics: about 16,800 MWh of load less PV at the
    grid factor of 0.531 kgCO2/kWh, 8,900 tCO2, and about 450 t of the demo's gas, 24 Nm3/h;
    biomedicine: about 17,900 MWh of load).

    - biomedicine: 2,000 GEC certificates bought this year (batch
      ``DEMO-GEC-A (illustrative)``, vintage last year, 5 CNY each) and 1,200 of them
      retired: 800 held.
    - electronics, last year: 9,000 t allocated, 9,350 t verified: 350 t short.
    - electronics, this year: 8,800 t allocated (against the metered year to date).
    """
    last, this = str(year - 1), str(year)
    ref = LEDGER_REFERENCE
    note = "ILLUSTRATIVE demo entry (vpp serve --demo), not an enterprise's record"
    return [
        (
            "biomedicine",
            {
                "kind": "certificate_purchase",
                "period": this,
                "certificates": 2000,
                "batch": "DEMO-GEC-A (illustrative)",
                "vintage": last,
                "price_cny_per_mwh": 5.0,
                "reference": f"{ref}: GEC purchase, batch DEMO-GEC-A",
                "note": note,
            },
        ),
        (
            "biomedicine",
            {
                "kind": "certificate_retirement",
                "period": this,
                "certificates": 1200,
                "batch": "DEMO-GEC-A (illustrative)",
                "vintage": last,
                "reference": f"{ref}: GEC retirement, batch DEMO-GEC-A",
                "note": note,
            },
        ),
        (
            "electronics",
            {
                "kind": "allowance_allocation",
                "period": last,
                "amount_t": 9000.0,
                "reference": f"{ref}: CEA allocation {last}",
                "note": note,
            },
        ),
        (
            "electronics",
            {
                "kind": "verified_emissions",
                "period": last,
                "amount_t": 9350.0,
                "reference": f"{ref}: verification report {last}",
                "note": note,
            },
        ),
        (
            "electronics",
            {
                "kind": "allowance_allocation",
                "period": this,
                "amount_t": 8800.0,
                "reference": f"{ref}: CEA allocation {this}",
                "note": note,
            },
        ),
    ]


def load_demo_ledger(
    platform: Any, park: str, scenarios: Mapping[str, Any], now: pd.Timestamp
) -> int:
    """Record :func:`demo_ledger_entries` of ``now``'s year through the ledger's checks
    (:func:`~vpp.platform.carbon_ledger.kinds.check_entry`) and store
    (:func:`~vpp.platform.carbon_ledger.store.record_entry`); an entry whose site already
    holds one in force of the same kind, period and reference is not recorded again.

    Parameters
    ----------
    platform : vpp.platform.Platform
        An open platform with the demo park registered.
    park : str
        The park's name.
    scenarios : mapping
        Site name -> its scenario (:attr:`vpp.portfolio.park.Park.sites`).
    now : pandas.Timestamp
        The present, zone-aware in the park's time zone (its year dates the entries).

    Returns
    -------
    int
        The entries recorded now (0 on a second start).

    An entry the ledger refuses, or one of a site the park does not have (a changed
    ``scenarios/park/`` in the working folder), is not recorded, and a line says so.
    """
    from vpp.platform.carbon_ledger.kinds import EntryIn, check_entry
    from vpp.platform.carbon_ledger.store import (
        LedgerRefused,
        in_force,
        load_entries,
        record_entry,
    )
    from vpp.platform.parks import list_sites

    ids = {ref.site: ref.site_id for ref in list_sites(platform.sessions, park)}
    held = load_entries(platform.sessions, ids.values())
    recorded = 0
    for site, body in demo_ledger_entries(now.year):
        if site not in ids or site not in scenarios:
            _not_recorded(body, f"the park has no site {site!r}")
            continue
        entry = EntryIn(**body)
        same = [
            e
            for e in in_force(held[ids[site]])
            if (e["kind"], e["period"], e["reference"])
            == (entry.kind, entry.period, entry.reference)
        ]
        if same:
            continue
        problems = check_entry(entry, scenarios[site].site)
        if problems:
            _not_recorded(body, f"{site}: {problems[0]['message']}")
            continue
        try:
            record_entry(platform.sessions, ids[site], entry, _LEDGER_RECORDER, platform.clock())
        except LedgerRefused as exc:
            _not_recorded(body, f"{site}: {exc}")
            continue
        recorded += 1
    return recorded


def _not_recorded(body: Mapping[str, Any], why: str) -> None:
    print(
        f"vpp serve --demo: the illustrative ledger entry {body['reference']!r} is not "
        f"recorded: {why}",
        flush=True,
    )


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


def demo_platform(db: Any, host: str, port: int) -> Any:
    """``vpp serve --demo``: open the platform (a fresh SQLite database under
    ``runs/demo/`` unless ``db``, a :class:`~vpp.platform.db_source.DbSource` of
    ``--db`` or ``--db-file``, is given), load the demo and print the URL and key."""
    import time

    from vpp.platform.service import Platform

    clock = time.perf_counter()
    root = Path("runs") / "demo"
    if db is None:
        root.mkdir(parents=True, exist_ok=True)
        for old in root.glob("platform.sqlite*"):
            old.unlink()
        platform = Platform.open(f"sqlite:///{root / 'platform.sqlite'}", source="--demo")
    else:
        platform = Platform.open(db.url, source=db.source)
    demo = load_demo(platform, root / "schedule")
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    print(
        f"vpp serve --demo: park {demo.park} ({', '.join(demo.sites)}), today's schedule "
        f"{demo.schedule_status}, {demo.readings:,} readings of DEMO telemetry "
        f"(synthesized from the sites' scenarios), {demo.ledger_entries} ILLUSTRATIVE "
        f"carbon-ledger entries in {time.perf_counter() - clock:.1f} s\n"
        f"  dashboard: http://{shown}:{port}/login\n"
        f"  API docs:  http://{shown}:{port}/docs\n"
        f"  demo site key ({demo.site} only):\n  {demo.site_key}\n"
        f"  demo operator key (log in with it; X-API-Key for the API):\n  {demo.operator_key}",
        flush=True,
    )
    return platform
