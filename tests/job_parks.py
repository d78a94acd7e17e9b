"""Small parks written to a tmp folder for the daily job's correctness tests.

Hourly, one or two sites, a constant-per-hour-of-day load from a series file (the
job's load forecast reads the scenario's own history up to ``now``: the same daily
pattern comes back), a TOU calendar, one battery, no PV unless asked. Every price and
power is chosen so that the plans can be worked out by hand (see each test module).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

TZ = "Asia/Shanghai"
#: The series files span these days (the load history the forecast reads, the windows).
SERIES_START = "2026-06-01"
SERIES_END = "2026-08-01"
#: A calendar period: (name, start "HH:MM", end "HH:MM").
Period = tuple[str, str, str]


def calendar(periods: Sequence[Period], prices: Mapping[str, float]) -> dict[str, Any]:
    """An inline TOU calendar, one season all year."""
    return {
        "calendar": {
            "seasons": [
                {
                    "name": "all",
                    "months": list(range(1, 13)),
                    "periods": [{"period": p, "start": a, "end": b} for p, a, b in periods],
                }
            ]
        },
        "prices_cny_per_kwh": {k: float(v) for k, v in prices.items()},
    }


def hourly_stamps() -> pd.DatetimeIndex:
    """The hourly labels of the series files (local time)."""
    return pd.date_range(SERIES_START, SERIES_END, freq="1h", inclusive="left", tz=TZ)


def write_site(
    folder: Path,
    name: str,
    load_by_hour_kw: Sequence[float],
    energy_price: Mapping[str, Any],
    *,
    bess: Mapping[str, Any] | None = None,
    grid: Mapping[str, Any] | None = None,
    pv_by_hour_kw: Sequence[float] | None = None,
    load_on_weekday_kw: Mapping[int, Sequence[float]] | None = None,
    load_until: str | None = None,
) -> Path:
    """A site file ``<folder>/<name>.yaml`` and its series (``<name>-load.csv``, PV).

    ``load_by_hour_kw`` (24 values) is the load at each local hour of every day [kW];
    ``load_on_weekday_kw`` replaces it on some weekdays (0 = Monday, 5 = Saturday) [kW].
    ``load_until`` (local time) ends the load file before it: a measured file that holds
    the history up to then and no later row.
    """
    assert len(load_by_hour_kw) == 24
    stamps = hourly_stamps()
    by_day = {d: list(v) for d, v in (load_on_weekday_kw or {}).items()}
    assert all(len(v) == 24 for v in by_day.values())
    frame = pd.DataFrame(
        {
            "timestamp": [t.isoformat() for t in stamps],
            "load_kw": [float(by_day.get(t.weekday(), load_by_hour_kw)[t.hour]) for t in stamps],
        }
    )
    hours = stamps.hour.to_numpy()
    if load_until is not None:
        frame = frame[stamps < pd.Timestamp(load_until, tz=TZ)]
    frame.to_csv(folder / f"{name}-load.csv", index=False)
    grid_entry: dict[str, Any] = {
        "energy_price": dict(energy_price),
        "export_price_cny_per_kwh": 0.0,
        "export_limit_kw": 0.0,
    }
    grid_entry.update(grid or {})
    site: dict[str, Any] = {
        "name": name,
        "load": {"series": {"file": f"{name}-load.csv", "column": "load_kw"}},
        "grid": grid_entry,
    }
    if pv_by_hour_kw is not None:
        pv = pd.DataFrame(
            {
                "timestamp": [t.isoformat() for t in stamps],
                "pv_kw": [float(pv_by_hour_kw[h]) for h in hours],
            }
        )
        pv.to_csv(folder / f"{name}-pv.csv", index=False)
        series = {"file": f"{name}-pv.csv", "column": "pv_kw"}
        site["pv"] = [{"kind": "profile", "name": "roof", "series": series}]
    if bess is not None:
        site["batteries"] = [
            {
                "name": "bess",
                "soc_min_fraction": 0.0,
                "soc_max_fraction": 1.0,
                "throughput_cost_cny_per_kwh": 0.0,
                **bess,
            }
        ]
    data = {
        "name": name,
        "horizon": {"start": "2026-07-15", "days": 1, "step": "1h"},
        "site": site,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_park(
    folder: Path,
    sites: Sequence[Path],
    *,
    events: Sequence[Mapping[str, Any]] = (),
    name: str = "small-park",
) -> Path:
    """A park file ``<folder>/park.yaml`` over ``sites`` (hourly, Asia/Shanghai)."""
    data: dict[str, Any] = {
        "name": name,
        "timezone": TZ,
        "horizon": {"start": "2026-07-15", "days": 1, "step": "1h"},
        "sites": [{"file": Path(s).name} for s in sites],
    }
    if events:
        data["revenue_sharing"] = "delivered"
        data["demand_response"] = [dict(e) for e in events]
    path = folder / "park.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_rows(path: Path, header: str, rows: Sequence[str]) -> Path:
    """A telemetry CSV: its header line and rows, as text (bad rows written as they are)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


