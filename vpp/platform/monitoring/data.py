"""What monitoring reads: readings on the step grid, the site's scenario, its month's tariff.

Readings are stored one per (site, channel, timestamp) at any timestamp; monitoring puts
them on the site scenario's step grid (labels are interval starts, local time): power
channels (``*_kw``) are averaged over each step, amounts burnt or bought in an interval
(:data:`FUEL_CHANNELS`) are summed, a state of charge keeps its last value. A step
without a reading stays NaN: it is a gap, counted and shown, never filled.

The prices, TOU periods and grid factors of a month come from
:func:`vpp.inputs.build_inputs` on that month's horizon: the tariff calendar and
emission factors the site's scenario names, exactly as a run would use them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session, sessionmaker

from vpp.errors import VppError
from vpp.platform.models import Reading
from vpp.platform.refusals import PlatformRefusal

__all__ = [
    "FUEL_CHANNELS",
    "ParkFileGone",
    "TARIFF_COLUMNS",
    "SiteModel",
    "column",
    "finite_or_none",
    "month_bounds",
    "month_series",
    "park_stamps",
    "readings_frame",
    "readings_frames",
    "site_model",
    "step_grid",
]

#: Telemetry channels that are amounts per interval, and their carbon-account carrier
#: (:data:`vpp.emissions.FUEL_CARRIERS`) [Nm3, GJ, t per interval].
FUEL_CHANNELS = {"natural_gas_nm3": "natural_gas", "heat_gj": "heat", "diesel_t": "diesel"}
#: The input series monitoring takes from a month's :func:`vpp.inputs.build_inputs`.
TARIFF_COLUMNS = (
    "price_cny_per_kwh",
    "tou_period",
    "export_price_cny_per_kwh",
    "grid_factor_kg_per_kwh",
    "market_factor_kg_per_kwh",
)
#: Months of tariff series kept in memory (sites x months) [-].
_CACHE_SIZE = 1024


@dataclass(frozen=True)
class SiteModel:
    """A registered site's scenario, read from its park file.

    Attributes
    ----------
    scenario : vpp.scenario.schema.Scenario
        The site scenario (on the park's horizon; monitoring lays its own).
    step_minutes : int
        The park's step [min].
    timezone : str
        The park's IANA time zone.
    stamps : tuple
        The modification time [ns] and size [bytes] of every file the park's loading
        read (:func:`park_stamps`): a result kept by them is current while they are.
    tariff_files : tuple of (str, str)
        Each file the site's grid tariff and emission factors name, with the SHA-256 of
        its content: the tariff series depend on them as much as on the spec.
    """

    scenario: Any
    step_minutes: int
    timezone: str
    stamps: tuple[Any, ...] = ()
    tariff_files: tuple[tuple[str, str], ...] = ()

    @property
    def step_h(self) -> float:
        """The step [h]."""
        return self.step_minutes / 60.0


_parks: dict[str, tuple[tuple[Any, ...], Any, dict[str, tuple[tuple[str, str], ...]]]] = {}
_hashes: dict[tuple[Any, ...], str] = {}
_series: OrderedDict[tuple[Any, ...], pd.DataFrame] = OrderedDict()
_lock = threading.Lock()


class ParkFileGone(PlatformRefusal):
    """A registered park's file no longer loads (moved, deleted or broken): 503 until
    it is restored or the park registered again."""

    status = 503


def _paths(value: Any, out: list[Path]) -> list[Path]:
    """Every file path in a (dumped) scenario value."""
    if isinstance(value, Path):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _paths(v, out)
    elif isinstance(value, list | tuple):
        for v in value:
            _paths(v, out)
    elif hasattr(value, "model_dump"):
        _paths(value.model_dump(), out)
    return out


def _stamp(path: Path) -> tuple[str, int | None, int | None]:
    """A file's modification time [ns] and size [bytes] (None: absent)."""
    try:
        stat = path.stat()
    except OSError:
        return (str(path), None, None)
    return (str(path), stat.st_mtime_ns, stat.st_size)


def _park_files(file: str, park: Any) -> list[Path]:
    """The park file, every site file it lists and every file a site names."""
    files = [Path(file)] + [ref.file for ref in park.spec.sites if ref.file is not None]
    for scenario in park.sites.values():
        _paths(scenario, files)
    return list(dict.fromkeys(files))


def _content_hash(path: Path) -> str:
    """The SHA-256 of a file's content (kept per modification time and size)."""
    stamp = _stamp(path)
    with _lock:
        if stamp in _hashes:
            return _hashes[stamp]
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = "absent"
    with _lock:
        _hashes[stamp] = digest
    return digest


def _park(file: str) -> tuple[Any, tuple[Any, ...], dict[str, tuple[tuple[str, str], ...]]]:
    """The park file loaded, the stamps of the files it read and each site's tariff
    files with their content hashes (kept while no file the loading read changed: the
    park file, its site files and the series files they name).

    Raises
    ------
    ParkFileGone
        The file is missing or does not load any more.
    """
    from vpp.portfolio.park import load_park

    try:
        with _lock:
            kept = _parks.get(file)
        now = tuple(_stamp(Path(p)) for p, _, _ in (kept[1] if kept else [(file, 0, 0)]))
        if kept is not None and now == kept[1]:
            return kept
        before = {p: (m, n) for p, m, n in now}
        park = load_park(file, allow_outside=True)
        stamps = tuple(_stamp(p) for p in _park_files(file, park))
        tariffs = {
            name: tuple(
                (str(p), _content_hash(p))
                for p in dict.fromkeys(_paths([s.site.grid, s.site.emissions], []))
            )
            for name, s in park.sites.items()
        }
        value = (park, stamps, tariffs)
        # stamped before and after the loading: a file that changed meanwhile is
        # loaded again next time
        if all(before.get(p, (m, n)) == (m, n) for p, m, n in stamps):
            with _lock:
                _parks[file] = value
        return value
    except (OSError, VppError) as exc:
        raise ParkFileGone(
            f"the registered park file {file[:300]!r} does not load any more "
            f"({str(exc)[:300]}); restore it or register the park again (POST /api/v1/parks)"
        ) from None


def site_model(park_file: str, site: str, park: Any = None) -> SiteModel:
    """The scenario of ``site`` in the park file ``park_file`` (a registered park's);
    ``park`` is what :func:`park_stamps` returned when the caller has read it (each
    call otherwise checks every file the park read)."""
    from vpp.scenario.schema import step_minutes

    loaded, stamps, tariffs = park if park is not None else _park(park_file)
    if site not in loaded.sites:
        raise ParkFileGone(
            f"site {site[:200]!r} is registered but no longer in the park file "
            f"{park_file[:300]!r}; restore it or register the park again"
        )
    scenario = loaded.sites[site]
    return SiteModel(
        scenario,
        step_minutes(loaded.spec.horizon.step),
        str(loaded.spec.timezone),
        stamps,
        tariffs[site],
    )


def park_stamps(park_file: str) -> Any:
    """The park loaded, kept while every file its loading read is unchanged (their
    modification times and sizes), for :func:`site_model`'s ``park``."""
    return _park(park_file)


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of ``day``'s month and the first day of the next month."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following


def step_grid(start: dt.date, end: dt.date, model: SiteModel) -> pd.DatetimeIndex:
    """The step labels from local midnight of ``start`` to that of ``end`` (exclusive)."""
    tz = model.timezone
    first = pd.Timestamp(start).tz_localize(tz)
    last = pd.Timestamp(end).tz_localize(tz)
    return pd.date_range(first, last, freq=f"{model.step_minutes}min", inclusive="left")


#: Site entries that add no tariff or factor series (their inputs, such as modelled PV,
#: are the slow part of :func:`vpp.inputs.build_inputs`); monitoring builds without them.
_NOT_TARIFF = ("pv", "batteries", "flexible_loads", "ev_fleets", "gensets", "demand_charges")


def _tariff_scenario(scenario: Any) -> Any:
    """The scenario without the entries of :data:`_NOT_TARIFF` (grid, load, emissions,
    contracts and targets kept)."""
    site = scenario.site.model_copy(update=dict.fromkeys(_NOT_TARIFF, []))
    return scenario.model_copy(update={"site": site})


def month_series(model: SiteModel, first: dt.date, following: dt.date, key: Any) -> pd.DataFrame:
    """The :data:`TARIFF_COLUMNS` of the site on ``[first, following)`` (local days),
    from :func:`vpp.inputs.build_inputs` on that horizon (cached by ``key`` and dates).

    ``key`` names what the series depend on: the site's grid tariff and emission
    factors (sites that share them share the series) with the time zone; the step is
    added here.
    """
    from vpp.inputs.site import build_inputs
    from vpp.timeseries import Horizon

    cache_key = (key, model.step_minutes, first, following)
    with _lock:
        if cache_key in _series:
            _series.move_to_end(cache_key)
            return _series[cache_key]
    horizon = Horizon.from_bounds(
        dt.datetime.combine(first, dt.time()),
        days=(following - first).days,
        step_minutes=model.step_minutes,
        timezone=model.timezone,
    )
    inputs = build_inputs(_tariff_scenario(model.scenario), horizon)
    frame = inputs.series[[c for c in TARIFF_COLUMNS if c in inputs.series]].copy()
    with _lock:
        _series[cache_key] = frame
        while len(_series) > _CACHE_SIZE:
            _series.popitem(last=False)
    return frame


def readings_frame(
    sessions: sessionmaker[Session],
    site_id: int,
    grid: pd.DatetimeIndex,
    step_minutes: int,
    channels: list[str] | None = None,
) -> pd.DataFrame:
    """The site's readings on ``grid`` (module docstring): one column per channel that
    has readings, NaN where a step has none.

    Parameters
    ----------
    sessions : sessionmaker
        The platform's sessions.
    site_id : int
        The site's row id.
    grid : pandas.DatetimeIndex
        Step labels (zone-aware, interval starts).
    step_minutes : int
        The step [min].
    channels : list of str, optional
        Only these channels (default: all).
    """
    return readings_frames(sessions, [site_id], grid, step_minutes, channels)[site_id]


def readings_frames(
    sessions: sessionmaker[Session],
    site_ids: list[int],
    grid: pd.DatetimeIndex,
    step_minutes: int,
    channels: list[str] | None = None,
) -> dict[int, pd.DataFrame]:
    """:func:`readings_frame` of each of ``site_ids`` on the same grid, read in one query."""
    if len(grid) == 0:
        return {s: pd.DataFrame(index=grid) for s in site_ids}
    first = grid[0].tz_convert("UTC").tz_localize(None).to_pydatetime()
    last = (grid[-1] + pd.Timedelta(minutes=step_minutes)).tz_convert("UTC").tz_localize(None)
    # the time as stored (SQLite: ISO text), parsed by numpy below: much faster than a
    # datetime object per row
    raw_time = type_coerce(Reading.timestamp_utc, String)
    query = select(Reading.site_id, Reading.channel, raw_time, Reading.value).where(
        Reading.site_id.in_(site_ids) if len(site_ids) > 1 else Reading.site_id == site_ids[0],
        Reading.timestamp_utc >= first,
        Reading.timestamp_utc < last.to_pydatetime(),
    )
    if channels is not None:
        query = query.where(Reading.channel.in_(channels))
    with sessions() as session:
        rows = session.connection().execute(query).fetchall()
    if not rows:
        return {s: pd.DataFrame(index=grid) for s in site_ids}
    sites = np.array([r[0] for r in rows], dtype=np.int64)
    names = np.array([r[1] for r in rows], dtype=object)
    stamps = np.array([r[2] for r in rows], dtype="datetime64[us]")
    values = np.array([r[3] for r in rows], dtype=float)
    origin = np.datetime64(first, "us")
    step_us = step_minutes * 60 * 1_000_000
    position = ((stamps - origin).astype(np.int64) // step_us).astype(np.int64)
    order = np.argsort(sites, kind="stable")
    cuts = np.searchsorted(sites[order], site_ids)
    ends = np.searchsorted(sites[order], site_ids, side="right")
    out = {}
    for site, lo, hi in zip(site_ids, cuts.tolist(), ends.tolist(), strict=True):
        mine = order[lo:hi]
        out[site] = _on_grid(names[mine], stamps[mine], values[mine], position[mine], grid)
    return out


def _on_grid(
    names: np.ndarray,
    stamps: np.ndarray,
    values: np.ndarray,
    position: np.ndarray,
    grid: pd.DatetimeIndex,
) -> pd.DataFrame:
    """One site's readings put on the step grid (module docstring)."""
    n = len(grid)
    out = {}
    for channel in sorted(set(names.tolist())):
        mine = names == channel
        where, amount = position[mine], values[mine]
        total = np.bincount(where, weights=amount, minlength=n)[:n]
        count = np.bincount(where, minlength=n)[:n]
        if channel in FUEL_CHANNELS:
            column = np.where(count > 0, total, np.nan)
        elif str(channel).endswith("_soc_kwh"):
            column = np.full(n, np.nan)
            order = np.argsort(stamps[mine], kind="stable")
            column[where[order]] = amount[order]  # the last reading of each step wins
        else:
            column = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        out[str(channel)] = column
    return pd.DataFrame(out, index=grid)


def present_steps(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Whether each step of ``frame`` has a reading of ``column`` (bool per step)."""
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    return np.isfinite(frame[column].to_numpy(dtype=float))


def column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """The column ``name`` of ``frame`` as floats, NaN throughout when it is absent."""
    if name in frame:
        return frame[name].to_numpy(dtype=float)
    return np.full(len(frame), np.nan)


def finite_or_none(value: float) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    value = float(value)
    return value if np.isfinite(value) else None
