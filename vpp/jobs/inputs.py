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
   sky (:func:`vpp.solar.forecast_skill.clearsky_index_persistence_kw`);
3. else **clear sky** (optimistic: flagged).

A forecast file that cannot be read is skipped and named in the flags. Arrays given as a
series keep their series. Load: the 4-week same-day-type profile of the site's load
history (:func:`vpp.operation.load_forecast.profile_forecast`). Battery state: the latest
telemetry row (``soc.csv``: ``site,battery,timestamp,soc_kwh``) at or before ``now`` (the
job cannot read the future), else the previous day's run (``final_soc.json``), else the
scenario's initial state;
a telemetry value outside the battery's bounds is clipped to them and flagged (a meter a
little off should not stop the day's plan; the flag lets operators check it).

Every number that reaches the model is finite. A reading that is not a finite number
(``n/a``, empty, ``nan``, ``inf``, text) is dropped and flagged with its file, row and
value: a battery whose latest reading is dropped takes its state from the next source
(the previous day's ``final_soc.json``, then the scenario), and measured PV steps that
are dropped count as missing. A telemetry *file* that cannot be used as a whole
(unreadable, a column missing, a timestamp that does not parse) is an input error
(:class:`~vpp.errors.DataError`): the job then writes its safe fallback schedule.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import site_entries, unit
from vpp.assets.pv.forecast import weather_arrays
from vpp.errors import DataError, Problem, VppError, clip
from vpp.inputs.site import SiteInputs
from vpp.operation.load_forecast import profile_forecast
from vpp.scenario.schema import Scenario

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

    arrays = weather_arrays(scenario.site)
    if not arrays:
        return {}, {"method": "none (no weather-driven arrays)"}
    start, end = index[0], index[-1] + pd.Timedelta(index.freq)
    usable = [
        f
        for f in forecasts
        if f.issued_at <= now
        and f.start <= start
        and f.end >= end
        and (start - f.issued_at) <= pd.Timedelta(hours=max_age_h)
    ]
    if usable:
        chosen = max(usable, key=lambda f: f.issued_at)
        frame = pv_forecast_kw(scenario, chosen, index=index, where=str(chosen.path))
        return (
            {a.name: frame[array_column(a.name)].to_numpy() for a in arrays},
            {
                "method": "forecast",
                "file": Path(chosen.path).name,
                "issued_at": chosen.issued_at.isoformat(),
            },
        )
    why = f"no forecast file issued by {now.isoformat()} covers the day within {max_age_h:g} h"
    from vpp.solar.forecast_skill import clearsky_index_persistence_kw, clearsky_pv_kw

    window = pd.date_range(now - pd.Timedelta(days=1), end, freq=index.freq, inclusive="left")
    clear = clearsky_pv_kw(scenario, window)
    measured = _measured_pv(name, telemetry_dir, problems)
    if measured is not None:
        out = {}
        for a in arrays:
            col = array_column(a.name)
            if col not in measured:
                break
            series = measured[col].asfreq(index.freq)
            values = clearsky_index_persistence_kw(series, clear[col], index, now)
            values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
            out[a.name] = np.clip(values, 0.0, None)
        else:
            return out, {
                "method": "clear-sky index persistence",
                "why": why,
                "flag": True,
                "measured": f"pv-{name}.csv",
            }
    sky = clear.reindex(index)
    return (
        {a.name: sky[array_column(a.name)].to_numpy() for a in arrays},
        {
            "method": "clear sky",
            "why": why + "; no measured PV for clear-sky index persistence",
            "flag": True,
        },
    )


def _read_telemetry(
    path: Path, columns: tuple[str, ...], allowed: str, *, as_text: bool = False
) -> pd.DataFrame:
    """A telemetry CSV with a ``timestamp`` column (ISO 8601 with offset).

    ``as_text`` keeps every cell as written (no ``n/a`` turned into NaN), for messages.

    Raises
    ------
    DataError
        Unreadable file, missing columns or timestamps that do not parse (named).
    """
    try:
        if as_text:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataError(
            Problem(
                f"telemetry file cannot be read: {clip(str(exc), 200)}",
                file=str(path),
                allowed=allowed,
            )
        ) from None
    missing = [c for c in ("timestamp", *columns) if c not in frame.columns]
    if missing:
        raise DataError(
            Problem(
                "telemetry file lacks columns",
                file=str(path),
                key=", ".join(missing),
                value=clip(f"columns {list(frame.columns)}", 200),
                allowed=allowed,
            )
        )
    stamps = pd.to_datetime(frame["timestamp"], format="ISO8601", errors="coerce", utc=True)
    bad = stamps.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        example = "2026-07-15T14:45:00+08:00"
        raise DataError(
            Problem(
                "telemetry timestamp does not parse",
                file=str(path),
                key=f"row {row + 2}, column timestamp",
                value=clip(repr(frame["timestamp"].iloc[row]), 60),
                allowed=f"ISO 8601 with its offset, e.g. {example}",
            )
        )
    frame["timestamp"] = stamps
    return frame


def finite_numbers(values: pd.Series) -> pd.Series:
    """``values`` as floats; anything that is not a finite number becomes NaN."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    return numbers.where(np.isfinite(numbers))


def _measured_pv(name: str, folder: Path | None, flags: list[str]) -> pd.DataFrame | None:
    path = None if folder is None else folder / f"pv-{name}.csv"
    if path is None or not path.is_file():
        return None
    frame = _read_telemetry(path, (), "timestamp, then <array>_pv_kw columns [kW]")
    frame = frame.set_index(pd.DatetimeIndex(frame.pop("timestamp"))).sort_index(kind="stable")
    twice = frame.index.duplicated(keep="last")
    if twice.any():
        flags.append(
            f"telemetry {path.name}: {int(twice.sum())} repeated timestamp(s) (first: "
            f"{frame.index[twice][0].isoformat()}); the last row of each is used"
        )
        frame = frame[~twice]
    for column in frame.columns:
        values = finite_numbers(frame[column])
        dropped = values.isna() & frame[column].notna()
        if dropped.any():
            first = int(np.argmax(dropped.to_numpy()))
            flags.append(
                f"telemetry {path.name}: {int(dropped.sum())} value(s) of column {column} are "
                f"not finite numbers and count as missing (first: row {first + 2}, "
                f"{clip(repr(frame[column].iloc[first]), 40)})"
            )
        frame[column] = values
    return frame


def load_forecast(scenario: Scenario, inputs: SiteInputs) -> tuple[np.ndarray, dict[str, Any]]:
    """The site's load on the day: the 4-week same-day-type profile of its history [kW]."""
    from vpp.portfolio.park import metered_history_kw

    index = inputs.horizon.index
    days = 7 * PROFILE_WEEKS + 1
    history = metered_history_kw(scenario, index[0], days, load_only=True)
    values = profile_forecast(history, index[0], index, weeks=PROFILE_WEEKS)
    return values, {
        "method": f"{PROFILE_WEEKS}-week same-day-type profile",
        "history_from": str(history.index[0]),
    }


def initial_soc(
    name: str,
    scenario: Scenario,
    now: pd.Timestamp,
    rows: pd.DataFrame | None,
    previous: dict[str, dict[str, float]] | None,
    flags: list[str],
) -> tuple[dict[str, float], dict[str, str]]:
    """Each battery's state at the day's start [kWh], and where it came from.

    Every asset whose unit has a measured state (:meth:`~vpp.assets.base.AssetUnit.
    measured_state`: the batteries) is read. ``rows`` are the telemetry readings
    (:func:`read_soc`); a battery whose latest reading at or before ``now`` is not a
    finite number takes the next source, flagged.
    """
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    for u, b in site_entries(scenario.site):
        measured = u.measured_state(b)
        if measured is None:
            continue
        scenario_kwh, lo, hi = measured
        found = None
        if rows is not None:
            mine = rows[(rows["site"] == name) & (rows["battery"] == b.name)]
            mine = mine[mine["timestamp"] <= now]
            if len(mine):
                last = mine.sort_values("timestamp", kind="stable").iloc[-1]
                stamp = last["timestamp"].tz_convert(now.tz).isoformat()
                if np.isfinite(last["soc_kwh"]):
                    found = (float(last["soc_kwh"]), f"telemetry soc.csv at {stamp}")
                else:
                    flags.append(
                        f"site '{name}' battery '{b.name}': telemetry soc.csv row {last['row']} "
                        f"at {stamp}: soc_kwh {clip(repr(last['soc_text']), 40)} is "
                        "not a finite number [kWh]; dropped, the state is taken from the next "
                        "source"
                    )
        if found is None and previous and b.name in previous.get(name, {}):
            found = (float(previous[name][b.name]), "previous day's run (final_soc.json)")
        if found is None:
            found = (scenario_kwh, "scenario initial state")
        value, source = found
        if not lo - 1e-9 <= value <= hi + 1e-9:
            clipped = min(max(value, lo), hi)
            flags.append(
                f"site '{name}' battery '{b.name}': state {value:.1f} kWh from {source} is "
                f"outside its bounds {lo:.1f}..{hi:.1f} kWh; clipped to {clipped:.1f}"
            )
            source += " (clipped)"
            value = clipped
        values[b.name] = value
        sources[b.name] = f"{value:.1f} kWh from {source}"
    return values, sources


def read_soc(folder: Path | None) -> pd.DataFrame | None:
    """The battery readings of ``soc.csv`` (None without the file).

    Columns ``site``, ``battery``, ``timestamp`` (UTC), ``soc_kwh`` (NaN where the
    reading is not a finite number), ``soc_text`` (as written) and ``row`` (its line).

    Raises
    ------
    DataError
        The file cannot be used as a whole (:func:`_read_telemetry`).
    """
    if folder is None or not (folder / "soc.csv").is_file():
        return None
    frame = _read_telemetry(
        folder / "soc.csv",
        ("site", "battery", "soc_kwh"),
        "columns site, battery, timestamp, soc_kwh [kWh]",
        as_text=True,
    )
    frame["soc_text"] = frame["soc_kwh"]
    frame["soc_kwh"] = finite_numbers(frame["soc_kwh"].str.strip())
    frame["row"] = np.arange(len(frame)) + 2
    return frame


def with_forecasts(
    inputs: SiteInputs,
    load_kw: np.ndarray,
    pv_kw: dict[str, np.ndarray],
    soc_kwh: dict[str, float],
    site: str = "",
) -> SiteInputs:
    """The site's inputs with the forecasts and initial states put in.

    The forecasts replace the input frame's ``load_kw`` and ``<array>_available_kw``
    columns; each asset takes what it reads through its unit
    (:meth:`~vpp.assets.base.AssetUnit.with_forecasts`).

    Raises
    ------
    DataError
        A forecast or state that is not finite (never handed to the model).
    """
    checks = [("load forecast [kW]", load_kw)]
    checks += [(f"PV forecast of array '{k}' [kW]", v) for k, v in pv_kw.items()]
    checks += [(f"state of battery '{k}' [kWh]", v) for k, v in soc_kwh.items()]
    index = inputs.horizon.index
    for what, values in checks:
        array = np.atleast_1d(np.asarray(values, dtype=float))
        bad = ~np.isfinite(array)
        if bad.any():
            first = int(np.argmax(bad))
            raise DataError(
                Problem(
                    f"site '{site}': the {what} is not a finite number at {int(bad.sum())} step(s)",
                    timestamp=index[first].isoformat() if array.size == len(index) else None,
                    value=str(array[first]),
                    allowed="finite numbers",
                    fix="check the site's load history and the telemetry it was made from",
                )
            )
    forecasts = {"load_kw": load_kw, **{f"{k}_available_kw": v for k, v in pv_kw.items()}}
    series = inputs.series.copy()
    for column, values in forecasts.items():
        series[column] = values
    assets = [unit(a.kind).with_forecasts(a, forecasts, soc_kwh.get(a.name)) for a in inputs.assets]
    return dataclasses.replace(inputs, assets=assets, series=series)


def read_previous(
    out_dir: Path, date: pd.Timestamp, flags: list[str]
) -> dict[str, dict[str, float]] | None:
    """The previous day's ``final_soc.json`` in the job's output folder, if any.

    Only finite numbers are kept; anything else in it is dropped and flagged.
    """
    path = out_dir / (date - pd.Timedelta(days=1)).strftime("%Y-%m-%d") / "final_soc.json"
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
            number = (
                value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            )
            if number is None or not np.isfinite(number):
                flags.append(
                    f"{path}: state of site {clip(repr(site), 40)} battery "
                    f"{clip(repr(battery), 40)} is not a finite number "
                    f"({clip(repr(value), 40)}); dropped"
                )
                continue
            out.setdefault(str(site), {})[str(battery)] = float(number)
    return out


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
