"""EV fleets: read and check the sessions file, and build the block's series.

The file's columns are described in :mod:`vpp.scenario.ev`. Every problem in a file
(missing or unknown columns, unreadable values, a departure at or before the arrival,
energy that does not fit in the session at the charger's power) is collected and
raised together in one :class:`~vpp.errors.DataError` naming the file, the row, the
value, what is allowed and the fix.

Sessions and the horizon: a session entirely outside the horizon is ignored; a session
partly inside is clipped to the horizon and owes the share of its energy that its
time inside bears to its whole duration (as a shiftable load's window does). Neither is
an error, since one sessions file may cover more than one run; both are notes of the
site's inputs (``SiteInputs.notes``, :func:`horizon_notes`: the sessions by vehicle and
row, times in the horizon's time zone) that run summaries and the daily job's flags show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.ev_fleet.block import session_steps, uses_per_vehicle
from vpp.errors import DataError, Problem
from vpp.model import AssetInput
from vpp.scenario.ev import EVFleet
from vpp.timeseries import Horizon

REQUIRED_COLUMNS = ("vehicle", "arrival", "departure", "energy_kwh")
OPTIONAL_COLUMNS = ("count", "max_power_kw")
#: Relative slack on "the energy fits in the session" (rounding of written values) [-].
FIT_RTOL = 1e-9


#: Sessions named in one note; the rest are counted [-].
NOTE_SESSIONS_MAX = 10


@dataclass(frozen=True)
class Session:
    """One row of a sessions file (``count`` identical vehicles).

    Attributes
    ----------
    line : int
        Line in the file (the header is line 1).
    vehicle : str
        Vehicle or group id.
    count : int
        Number of identical vehicles [-].
    arrival, departure : pandas.Timestamp
        Plug-in and leaving times (tz-aware).
    energy_kwh : float
        Energy each vehicle needs by departure, battery side [kWh].
    charge_kw, discharge_kw : float
        Each vehicle's charge and discharge power, bus side [kW].
    """

    line: int
    vehicle: str
    count: int
    arrival: pd.Timestamp
    departure: pd.Timestamp
    energy_kwh: float
    charge_kw: float
    discharge_kw: float


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _time(text: str, timezone: str | None) -> pd.Timestamp | str:
    """A tz-aware timestamp, or the reason it is not one."""
    try:
        stamp = pd.Timestamp(text.strip())
    except (ValueError, TypeError):
        return "not an ISO 8601 timestamp"
    if stamp is pd.NaT:
        return "empty"
    if stamp.tzinfo is None:
        if timezone is None:
            return "has no UTC offset"
        try:
            stamp = stamp.tz_localize(timezone, ambiguous="raise", nonexistent="raise")
        except (ValueError, TypeError):  # pytz/zoneinfo raise ValueError subclasses
            return f"does not exist or is ambiguous in {timezone}"
    return stamp


def read_sessions(fleet: EVFleet, where: str) -> list[Session]:
    """Read and check the sessions file of ``fleet``.

    Parameters
    ----------
    fleet : EVFleet
        The scenario entry.
    where : str
        Its scenario key (``site.ev_fleets[0]``), for messages.

    Raises
    ------
    DataError
        With every problem of the file.
    """
    path = Path(fleet.sessions_file)
    file, key = str(path), f"{where}.sessions_file"
    if not path.is_file():
        raise DataError(
            Problem(
                "sessions file not found",
                file=file,
                key=key,
                fix="check the path (relative paths start at the scenario file's folder)",
            )
        )
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(
            Problem(f"cannot read the sessions file: {exc}", file=file, key=key)
        ) from None
    allowed = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    problems: list[Problem] = []
    if missing:
        problems.append(
            Problem(
                f"missing column(s) {missing}",
                file=file,
                key=key,
                value=f"columns {list(frame.columns)}",
                allowed=allowed,
                fix="add the columns to the header (see vpp.scenario.ev)",
            )
        )
    if unknown:
        problems.append(
            Problem(
                f"unknown column(s) {unknown}",
                file=file,
                key=key,
                allowed=allowed,
                fix="rename or remove them",
            )
        )
    if problems:
        raise DataError(problems)
    sessions: list[Session] = []
    for i, row in enumerate(frame.to_dict("records")):
        line = i + 2
        found: list[Problem] = []

        def bad(
            column: str,
            message: str,
            value: str,
            allowed: str,
            fix: str,
            found: list[Problem] = found,
            line: int = line,
        ) -> None:
            found.append(
                Problem(
                    message,
                    file=file,
                    key=f"row {line}, column {column}",
                    value=repr(value),
                    allowed=allowed,
                    fix=fix,
                )
            )

        vehicle = str(row["vehicle"]).strip()
        if not vehicle:
            bad("vehicle", "empty vehicle id", "", "any non-empty id", "name the vehicle")
        count_text = str(row.get("count", "") or "1").strip()
        count_value = _number(count_text)  # "3" or "3.0" (a spreadsheet's way)
        count = int(count_value) if count_value is not None and count_value.is_integer() else 0
        if count < 1:
            bad("count", "bad vehicle count", count_text, "a whole number >= 1", "fix the count")
        times = {}
        for column in ("arrival", "departure"):
            stamp = _time(str(row[column]), fleet.timezone)
            if isinstance(stamp, str):
                bad(
                    column,
                    f"{column} time {stamp}",
                    str(row[column]),
                    "ISO 8601 with offset, e.g. 2026-01-05T18:00:00+08:00",
                    "write the offset, or give the fleet's 'timezone' for naive times",
                )
            else:
                times[column] = stamp
        energy = _number(str(row["energy_kwh"]))
        if energy is None or energy < 0.0:
            bad("energy_kwh", "bad energy", str(row["energy_kwh"]), "a number >= 0 [kWh]", "fix it")
        limit_text = str(row.get("max_power_kw", "")).strip()
        limit = _number(limit_text) if limit_text else fleet.charger_power_kw
        if limit is None or limit <= 0.0:
            bad("max_power_kw", "bad power", limit_text, "a number > 0 [kW] or empty", "fix it")
        if found:
            problems += found
            continue
        arrival, departure = times["arrival"], times["departure"]
        stamp = f"arrival {arrival.isoformat()}, departure {departure.isoformat()}"
        if departure <= arrival:
            problems.append(
                Problem(
                    f"vehicle '{vehicle}' departs at or before it arrives",
                    file=file,
                    key=f"row {line}, column departure",
                    timestamp=departure.isoformat(),
                    value=stamp,
                    allowed="departure after arrival",
                    fix="swap or correct the times",
                )
            )
            continue
        power = min(float(fleet.charger_power_kw), float(limit))
        hours = (departure - arrival).total_seconds() / 3600.0
        fits = fleet.charge_efficiency * power * hours
        if energy > fits * (1.0 + FIT_RTOL):
            problems.append(
                Problem(
                    f"vehicle '{vehicle}' needs more energy than fits in its session "
                    f"({hours:g} h at {power:g} kW x efficiency {fleet.charge_efficiency:g})",
                    file=file,
                    key=f"row {line}, column energy_kwh",
                    timestamp=arrival.isoformat(),
                    value=f"{energy:g} kWh ({stamp})",
                    allowed=f"at most {fits:.3f} kWh",
                    fix="lower energy_kwh, lengthen the session or raise the charger power",
                )
            )
            continue
        discharge = min(fleet.discharge_kw, float(limit))
        sessions.append(
            Session(line, vehicle, count, arrival, departure, float(energy), power, discharge)
        )
    if problems:
        raise DataError(problems)
    return sessions


def envelope_bounds(
    series: dict[str, np.ndarray], n: int, gain_kwh_per_kw: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""Cumulative-energy bounds of the fleet envelope at the ``n + 1`` points [kWh].

    With :math:`\Gamma_s(k) = \eta^{ch} \bar P_s \Delta t \sum_{\tau < k} a_{s,\tau}`
    the most energy session :math:`s` can have received by point :math:`k` at full
    power:

    .. math::

        \overline{\mathcal E}_k = \sum_s \min\left(E_s, \Gamma_s(k)\right), \qquad
        \underline{\mathcal E}_k = \sum_s \max\left(0, E_s - (\Gamma_s(N) -
        \Gamma_s(k))\right)

    :math:`\overline{\mathcal E}_k` is the energy the sessions that have arrived by
    :math:`k` can hold; :math:`\underline{\mathcal E}_k` the energy that must have been
    delivered by :math:`k` so that every session can still get its energy by departure.
    With chargers that are never the limit they reduce to the energy of the sessions
    arrived by :math:`k` and of those departed by :math:`k`.

    Parameters
    ----------
    series : dict
        The session series of :func:`ev_fleet_series`.
    n : int
        Number of steps.
    gain_kwh_per_kw : float
        :math:`\eta^{ch} \Delta t` [kWh/kW].
    """
    e_min, e_max = np.zeros(n + 1), np.zeros(n + 1)
    tail = np.zeros(n + 2)
    for s, (energy, power) in enumerate(
        zip(series["session_energy_kwh"].tolist(), series["session_charge_kw"].tolist())
    ):
        steps, frac = session_steps(series, s)
        lo, hi = int(steps[0]), int(steps[-1]) + 1
        reach = np.concatenate(([0.0], np.cumsum(frac))) * gain_kwh_per_kw * power
        e_max[lo : hi + 1] += np.minimum(energy, reach)
        e_min[lo : hi + 1] += np.maximum(0.0, energy - (reach[-1] - reach))
        tail[hi + 1] += energy
    carried = np.cumsum(tail)[: n + 1]
    e_max += carried
    e_min += carried
    return np.minimum(e_min, e_max), e_max


