"""What the daily job feeds the park: forecasts, measured states, notices, and their sources.

Every choice is recorded in a ``sources`` dict that goes into the day's ``summary.json``:
which forecast file each site's PV came from (or which fallback and why), where each
battery's initial state came from, and which demand-response notices applied.

PV, per site with weather-driven arrays (``rooftop``, ``carport``):

1. the latest weather-forecast file of the forecasts folder issued at or before ``now``
   whose period covers the whole day and that was issued at most ``max_age_h`` before
   the day starts, through the solar forecast path (:func:`vpp.solar.forecast.pv_forecast_kw`);
2. else **clear-sky index persistence**: the clear-sky index of the site's measured PV
   over the 24 h before ``now`` (telemetry file ``pv-<site>.csv``) times the arrays' clear
   sky (:func:`vpp.solar.forecast_evaluation.clearsky_index_persistence_kw`);
3. else **clear sky** (optimistic: flagged).

A forecast file that cannot be read is skipped and named in the flags. Arrays given as a
series keep their series. Load: the 4-week same-day-type profile of the site's load
history (:func:`vpp.sim.load_forecast.profile_forecast`). Battery state: the latest
telemetry row (``soc.csv``: ``site,battery,timestamp,soc_kwh``) at or before ``now`` (the
job cannot read the future), else the previous day's run (``final_soc.json``), else the
scenario's initial state;
a telemetry value outside the battery's bounds is clipped to them and flagged (a meter a
little off should not stop the day's plan; the flag lets operators check it).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.errors import VppError
from vpp.scenario.schema import CarportPV, RooftopPV, Scenario
from vpp.sim.inputs import SiteInputs
from vpp.sim.load_forecast import profile_forecast

#: Largest age of a forecast at the start of the day it is used for [h].
MAX_FORECAST_AGE_H = 36.0
#: Weeks of load history the load forecast averages [weeks].
PROFILE_WEEKS = 4


def pv_forecast(
    name: str,
    scenario: Scenario,
    index: pd.DatetimeIndex,
    forecasts: list[Any],
    problems: list[str],
    telemetry_dir: Path | None,
    now: pd.Timestamp,
    max_age_h: float = MAX_FORECAST_AGE_H,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """PV forecast per modelled array of one site on the day, and where it came from."""
    from vpp.solar.forecast import array_column, pv_forecast_kw

    arrays = [a for a in scenario.site.pv if isinstance(a, (RooftopPV, CarportPV))]
    if not arrays:
        return {}, {"method": "none (no weather-driven arrays)"}
    start, end = index[0], index[-1] + pd.Timedelta(index.freq)
    usable = [
        f for f in forecasts
        if f.issued_at <= now and f.start <= start and f.end >= end
        and (start - f.issued_at) <= pd.Timedelta(hours=max_age_h)
    ]  # fmt: skip
    if usable:
        chosen = max(usable, key=lambda f: f.issued_at)
        frame = pv_forecast_kw(scenario, chosen, index=index, where=str(chosen.path))
        return (
            {a.name: frame[array_column(a.name)].to_numpy() for a in arrays},
            {"method": "forecast", "file": Path(chosen.path).name,
             "issued_at": chosen.issued_at.isoformat()},
        )  # fmt: skip
    why = f"no forecast file issued by {now.isoformat()} covers the day within {max_age_h:g} h"
    from vpp.solar.forecast_evaluation import clearsky_index_persistence_kw, clearsky_pv_kw

    window = pd.date_range(now - pd.Timedelta(days=1), end, freq=index.freq, inclusive="left")
    clear = clearsky_pv_kw(scenario, window)
    measured = _measured_pv(name, telemetry_dir, index.freq)
    if measured is not None:
        out = {}
        for a in arrays:
            col = array_column(a.name)
            if col not in measured:
                break
            series = measured[col].asfreq(index.freq)
            out[a.name] = np.nan_to_num(
                clearsky_index_persistence_kw(series, clear[col], index, now), nan=0.0
            )
        else:
            return out, {"method": "clear-sky index persistence", "why": why, "flag": True,
                         "measured": f"pv-{name}.csv"}  # fmt: skip
    sky = clear.reindex(index)
    return (
        {a.name: sky[array_column(a.name)].to_numpy() for a in arrays},
        {"method": "clear sky", "why": why + "; no measured PV for clear-sky index persistence",
         "flag": True},
    )  # fmt: skip


def _read_telemetry(path: Path, columns: tuple[str, ...], allowed: str) -> pd.DataFrame:
    """A telemetry CSV with a ``timestamp`` column (ISO 8601 with offset).

    Raises
    ------
    DataError
        Unreadable file, missing columns or timestamps that do not parse (named).
    """
    from vpp.errors import DataError, Problem

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataError(Problem(f"telemetry file cannot be read: {exc}", file=str(path),
                                allowed=allowed)) from None  # fmt: skip
    missing = [c for c in ("timestamp", *columns) if c not in frame.columns]
    if missing:
        raise DataError(Problem("telemetry file lacks columns", file=str(path),
                                key=", ".join(missing), value=f"columns {list(frame.columns)}",
                                allowed=allowed))  # fmt: skip
    stamps = pd.to_datetime(frame["timestamp"], format="ISO8601", errors="coerce", utc=True)
    bad = stamps.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        example = "2026-07-15T14:45:00+08:00"
        raise DataError(Problem("telemetry timestamp does not parse", file=str(path),
                                key=f"row {row + 2}, column timestamp",
                                value=repr(frame["timestamp"].iloc[row]),
                                allowed=f"ISO 8601 with its offset, e.g. {example}"))  # fmt: skip
    frame["timestamp"] = stamps
    return frame


def _measured_pv(name: str, folder: Path | None, freq: Any) -> pd.DataFrame | None:
    path = None if folder is None else folder / f"pv-{name}.csv"
    if path is None or not path.is_file():
        return None
    frame = _read_telemetry(path, (), "timestamp, then <array>_pv_kw columns [kW]")
    return frame.set_index(pd.DatetimeIndex(frame.pop("timestamp")))


def load_forecast(scenario: Scenario, inputs: SiteInputs) -> tuple[np.ndarray, dict[str, Any]]:
    """The site's load on the day: the 4-week same-day-type profile of its history [kW]."""
    from vpp.portfolio.park import metered_history_kw

    index = inputs.horizon.index
    days = 7 * PROFILE_WEEKS + 1
    history = metered_history_kw(scenario, index[0], days, load_only=True)
    values = profile_forecast(history, index[0], index, weeks=PROFILE_WEEKS)
    return values, {"method": f"{PROFILE_WEEKS}-week same-day-type profile",
                    "history_from": str(history.index[0])}  # fmt: skip


