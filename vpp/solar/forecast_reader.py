"""Weather-forecast files: the format, reading them, and the rules on their issue time.

The daily job reads a forecast from ``forecasts/``; :mod:`vpp.solar.forecast` turns it into
the PV forecast of the site's arrays.

File format
-----------
A CSV file that starts with ``# key: value`` header lines, then a header row and one row
per interval (hourly or 15 min)::

    # issued_at: 2026-07-14T14:00:00+08:00
    # source: vpp synthetic forecast (see forecasts/README.md)
    timestamp,cloud_cover,temp_air,wind_speed
    2026-07-15T00:00:00+08:00,62.0,27.4,2.1
    2026-07-15T01:00:00+08:00,58.5,27.1,2.0
    ...

- ``issued_at`` (required): when the forecast was made, ISO 8601 **with** its UTC offset.
  Other header keys (``source``, ``site``, ``model``, ...) are kept in
  :attr:`WeatherForecast.header` and not interpreted.
- Data: read by :func:`vpp.solar.weather.read_weather` with ``fmt="csv"``. The first
  column holds ISO 8601 timestamps with their offset, each the **start** of the interval
  whose mean it gives. Either irradiance columns ``ghi`` [W/m^2] (and optionally ``dni``,
  ``dhi`` [W/m^2]) or ``cloud_cover`` [%, 0-100]; with ``temp_air`` [degC] and
  ``wind_speed`` [m/s]. Cloud cover is turned into irradiance through pvlib's clear sky at
  the site and the cloud-to-irradiance model of
  :func:`vpp.solar.weather.cloud_cover_to_irradiance` (documented there).
- The period the file claims to forecast runs from its first timestamp to the end of its
  last interval.

Issue-time rules (:func:`check_issue_time`)
-------------------------------------------
- A forecast issued **after** the start of its period is refused: it would let the run
  see weather that was already observed when the schedule was due.
- With ``now`` (the command line's ``--now``): a forecast issued after ``now`` is
  refused, and so is one whose whole period lies before ``now`` (stale: it forecasts the
  past).

Each refusal is a :class:`~vpp.errors.DataError` naming the file, the ``issued_at`` key
(and its line) and the timestamp, so the command line exits with code 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vpp.errors import DataError, Problem, ScenarioError
from vpp.scenario.schema import Scenario, SiteLocation
from vpp.solar.weather import Weather, read_weather

__all__ = [
    "ISSUED_AT",
    "WeatherForecast",
    "check_issue_time",
    "forecast_file",
    "forecast_files",
    "now_from_text",
    "parse_time",
    "read_forecast",
    "read_header",
]

#: The header key that holds the issue time.
ISSUED_AT = "issued_at"
_ISSUED_EXAMPLE = "# issued_at: 2026-07-14T14:00:00+08:00"
_HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class WeatherForecast:
    """A weather forecast read from a file.

    Attributes
    ----------
    path : pathlib.Path
        The file it was read from.
    issued_at : pandas.Timestamp
        When the forecast was made (timezone-aware).
    weather : vpp.solar.weather.Weather
        The forecast weather: ``ghi``, ``dni``, ``dhi`` [W/m^2], ``temp_air`` [degC],
        ``wind_speed`` [m/s], labels at interval starts.
    header : dict of str to str
        Every ``# key: value`` header line, ``issued_at`` included.
    issued_line : int
        The file's line (1-based) that holds ``issued_at``.
    """

    path: Path
    issued_at: pd.Timestamp
    weather: Weather
    header: dict[str, str] = field(default_factory=dict)
    issued_line: int = 1

    @property
    def step(self) -> pd.Timedelta:
        """The file's step (1 h or 15 min) [time]."""
        index = self.weather.data.index
        if index.freq is not None:
            return pd.Timedelta(index.freq)
        return pd.Timedelta(index[1] - index[0]) if len(index) > 1 else _HOUR

    @property
    def start(self) -> pd.Timestamp:
        """Start of the forecast period: the first label."""
        return pd.Timestamp(self.weather.data.index[0])

    @property
    def end(self) -> pd.Timestamp:
        """End of the forecast period (exclusive): the last label plus one step."""
        return pd.Timestamp(self.weather.data.index[-1]) + self.step


