"""How good are PV forecasts? Measured PV read and matched to forecasts, per lead hour.

Measured PV file
----------------
A CSV file of measured AC power [kW]: the first column ISO 8601 timestamps with their
UTC offset, each the start of the interval whose mean power the row gives (one step, e.g.
15 min or 1 h); then one column per measured series, named like the forecast's columns:
``<array>_pv_kw`` and/or ``site_pv_kw``. Without ``site_pv_kw`` but with every modelled
array, the site is their sum. Empty cells and missing rows are allowed (a meter's gaps):
those steps are left out of every metric and counted in the notes. Timestamps that are
unreadable, naive, duplicated, out of order or off the step grid, and values that are
not numbers or are negative, are refused.

Evaluation step
---------------
The coarser of the run's step and the measured file's step; finer data is averaged over
it (an average with any missing step is missing). Each evaluated step has a lead time
``lead = t - issued_at`` (``t`` = its start) and a lead hour ``floor(lead / 1 h)``.

Baselines and metrics
---------------------
Each evaluated step is paired with its measurement, the forecast and two baselines
(persistence and clear-sky-index persistence); MAE, RMSE, bias, nRMSE and the skill
against persistence are then computed per series and lead hour. Their definitions are
in :mod:`vpp.solar.forecast_skill`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vpp.errors import DataError, Problem
from vpp.scenario.schema import Scenario
from vpp.solar.forecast import (
    SITE_COLUMN,
    WeatherForecast,
    array_column,
    forecast_index,
    modelled_arrays,
    pv_forecast_kw,
    read_forecast,
    scenario_step,
)
from vpp.solar.forecast_skill import (
    clearsky_index_persistence_kw,
    clearsky_pv_kw,
    metrics_table,
    persistence_kw,
    to_step,
)

__all__ = [
    "Evaluation",
    "evaluate_forecasts",
    "format_evaluation",
    "read_measured_pv",
]

_DAY = pd.Timedelta(hours=24)
_HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class Evaluation:
    """Forecast errors against measured PV, per series and lead hour.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per series and lead hour, then one per series over all lead hours
        (``lead_h`` empty): ``series``, ``lead_h`` [h], ``n``, ``mae_kw``, ``rmse_kw``,
        ``bias_kw``, ``nrmse_fraction``, ``persistence_rmse_kw``,
        ``csi_persistence_rmse_kw``, ``skill_fraction`` (against persistence),
        ``csi_persistence_skill_fraction`` (the baseline's own skill against persistence).
    samples : pandas.DataFrame
        Every evaluated step: ``file``, ``issued_at``, ``timestamp``, ``lead_h``,
        ``series``, ``measured_kw``, ``forecast_kw``, ``persistence_kw``,
        ``csi_persistence_kw``.
    files : tuple of pathlib.Path
        The forecast files evaluated.
    notes : tuple of str
        Files skipped, steps left out, resampling done.
    step : pandas.Timedelta
        The evaluation step.
    capacity_kw : dict of str to float
        DC nameplate per series [kWp], the nRMSE's denominator.
    """

    table: pd.DataFrame
    samples: pd.DataFrame
    files: tuple[Path, ...]
    notes: tuple[str, ...]
    step: pd.Timedelta
    capacity_kw: dict[str, float]


def read_measured_pv(
    path: str | Path, columns: Sequence[str], *, timezone: str = "Asia/Shanghai"
) -> pd.DataFrame:
    """Read measured PV power [kW] (format in the module docstring).

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file.
    columns : sequence of str
        The series that could be evaluated (``<array>_pv_kw``, ``site_pv_kw``); the last
        is the site, derived as the sum of the others when the file lacks it.
    timezone : str
        IANA zone of the returned index.

    Returns
    -------
    pandas.DataFrame
        The columns of ``columns`` found (or derived), on a regular timezone-aware index
        with ``freq`` set; NaN where a measurement is missing [kW].

    Raises
    ------
    DataError
        With every problem found.
    """
    path = Path(path)
    file, key = str(path), "--evaluate"
    if path.suffix.lower() != ".csv" or not path.is_file():
        what = "does not exist" if not path.is_file() else "is not a .csv file"
        raise DataError(
            Problem(
                f"measured PV file {what}",
                file=file,
                key=key,
                fix="give a CSV of measured PV power [kW]",
            )
        )
    try:
        frame = pd.read_csv(path, dtype=str, comment="#", skip_blank_lines=True)
    except Exception as exc:  # any reader failure is the user's file
        problem = Problem(
            f"measured PV file cannot be read as CSV: {exc}",
            file=file,
            fix="check that it is a CSV file with a header row",
        )
        raise DataError(problem) from None
    if frame.shape[1] < 2 or len(frame) < 2:
        raise DataError(
            Problem(
                "measured PV file needs a timestamp column, a value column and two rows",
                file=file,
                value=f"{frame.shape[1]} columns, {len(frame)} rows",
                allowed=f"timestamp, then some of {', '.join(columns)}",
            )
        )
    ts_col = str(frame.columns[0])
    found = [c for c in columns if c in frame.columns]
    if not found:
        raise DataError(
            Problem(
                "measured PV file has none of the forecast's columns",
                file=file,
                value=f"columns {', '.join(map(str, frame.columns[1:]))}",
                allowed=", ".join(columns),
                fix="name the columns <array>_pv_kw after the scenario's arrays, or site_pv_kw",
            )
        )
    text = frame[ts_col].str.strip()
    aware = text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True, na=False)
    times = pd.to_datetime(text.where(aware), errors="coerce", utc=True, format="ISO8601")
    problems: list[Problem] = []
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        problems.append(
            Problem(
                f"{len(bad)} timestamp(s) cannot be read or have no UTC offset, the first",
                file=file,
                key=f"column '{ts_col}'",
                timestamp=f"line {i + 2}",
                value=f"'{frame[ts_col].iloc[i]}'",
                allowed="ISO 8601 with offset, e.g. 2026-07-15T00:00:00+08:00",
                fix="write every timestamp with its UTC offset",
            )
        )
        raise DataError(problems)
    t = pd.DatetimeIndex(times).as_unit("ns").tz_convert(timezone)
    diffs = np.diff(t.asi8)
    if (diffs <= 0).any():
        i = int(np.argmax(diffs <= 0)) + 1
        what = "duplicated" if diffs[i - 1] == 0 else "out of order"
        raise DataError(
            Problem(
                f"timestamps are {what}",
                file=file,
                key=f"column '{ts_col}'",
                timestamp=f"{t[i].isoformat()} (line {i + 2})",
                allowed="increasing timestamps",
                fix="sort the file by time and remove duplicated rows",
            )
        )
    step = int(np.min(diffs))
    off = np.flatnonzero((t.asi8 - t.asi8[0]) % step)
    if len(off):
        i = int(off[0])
        problems.append(
            Problem(
                f"timestamp is off the file's {pd.Timedelta(step)} grid",
                file=file,
                key=f"column '{ts_col}'",
                timestamp=f"{t[i].isoformat()} (line {i + 2})",
                allowed=f"{t[0].isoformat()} plus multiples of {pd.Timedelta(step)}",
                fix="label each row with the start of its interval",
            )
        )
    values = {}
    for c in found:
        raw = frame[c]
        v = pd.to_numeric(raw, errors="coerce")
        text_bad = np.flatnonzero(v.isna().to_numpy() & raw.notna().to_numpy())
        neg = np.flatnonzero((v < 0).to_numpy())
        for rows, what, allowed in (
            (text_bad, "are not numbers", "numbers"),
            (neg, "are negative", ">= 0 kW"),
        ):
            if len(rows):
                i = int(rows[0])
                problems.append(
                    Problem(
                        f"{len(rows)} value(s) {what}, the first",
                        file=file,
                        key=f"column '{c}'",
                        timestamp=f"{t[i].isoformat()} (line {i + 2})",
                        value=f"'{raw.iloc[i]}'",
                        allowed=allowed,
                        fix="correct them, or leave the cell empty if unknown",
                    )
                )
        values[c] = v.to_numpy(dtype=float)
    if problems:
        raise DataError(problems)
    grid = pd.date_range(t[0], t[-1], freq=pd.Timedelta(step)).as_unit("ns")
    out = pd.DataFrame(values, index=t).reindex(grid)
    site = columns[-1]
    if site not in out.columns and all(c in out.columns for c in columns[:-1]):
        out[site] = out[list(columns[:-1])].sum(axis=1, min_count=len(columns) - 1)
    out.index.name = "timestamp"
    return out


def evaluate_forecasts(
    scenario: Scenario, forecast_paths: Sequence[str | Path], measured_path: str | Path
) -> Evaluation:
    """Evaluate forecast files against measured PV, with both baselines.

    Parameters
    ----------
    scenario : Scenario
        The arrays, location, time zone and run step.
    forecast_paths : sequence of path
        Forecast files; every one is read and checked (problems raised together). Files
        whose period the measurements do not cover, or cannot supply persistence for,
        are skipped with a note.
    measured_path : str or pathlib.Path
        Measured PV (format in the module docstring).

    Returns
    -------
    Evaluation

    Raises
    ------
    DataError
        Any forecast file or the measured file is wrong, or nothing can be evaluated.
    ScenarioError
        The site has no modelled array.
    """
    arrays = modelled_arrays(scenario)
    columns = [array_column(a.name) for a in arrays] + [SITE_COLUMN]
    capacity = {array_column(a.name): float(a.dc_capacity_kw) for a in arrays}
    capacity[SITE_COLUMN] = sum(capacity.values())
    problems: list[Problem] = []
    try:
        measured = read_measured_pv(measured_path, columns, timezone=scenario.timezone)
    except DataError as exc:
        problems.extend(exc.problems)
        measured = None
    forecasts: list[WeatherForecast] = []
    for path in forecast_paths:
        try:
            forecasts.append(
                read_forecast(path, location=scenario.site.location, where="--forecasts")
            )
        except DataError as exc:
            problems.extend(exc.problems)
    if problems or measured is None:
        raise DataError(problems)
    run_step = scenario_step(scenario)
    meas_step = pd.Timedelta(measured.index.freq)
    step = max(run_step, meas_step)
    if step % run_step or step % meas_step:
        raise DataError(
            Problem(
                "the measured step and the run's step do not divide each other",
                file=str(measured_path),
                value=f"measured {_td(meas_step)}, run {_td(run_step)}",
                allowed="steps such as 15 min and 1 h",
                fix="resample the measured file",
            )
        )
    notes = []
    if meas_step != step:
        notes.append(f"measured PV averaged from {_td(meas_step)} to {_td(step)} steps")
    if run_step != step:
        notes.append(f"forecast averaged from {_td(run_step)} to {_td(step)} steps")
    measured = to_step(measured, step)
    evaluated = [c for c in columns if c in measured.columns]
    t0, t1 = measured.index[0], measured.index[-1] + step
    span_start = min(f.issued_at for f in forecasts) - _DAY
    span_end = max(f.end for f in forecasts).tz_convert(scenario.timezone)
    clear_index = pd.date_range(
        span_start.tz_convert(scenario.timezone).floor(step),
        span_end,
        freq=step,
        inclusive="left",
    )
    clear = clearsky_pv_kw(scenario, clear_index)
    parts, used = [], []
    for f in forecasts:
        if f.start < t0 or f.end > t1:
            notes.append(
                f"{f.path.name} skipped: its period {f.start:%Y-%m-%d %H:%M} to "
                f"{f.end:%Y-%m-%d %H:%M} is not inside the measured {t0:%Y-%m-%d %H:%M} to "
                f"{t1:%Y-%m-%d %H:%M}"
            )
            continue
        pv = to_step(pv_forecast_kw(scenario, f, where="--forecasts").drop(columns="lead_h"), step)
        index = forecast_index(f, step, scenario.timezone)
        pv = pv.reindex(index)
        lead = np.floor((index - f.issued_at) / _HOUR).astype(np.int64)
        issued = f.issued_at.tz_convert(scenario.timezone)
        for c in evaluated:
            parts.append(
                pd.DataFrame(
                    {
                        "file": f.path.name,
                        "issued_at": issued,
                        "timestamp": index,
                        "lead_h": lead,
                        "series": c,
                        "measured_kw": measured[c].reindex(index).to_numpy(),
                        "forecast_kw": pv[c].to_numpy(),
                        "persistence_kw": persistence_kw(measured[c], index, f.issued_at),
                        "csi_persistence_kw": clearsky_index_persistence_kw(
                            measured[c], clear[c], index, f.issued_at
                        ),
                    }
                )
            )
        used.append(f.path)
    if not parts:
        raise DataError(
            Problem(
                "no forecast file's period lies inside the measured period",
                file=str(measured_path),
                value=f"measured {t0.isoformat()} to {t1.isoformat()}",
                fix="give measurements that cover the forecast periods (and the days before "
                "them, for persistence)",
            )
        )
    samples = pd.concat(parts, ignore_index=True)
    keep = samples[["measured_kw", "forecast_kw", "persistence_kw", "csi_persistence_kw"]]
    ok = np.isfinite(keep.to_numpy(dtype=float)).all(axis=1)
    if not ok.all():
        notes.append(
            f"{int((~ok).sum())} of {len(ok)} samples left out: measurement or baseline missing"
        )
    samples = samples[ok].reset_index(drop=True)
    if samples.empty:
        raise DataError(
            Problem(
                "no step has a measurement and both baselines",
                file=str(measured_path),
                fix="give measurements for the forecast periods and the three days before them",
            )
        )
    table = metrics_table(samples, capacity)
    return Evaluation(table, samples, tuple(used), tuple(notes), step, capacity)


def format_evaluation(evaluation: Evaluation, series: str = SITE_COLUMN) -> str:
    """The evaluation as a text table for the terminal (one series per lead hour).

    Lead hours where the forecast and persistence are both exact (nights) are left out
    of the printed table; ``evaluation.csv`` has them.
    """
    t = evaluation.table
    if series not in set(t["series"]):
        series = str(t["series"].iloc[0])
    rows = t[t["series"] == series]
    per_lead = rows[rows["lead_h"].notna()]
    shown = per_lead[(per_lead["rmse_kw"] > 0) | (per_lead["persistence_rmse_kw"] > 0)]
    cap = evaluation.capacity_kw[series]
    lines = [
        f"{len(evaluation.files)} forecast file(s), step {_td(evaluation.step)}, "
        f"series {series} ({cap:,.0f} kWp); nRMSE = RMSE / DC capacity; "
        "skill = 1 - RMSE / RMSE(persistence)",
        f"{'lead h':>6} {'n':>5} {'MAE kW':>9} {'RMSE kW':>9} {'nRMSE':>7} "
        f"{'persist.':>9} {'csi-pers.':>9} {'skill':>7}",
    ]

    def line(label: str, r: pd.Series) -> str:
        sk = "-" if pd.isna(r["skill_fraction"]) else f"{r['skill_fraction']:+.2f}"
        return (
            f"{label:>6} {int(r['n']):5d} {r['mae_kw']:9.1f} {r['rmse_kw']:9.1f} "
            f"{100 * r['nrmse_fraction']:6.1f}% {r['persistence_rmse_kw']:9.1f} "
            f"{r['csi_persistence_rmse_kw']:9.1f} {sk:>7}"
        )

    lines += [line(str(int(r["lead_h"])), r) for _, r in shown.iterrows()]
    hidden = len(per_lead) - len(shown)
    overall = rows[rows["lead_h"].isna()]
    lines += [line("all", r) for _, r in overall.iterrows()]
    if hidden:
        lines.append(f"({hidden} night lead hours with zero error are in evaluation.csv only)")
    for _, r in t[t["lead_h"].isna() & (t["series"] != series)].iterrows():
        lines.append(
            f"{r['series']}: RMSE {r['rmse_kw']:.1f} kW, nRMSE "
            f"{100 * r['nrmse_fraction']:.1f}%, skill {r['skill_fraction']:+.2f}"
        )
    lines += [f"note: {n}" for n in evaluation.notes]
    return "\n".join(lines)


def _td(step: pd.Timedelta) -> str:
    minutes = int(step / pd.Timedelta(minutes=1))
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
