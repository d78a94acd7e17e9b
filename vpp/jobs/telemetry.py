"""The daily job's telemetry folder: every file read and checked, nothing guessed.

Files (``--telemetry DIR``, all CSV, ``timestamp`` ISO 8601 with its UTC offset, the
label of the reading or of the step it averages; formats in ``docs/telemetry.md``):

=====================  ==========================================================
``soc.csv``            ``site, battery, timestamp, soc_kwh`` [kWh]
``load-<site>.csv``    ``timestamp, load_kw`` (site load, step average) [kW]
``pv-<site>.csv``      ``timestamp, <array>_pv_kw ...`` (measured PV) [kW]
``grid-<site>.csv``    ``timestamp, import_kw, export_kw`` (metered exchange) [kW]
``ev-<site>.csv``      ``timestamp, fleet, session, delivered_kwh`` [kWh]
=====================  ==========================================================

Bad input is a :class:`~vpp.errors.DataError` naming the file, the row (1-based line
with the header as line 1), the column, the value, what is allowed and the fix: a file
that cannot be read, a column missing, a timestamp that does not parse or has no offset,
a timestamp after ``now`` (future-dated), a value that is not a finite number (empty,
``n/a``, ``nan``, ``inf``, text), a negative power or energy, the same key (site and
battery, fleet and session, or the file's site) at the same timestamp twice. All the
problems of every file are raised together. A state of charge outside its battery's
bounds is not checked here: the states clip and flag it (:mod:`vpp.jobs.states`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vpp.errors import DataError, Problem, clip

__all__ = [
    "MAX_PROBLEMS_PER_COLUMN",
    "Telemetry",
    "empty_telemetry",
    "read_telemetry",
]

#: Problems listed per column of a file and kind of problem; the rest are counted [-].
MAX_PROBLEMS_PER_COLUMN = 5
#: A timestamp's text must end in its UTC offset (``Z``, ``+08:00``, ``+0800``).
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$")
_EXAMPLE = "2026-07-15T14:45:00+08:00"


@dataclass(frozen=True)
class _Spec:
    """One file kind: its key columns, value columns (or a suffix) and units."""

    name: str
    keys: tuple[str, ...]
    values: tuple[str, ...]
    suffix: str | None
    unit: str
    nonnegative: bool

    def allowed(self) -> str:
        cols = ["timestamp", *self.keys, *self.values]
        if self.suffix:
            cols.append(f"<array>{self.suffix} ...")
        return f"columns {', '.join(cols)} [{self.unit}]"


SOC = _Spec("soc.csv", ("site", "battery"), ("soc_kwh",), None, "kWh", False)
LOAD = _Spec("load-<site>.csv", (), ("load_kw",), None, "kW", True)
PV = _Spec("pv-<site>.csv", (), (), "_pv_kw", "kW", True)
GRID = _Spec("grid-<site>.csv", (), ("import_kw", "export_kw"), None, "kW", True)
EV = _Spec("ev-<site>.csv", ("fleet", "session"), ("delivered_kwh",), None, "kWh", True)


@dataclass(frozen=True)
class Telemetry:
    """Every telemetry reading at or before ``now``, checked (module docstring).

    Every frame has a ``timestamp`` column (tz-aware, in ``now``'s zone), its value
    columns as floats (finite; kW and delivered kWh at least 0) and ``row`` (its line in
    the file), sorted by time.

    Attributes
    ----------
    now : pandas.Timestamp
        The present: no reading is after it.
    folder : pathlib.Path or None
        The folder read (None: no telemetry).
    soc : pandas.DataFrame or None
        ``soc.csv``: ``site``, ``battery``, ``timestamp``, ``soc_kwh`` [kWh], ``row``.
    load, pv, grid, ev : dict of str to pandas.DataFrame
        Per site: ``load_kw``; ``<array>_pv_kw``; ``import_kw``, ``export_kw`` [kW];
        ``fleet``, ``session``, ``delivered_kwh`` [kWh].
    """

    now: pd.Timestamp
    folder: Path | None = None
    soc: pd.DataFrame | None = None
    load: dict[str, pd.DataFrame] = field(default_factory=dict)
    pv: dict[str, pd.DataFrame] = field(default_factory=dict)
    grid: dict[str, pd.DataFrame] = field(default_factory=dict)
    ev: dict[str, pd.DataFrame] = field(default_factory=dict)


def empty_telemetry(now: pd.Timestamp) -> Telemetry:
    """No telemetry: every state and forecast takes its next source."""
    return Telemetry(now=now)


def read_telemetry(
    folder: Path | None, site_names: list[str] | tuple[str, ...], now: pd.Timestamp
) -> Telemetry:
    """Read and check every telemetry file of ``folder`` for the sites (module docstring).

    Parameters
    ----------
    folder : pathlib.Path or None
        The telemetry folder; None or a missing folder gives no readings.
    site_names : sequence of str
        The park's sites: ``<kind>-<site>.csv`` is read for each.
    now : pandas.Timestamp
        The present, tz-aware: a reading after it is future-dated (bad input).

    Returns
    -------
    Telemetry
        Every reading, checked.

    Raises
    ------
    DataError
        Every problem of every file (module docstring), together.
    """
    if folder is None or not Path(folder).is_dir():
        return Telemetry(now=now, folder=None if folder is None else Path(folder))
    folder = Path(folder)
    problems: list[Problem] = []
    soc = _read(folder / "soc.csv", SOC, now, problems)
    per_site: dict[str, dict[str, pd.DataFrame]] = {"load": {}, "pv": {}, "grid": {}, "ev": {}}
    specs = {"load": LOAD, "pv": PV, "grid": GRID, "ev": EV}
    for name in site_names:
        for kind, spec in specs.items():
            frame = _read(folder / f"{kind}-{name}.csv", spec, now, problems)
            if frame is not None:
                per_site[kind][name] = frame
    if problems:
        raise DataError(problems)
    return Telemetry(now=now, folder=folder, soc=soc, **per_site)


def _read(
    path: Path, spec: _Spec, now: pd.Timestamp, problems: list[Problem]
) -> pd.DataFrame | None:
    """One file, checked; its problems appended (None when absent or not usable)."""
    if not path.is_file():
        return None
    file = str(path)
    fix = f"correct the file (format: docs/telemetry.md, {spec.name})"
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        problems.append(
            Problem(
                f"telemetry file cannot be read: {clip(str(exc), 200)}",
                file=file,
                allowed=spec.allowed(),
                fix=fix,
            )
        )
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    values = list(spec.values)
    if spec.suffix:
        values += [c for c in frame.columns if c.endswith(spec.suffix)]
    missing = [c for c in ("timestamp", *spec.keys, *spec.values) if c not in frame.columns]
    if spec.suffix and not values:
        missing.append(f"<array>{spec.suffix}")
    if missing:
        problems.append(
            Problem(
                "telemetry file lacks columns",
                file=file,
                key=f"row 1, column(s) {', '.join(missing)}",
                value=clip(f"columns {list(frame.columns)}", 200),
                allowed=spec.allowed(),
                fix=fix,
            )
        )
        return None
    found: list[Problem] = []
    rows = np.arange(len(frame)) + 2
    text = frame["timestamp"].str.strip()
    has_offset = text.str.contains(_OFFSET, regex=True).to_numpy()
    stamps = pd.to_datetime(text.where(has_offset), format="ISO8601", errors="coerce", utc=True)
    bad = stamps.isna().to_numpy()
    _add(
        found,
        bad,
        rows,
        frame["timestamp"],
        file,
        "timestamp",
        "telemetry timestamp does not parse or has no UTC offset",
        f"ISO 8601 with its offset, e.g. {_EXAMPLE}",
        fix,
    )
    local = pd.DatetimeIndex(stamps).tz_convert(now.tz)
    future = ~bad & np.asarray(local > now)
    _add(
        found,
        future,
        rows,
        frame["timestamp"],
        file,
        "timestamp",
        f"telemetry reading is future-dated: after now ({now.isoformat()})",
        f"readings taken at or before {now.isoformat()}",
        "check the meter's clock and time zone, or give --now the time the data was taken",
    )
    out = pd.DataFrame({"timestamp": local})
    for key in spec.keys:
        out[key] = frame[key].str.strip()
        empty = (out[key] == "").to_numpy()
        _add(
            found,
            empty,
            rows,
            frame[key],
            file,
            key,
            f"telemetry {key} is empty",
            f"a {key} name",
            fix,
        )
    for column in values:
        raw = frame[column]
        numbers = pd.to_numeric(raw.str.strip(), errors="coerce").astype(float).to_numpy()
        finite = np.isfinite(numbers)
        _add(
            found,
            ~finite,
            rows,
            raw,
            file,
            column,
            f"telemetry value of {column} is not a finite number",
            f"a finite number [{spec.unit}]",
            fix,
        )
        if spec.nonnegative:
            negative = finite & (numbers < 0)
            _add(
                found,
                negative,
                rows,
                raw,
                file,
                column,
                f"telemetry value of {column} is negative",
                f"a number >= 0 [{spec.unit}]",
                fix,
            )
        out[column] = numbers
    keys = ["timestamp", *spec.keys]
    twice = ~bad & out.duplicated(subset=keys, keep="first").to_numpy()
    if twice.any():
        where = " and ".join(spec.keys) or "the site"
        _add(
            found,
            twice,
            rows,
            frame["timestamp"],
            file,
            "timestamp",
            f"telemetry reading repeated: the same {where} at the same timestamp twice",
            "one reading per key and timestamp",
            "drop the repeated row (or correct its timestamp)",
        )
    if found:
        problems.extend(found)
        return None
    out["row"] = rows
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _add(
    found: list[Problem],
    mask: np.ndarray,
    rows: np.ndarray,
    raw: pd.Series,
    file: str,
    column: str,
    message: str,
    allowed: str,
    fix: str,
) -> None:
    """A problem per row of ``mask`` (the first :data:`MAX_PROBLEMS_PER_COLUMN`), then a
    count of the rest."""
    where = np.flatnonzero(mask)
    for i in where[:MAX_PROBLEMS_PER_COLUMN].tolist():
        found.append(
            Problem(
                message,
                file=file,
                key=f"row {int(rows[i])}, column {column}",
                value=clip(repr(raw.iloc[i]), 60),
                allowed=allowed,
                fix=fix,
            )
        )
    if len(where) > MAX_PROBLEMS_PER_COLUMN:
        found.append(
            Problem(
                f"{message}: {len(where) - MAX_PROBLEMS_PER_COLUMN} more row(s) like it",
                file=file,
                key=f"rows {int(rows[where[MAX_PROBLEMS_PER_COLUMN]])}.., column {column}",
                allowed=allowed,
                fix=fix,
            )
        )