def read_header(path: str | Path) -> tuple[dict[str, str], dict[str, int], int]:
    """Read the ``# key: value`` lines at the top of a forecast file.

    Parameters
    ----------
    path : str or pathlib.Path
        The forecast file.

    Returns
    -------
    header : dict of str to str
        Keys (lower case) and values, stripped.
    lines : dict of str to int
        The line (1-based) of each key.
    n_lines : int
        How many lines at the top start with ``#`` (the data's header row follows).

    Raises
    ------
    DataError
        The file does not exist or cannot be read as text.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            Problem(
                "forecast file does not exist",
                file=str(path),
                fix="check the path; sample forecasts ship in forecasts/",
            )
        )
    header: dict[str, str] = {}
    lines: dict[str, int] = {}
    n_lines = 0
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.startswith("#"):
                    break
                n_lines = number
                key, sep, value = line[1:].partition(":")
                if sep and key.strip():
                    header[key.strip().lower()] = value.strip()
                    lines[key.strip().lower()] = number
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(
            Problem(
                f"forecast file cannot be read as text: {exc}",
                file=str(path),
                fix="save the forecast as a UTF-8 CSV file",
            )
        ) from None
    return header, lines, n_lines


def parse_time(
    text: str,
    *,
    what: str,
    file: str | None = None,
    timezone: str | None = None,
    timestamp: str | None = None,
) -> pd.Timestamp:
    """Parse an ISO 8601 time; naive times only with ``timezone``.

    Parameters
    ----------
    text : str
        The time as written.
    what : str
        The key or option it comes from, for messages (``issued_at``, ``--now``).
    file : str, optional
        The file it comes from, for messages.
    timezone : str, optional
        IANA zone of a naive time; without it a naive time is refused.
    timestamp : str, optional
        Where in the file (``line 1``), for messages.

    Returns
    -------
    pandas.Timestamp
        Timezone-aware.

    Raises
    ------
    DataError
        Unreadable, or naive without ``timezone``.
    """
    try:
        ts = pd.Timestamp(str(text).strip())
        bad = ts is pd.NaT
    except (ValueError, TypeError):
        bad = True
    if bad:
        raise DataError(
            Problem(
                "is not a time",
                file=file,
                key=what,
                timestamp=timestamp,
                value=f"'{text}'",
                allowed="ISO 8601 with its UTC offset, e.g. 2026-07-14T14:00:00+08:00",
                fix="write the time as in the example",
            )
        )
    if ts.tzinfo is None:
        if timezone is None:
            raise DataError(
                Problem(
                    "has no UTC offset (naive time)",
                    file=file,
                    key=what,
                    timestamp=timestamp,
                    value=f"'{text}'",
                    allowed="ISO 8601 with its UTC offset, e.g. 2026-07-14T14:00:00+08:00",
                    fix="add the offset (+08:00 for China Standard Time)",
                )
            )
        ts = ts.tz_localize(timezone)
    return ts


def check_issue_time(
    path: str | Path,
    issued_at: pd.Timestamp,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    now: pd.Timestamp | None = None,
    line: int = 1,
) -> None:
    """Refuse a forecast that could not have been known before its period.

    Parameters
    ----------
    path : str or pathlib.Path
        The forecast file, for messages.
    issued_at : pandas.Timestamp
        Issue time (timezone-aware).
    start, end : pandas.Timestamp
        The period it forecasts: first label, end of the last interval (exclusive).
    now : pandas.Timestamp, optional
        The present of the run (``--now``): forecasts issued after it, or whose whole
        period ends at or before it, are refused.
    line : int
        The file's line holding ``issued_at`` (1-based), for messages.

    Raises
    ------
    DataError
        With every rule broken.
    """
    file, key = str(path), f"{ISSUED_AT} (line {line})"
    tz = start.tz
    issued = issued_at.tz_convert(tz)
    problems = []
    if issued > start:
        problems.append(
            Problem(
                "forecast was issued after the start of the period it forecasts (a run would "
                "see weather already observed)",
                file=file,
                key=key,
                timestamp=issued.isoformat(),
                value=f"issued {issued.isoformat()}, period {start.isoformat()} to "
                f"{end.isoformat()}",
                allowed=f"an issue time at or before {start.isoformat()}",
                fix="use the forecast issued before the period starts (e.g. 14:00 the day "
                "before), or correct the issued_at line",
            )
        )
    if now is not None:
        now = now.tz_convert(tz)
        if issued > now:
            problems.append(
                Problem(
                    "forecast was issued after --now (it cannot exist yet)",
                    file=file,
                    key=key,
                    timestamp=issued.isoformat(),
                    value=f"--now {now.isoformat()}",
                    allowed=f"an issue time at or before {now.isoformat()}",
                    fix="check --now and the issued_at line",
                )
            )
        if end <= now:
            problems.append(
                Problem(
                    "stale forecast: its whole period lies before --now",
                    file=file,
                    key=key,
                    timestamp=issued.isoformat(),
                    value=f"period {start.isoformat()} to {end.isoformat()}, --now "
                    f"{now.isoformat()}",
                    allowed=f"a period ending after {now.isoformat()}",
                    fix="use the latest forecast file for the coming period",
                )
            )
    if problems:
        raise DataError(problems)


def read_forecast(
    path: str | Path,
    *,
    location: SiteLocation | None = None,
    now: pd.Timestamp | None = None,
    where: str = "forecast",
) -> WeatherForecast:
    """Read a forecast file, its issue time and its weather, and check the issue time.

    Parameters
    ----------
    path : str or pathlib.Path
        The forecast file (format in the module docstring).
    location : SiteLocation, optional
        The site, for clear sky when the file gives cloud cover (default: Xushuguan).
    now : pandas.Timestamp, optional
        The run's present; see :func:`check_issue_time`.
    where : str
        Where the file was named (option or YAML key), for messages.

    Returns
    -------
    WeatherForecast

    Raises
    ------
    DataError
        Missing file, missing or unreadable ``issued_at``, any problem of the weather
        data (columns, timestamps, gaps, values), or a broken issue-time rule.
    """
    path = Path(path)
    loc = location or SiteLocation()
    header, lines, _ = read_header(path)
    if ISSUED_AT not in header:
        raise DataError(
            Problem(
                "forecast file has no issue time",
                file=str(path),
                key=f"{ISSUED_AT} (header line)",
                value="no '# issued_at:' line before the column names",
                allowed=f"a first line such as '{_ISSUED_EXAMPLE}'",
                fix="add the issue time as the first line of the file",
            )
        )
    line = lines[ISSUED_AT]
    issued = parse_time(header[ISSUED_AT], what=f"{ISSUED_AT} (line {line})", file=str(path))
    weather = read_weather(
        path,
        "csv",
        latitude_deg=loc.latitude_deg,
        longitude_deg=loc.longitude_deg,
        altitude_m=loc.altitude_m,
        interval_label="start",
        where=where,
    )
    forecast = WeatherForecast(path, issued, weather, header, line)
    check_issue_time(path, issued, forecast.start, forecast.end, now=now, line=line)
    return forecast


def forecast_file(
    scenario: Scenario, given: str | Path | None, *, scenario_file: str | None = None
) -> tuple[Path, str]:
    """The forecast file to read: ``given`` (``--weather``), else ``site.weather.file``.

    Returns
    -------
    path : pathlib.Path
    where : str
        The option or key that named it, for messages.

    Raises
    ------
    ScenarioError
        Neither is there.
    """
    if given is not None:
        return Path(given), "--weather"
    weather = scenario.site.weather
    if weather.file is None:
        raise ScenarioError(
            Problem(
                "no forecast file to read",
                file=scenario_file,
                key="site.weather",
                value=f"source: {weather.source}",
                allowed="--weather FILE, or site.weather with source: file",
                fix="give the forecast file with --weather",
            )
        )
    return Path(weather.file), "site.weather.file"


def forecast_files(folder: str | Path, *, exclude: Sequence[str | Path] = ()) -> list[Path]:
    """The forecast files of a folder: every ``*.csv`` directly inside it, sorted by name.

    Parameters
    ----------
    folder : str or pathlib.Path
        The folder (``forecasts/``); sub-folders are not searched.
    exclude : sequence of path
        Files to leave out (the measured file when it lies in the folder).

    Raises
    ------
    DataError
        The folder does not exist or holds no CSV file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(
            Problem(
                "forecast folder does not exist",
                file=str(folder),
                key="--forecasts",
                fix="give the folder that holds the forecast files (default forecasts/)",
            )
        )
    skip = {Path(p).resolve() for p in exclude}
    files = sorted(p for p in folder.glob("*.csv") if p.resolve() not in skip)
    if not files:
        raise DataError(
            Problem(
                "forecast folder holds no forecast file (*.csv)",
                file=str(folder),
                key="--forecasts",
                fix="put forecast files in the folder or name another one with --forecasts",
            )
        )
    return files


def now_from_text(text: str | None, timezone: str) -> pd.Timestamp | None:
    """The command line's ``--now``: ISO 8601; a naive time is local in ``timezone``."""
    if text is None:
        return None
    return parse_time(text, what="--now", timezone=timezone)