def ev_fleet_series(
    fleet: EVFleet, sessions: list[Session], horizon: Horizon, where: str, notes: list[str]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The block series of a fleet on the horizon, and its uncontrolled charging [kW].

    Sessions clipped to the horizon or outside it are said in ``notes``
    (:func:`horizon_notes`), which this appends to.

    Returns
    -------
    series : dict of str to numpy.ndarray
        Per kept session ``s``: ``session_first_step``, ``session_end_step`` (exclusive),
        ``session_first_fraction`` and ``session_last_fraction`` (connected share of
        the first and last step [-]), ``session_energy_kwh`` (due inside the horizon,
        x count), ``session_charge_kw`` and ``session_discharge_kw`` (x count),
        ``session_vehicle``, ``session_departure`` (ISO text), ``session_line``; per
        step ``max_charge_kw`` and ``max_discharge_kw`` (connected chargers [kW]); for
        the envelope, ``energy_min_kwh`` and ``energy_max_kwh`` at the ``n + 1``
        points (:func:`envelope_bounds`).
    default_kw : numpy.ndarray
        The baseline: every session charges at full power from its arrival until its
        energy is delivered (uncontrolled charging), bus side [kW].
    """
    n, dt_h = horizon.n, horizon.step_h
    t_ns = horizon.index.as_unit("ns").asi8
    step_ns = int(round(dt_h * 3600e9))
    h_start, h_end = int(t_ns[0]), int(t_ns[-1]) + step_ns
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "session_first_step",
            "session_end_step",
            "session_first_fraction",
            "session_last_fraction",
            "session_energy_kwh",
            "session_charge_kw",
            "session_discharge_kw",
            "session_vehicle",
            "session_departure",
            "session_line",
        )
    }
    outside: list[Session] = []
    clipped: list[Session] = []
    gain = fleet.charge_efficiency * dt_h
    for sess in sessions:
        a, d = sess.arrival.value, sess.departure.value
        if d <= h_start or a >= h_end:
            outside.append(sess)
            continue
        ca, cd = max(a, h_start), min(d, h_end)
        if (ca, cd) != (a, d):
            clipped.append(sess)
        lo = (ca - h_start) // step_ns
        hi = -((h_start - cd) // step_ns)  # ceil
        first = (min(cd, h_start + (lo + 1) * step_ns) - ca) / step_ns
        last = (cd - max(ca, h_start + (hi - 1) * step_ns)) / step_ns
        power = sess.charge_kw * sess.count
        reach = gain * power * (cd - ca) / step_ns  # at full power, inside the horizon
        due = sess.energy_kwh * sess.count * (cd - ca) / (d - a)
        for key, value in (
            ("session_first_step", lo),
            ("session_end_step", hi),
            ("session_first_fraction", first),
            ("session_last_fraction", last),
            ("session_energy_kwh", min(due, reach)),
            ("session_charge_kw", power),
            ("session_discharge_kw", sess.discharge_kw * sess.count),
            ("session_vehicle", sess.vehicle),
            ("session_departure", sess.departure.isoformat()),
            ("session_line", sess.line),
        ):
            cols[key].append(value)
    notes.extend(horizon_notes(fleet, where, horizon, outside, clipped))
    series: dict[str, np.ndarray] = {
        k: np.array(v, dtype=object if k in ("session_vehicle", "session_departure") else None)
        for k, v in cols.items()
    }
    for k in ("session_first_step", "session_end_step", "session_line"):
        series[k] = series[k].astype(np.int64)
    for k in ("session_first_fraction", "session_last_fraction", "session_energy_kwh"):
        series[k] = series[k].astype(float)
    for k in ("session_charge_kw", "session_discharge_kw"):
        series[k] = series[k].astype(float)
    max_charge, max_discharge, default = np.zeros(n), np.zeros(n), np.zeros(n)
    for s in range(len(series["session_energy_kwh"])):
        steps, frac = session_steps(series, s)
        power = series["session_charge_kw"][s] * frac
        max_charge[steps] += np.minimum(power, series["session_energy_kwh"][s] / gain)
        max_discharge[steps] += series["session_discharge_kw"][s] * frac
        delivered = np.minimum(np.cumsum(power * gain), series["session_energy_kwh"][s])
        default[steps] += np.diff(delivered, prepend=0.0) / gain
    series["max_charge_kw"] = max_charge
    series["max_discharge_kw"] = max_discharge
    if not uses_per_vehicle(fleet, len(series["session_energy_kwh"])):
        series["energy_min_kwh"], series["energy_max_kwh"] = envelope_bounds(series, n, gain)
    return series, default


def _listed(sessions: list[Session], tz: Any, span: bool) -> str:
    """The sessions by vehicle and row, times in ``tz``; past NOTE_SESSIONS_MAX, a count."""
    parts = []
    for sess in sessions[:NOTE_SESSIONS_MAX]:
        when = sess.arrival.tz_convert(tz).isoformat()
        if span:
            when += f" to {sess.departure.tz_convert(tz).isoformat()}"
        parts.append(f"'{sess.vehicle}' (row {sess.line}, {when})")
    more = len(sessions) - NOTE_SESSIONS_MAX
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def horizon_notes(
    fleet: EVFleet,
    where: str,
    horizon: Horizon,
    outside: list[Session],
    clipped: list[Session],
) -> list[str]:
    """What was done with sessions that do not lie inside the horizon, one note each kind.

    Parameters
    ----------
    fleet : EVFleet
        The scenario entry.
    where : str
        Its scenario key (``site.ev_fleets[0]``).
    horizon : Horizon
        The run's steps (times are given in its time zone, +08:00 for Asia/Shanghai).
    outside, clipped : list of Session
        Sessions entirely outside the horizon (ignored) and partly outside (clipped).

    Returns
    -------
    list of str
        Up to two notes naming the file, the horizon and the sessions (vehicle, row,
        arrival and departure), at most :data:`NOTE_SESSIONS_MAX` by name each.
    """
    if not (outside or clipped):
        return []
    tz = horizon.index.tz
    start = horizon.index[0]
    end = start + pd.Timedelta(hours=horizon.step_h * horizon.n)
    head = (
        f"EV fleet '{fleet.name}' ({where}, {fleet.sessions_file}): "
        f"horizon {start.isoformat()} to {end.isoformat()}"
    )
    notes = []
    if clipped:
        notes.append(
            f"{head}: {len(clipped)} session(s) partly outside it clipped to it, their "
            f"energy scaled to the time inside: {_listed(clipped, tz, span=True)}"
        )
    if outside:
        notes.append(
            f"{head}: {len(outside)} session(s) outside it ignored: "
            f"{_listed(outside, tz, span=True)}"
        )
    return notes


def ev_inputs(
    fleet: EVFleet, horizon: Horizon, where: str, notes: list[str]
) -> tuple[AssetInput, np.ndarray]:
    """The block input of a fleet and its uncontrolled-charging baseline [kW]; sessions
    clipped or outside the horizon are said in ``notes`` (appended to).

    Raises
    ------
    DataError
        With every problem of the sessions file.
    """
    sessions = read_sessions(fleet, where)
    series, default = ev_fleet_series(fleet, sessions, horizon, where, notes)
    return AssetInput(fleet.name, "ev_fleet", fleet, series), default