def initial_soc(
    name: str,
    scenario: Scenario,
    now: pd.Timestamp,
    telemetry_dir: Path | None,
    previous: dict[str, dict[str, float]] | None,
    flags: list[str],
) -> tuple[dict[str, float], dict[str, str]]:
    """Each battery's state at the day's start [kWh], and where it came from."""
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    rows = _telemetry_soc(telemetry_dir)
    for b in scenario.site.batteries:
        lo, hi = b.soc_min_fraction * b.energy_kwh, b.soc_max_fraction * b.energy_kwh
        found = None
        if rows is not None:
            mine = rows[(rows["site"] == name) & (rows["battery"] == b.name)]
            mine = mine[mine["timestamp"] <= now]
            if len(mine):
                last = mine.sort_values("timestamp").iloc[-1]
                found = (float(last["soc_kwh"]), f"telemetry soc.csv at {last['timestamp']}")
        if found is None and previous and b.name in previous.get(name, {}):
            found = (float(previous[name][b.name]), "previous day's run (final_soc.json)")
        if found is None:
            found = (b.soc_initial_fraction * b.energy_kwh, "scenario initial state")
        value, source = found
        if not lo - 1e-9 <= value <= hi + 1e-9:
            clipped = min(max(value, lo), hi)
            flags.append(
                f"site '{name}' battery '{b.name}': state {value:.1f} kWh from {source} is "
                f"outside its bounds {lo:.1f}..{hi:.1f} kWh; clipped to {clipped:.1f}"
            )
            source += " (clipped)"
            value = min(max(value, lo), hi)
        values[b.name] = value
        sources[b.name] = f"{value:.1f} kWh from {source}"
    return values, sources


def _telemetry_soc(folder: Path | None) -> pd.DataFrame | None:
    if folder is None or not (folder / "soc.csv").is_file():
        return None
    return _read_telemetry(folder / "soc.csv", ("site", "battery", "soc_kwh"),
                           "columns site, battery, timestamp, soc_kwh [kWh]")  # fmt: skip


def with_forecasts(
    inputs: SiteInputs, load_kw: np.ndarray, pv_kw: dict[str, np.ndarray], soc_kwh: dict[str, float]
) -> SiteInputs:
    """The site's inputs with the forecasts and initial states put in."""
    series = inputs.series.copy()
    series["load_kw"] = load_kw
    assets = []
    for a in inputs.assets:
        if a.kind == "load":
            a = dataclasses.replace(a, series={**a.series, "load_kw": np.asarray(load_kw)})
        elif a.kind == "pv" and a.name in pv_kw:
            series[f"{a.name}_available_kw"] = pv_kw[a.name]
            a = dataclasses.replace(a, series={**a.series, "available_kw": pv_kw[a.name]})
        elif a.kind == "battery" and a.name in soc_kwh:
            a = dataclasses.replace(
                a, series={**a.series, "soc_initial_kwh": np.array([soc_kwh[a.name]])}
            )
        assets.append(a)
    return dataclasses.replace(inputs, assets=assets, series=series)


def read_previous(out_dir: Path, date: pd.Timestamp) -> dict[str, dict[str, float]] | None:
    """The previous day's ``final_soc.json`` in the job's output folder, if any."""
    path = out_dir / (date - pd.Timedelta(days=1)).strftime("%Y-%m-%d") / "final_soc.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_forecasts(folder: Path | None, scenario: Scenario, flags: list[str]) -> list[Any]:
    """Every readable forecast file of the folder; unreadable ones are flagged and skipped."""
    from vpp.solar.forecast_reader import read_forecast

    if folder is None or not folder.is_dir():
        flags.append(f"no forecast folder at {folder}")
        return []
    out = []
    for path in sorted(folder.glob("*.csv")):
        try:
            out.append(read_forecast(path, location=scenario.site.location, where="--forecasts"))
        except VppError as exc:
            flags.append(f"forecast file {path.name} skipped: {exc.problems[0].message}")
    return out