#: The target date of the job tests' runs.
DATE = "2026-07-16"
#: The header of ``soc.csv``.
SOC_HEADER = "site,battery,timestamp,soc_kwh"

#: The evening park of the intraday and review tests: a flat 100 kW day with a 140 kW
#: evening and a battery that covers it from the peak price (hand-worked there) [kW].
EVENING_LOAD_KW = [0.0] * 8 + [100.0] * 10 + [140.0] * 4 + [100.0] * 2
EVENING_PRICES = calendar(
    [
        ("valley", "00:00", "08:00"),
        ("flat", "08:00", "18:00"),
        ("peak", "18:00", "22:00"),
        ("shoulder", "22:00", "24:00"),
    ],
    {"valley": 0.30, "flat": 0.70, "peak": 1.20, "shoulder": 0.32},
)
EVENING_BESS = {
    "energy_kwh": 200.0,
    "charge_power_kw": 50.0,
    "discharge_power_kw": 50.0,
    "charge_efficiency": 0.9,
    "discharge_efficiency": 1.0,
    "soc_initial_fraction": 0.5,
    "final_soc": "at_least_initial",
}


def write_soc(folder: Path, stamp: str, kwh: float, site: str = "plant") -> Path:
    """``folder/soc.csv`` with one reading of the site's ``bess`` at ``stamp`` (a local
    time without an offset is read in :data:`TZ`) [kWh]; returns the folder."""
    moment = pd.Timestamp(stamp)
    moment = moment.tz_localize(TZ) if moment.tz is None else moment
    write_rows(folder / "soc.csv", SOC_HEADER, [f"{site},bess,{moment.isoformat()},{kwh}"])
    return folder


def schedule_cli(park: Path, out: Path, now: str, telemetry: Path, *, date: str = DATE) -> int:
    """``vpp schedule PARK --date DATE --now NOW --out OUT --telemetry DIR`` through the
    command line; its exit code."""
    import vpp.cli

    argv = ["schedule", str(park), "--date", date, "--now", now, "--out", str(out)]
    return vpp.cli.main([*argv, "--telemetry", str(telemetry)])


def run_ok(
    park: Path, out: Path, now: str, telemetry: Path | None, *, date: str = DATE, **kw: Any
) -> Any:
    """``vpp schedule`` for ``date`` without forecast files; asserts it planned."""
    from vpp.jobs.schedule import run_schedule

    outcome = run_schedule(
        park, date, out_dir=out, forecasts_dir=None, telemetry_dir=telemetry, now=now, **kw
    )
    assert outcome.status == "ok", outcome.summary.get("failure")
    return outcome


def read_frame(path: Path) -> pd.DataFrame:
    """A schedule CSV indexed by its timestamps."""
    frame = pd.read_csv(path)
    frame.index = pd.to_datetime(frame.pop("timestamp"), format="ISO8601")
    return frame
