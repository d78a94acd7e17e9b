"""A site's schedule for one date as the platform publishes it on MQTT.

The payload (UTF-8 JSON, ``docs/platform-mqtt.md``)::

    {"version": 1, "park": "demo", "site": "factory_a", "date": "2026-07-16",
     "run_id": "20260715T180000-1a2b", "created_at": "2026-07-15T18:00:04+08:00",
     "fallback": false, "step_minutes": 15,
     "timestamps": ["2026-07-16T00:00:00+08:00", ...],
     "setpoints_kw": {"bess1": [-250.0, ...]},
     "soc_kwh": {"bess1": [400.0, ...]}}

``timestamps`` are the starts of the steps, ISO 8601 with their UTC offset. Per storage
unit (each unit with the storage roles, by its name): ``setpoints_kw`` is the planned
power at the site's bus over the step, **discharge minus charge** (positive: the battery
gives power to the site) [kW]; ``soc_kwh`` is the planned state of charge at the start of
the step [kWh]. Values are rounded to :data:`DECIMALS` decimals (1 W, 1 Wh).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from vpp.assets.columns import role_columns
from vpp.errors import DataError, Problem, short
from vpp.platform_mqtt.topics import check_name

__all__ = [
    "DECIMALS",
    "MAX_SETPOINT_KW",
    "MAX_SOC_KWH",
    "PAYLOAD_VERSION",
    "SiteSchedule",
    "schedule_from_frame",
    "schedule_payload",
]

#: Version of the payload's layout; a reader refuses versions it does not know.
PAYLOAD_VERSION = 1
#: Decimals kept in ``setpoints_kw`` and ``soc_kwh`` (0.001 kW = 1 W) [-].
DECIMALS = 3
#: Largest set point magnitude published; a bigger one is a bug upstream [kW]
#: (illustrative bound: 1 GW, far above any site of an industrial park).
MAX_SETPOINT_KW = 1.0e6
#: Largest state of charge published [kWh] (illustrative bound: 10 GWh).
MAX_SOC_KWH = 1.0e7


@dataclass(frozen=True)
class SiteSchedule:
    """One site's committed schedule for one date (module docstring for the payload).

    Parameters
    ----------
    park, site : str
        The park and the site (topic levels, :func:`vpp.platform_mqtt.topics.check_name`).
    date : datetime.date
        The date the schedule is for (local date of the park).
    run_id : str or None
        The run that made the plan (None: a schedule recorded without one; the
        payload then says ``null``).
    created_at : datetime.datetime
        When the plan was made, tz-aware.
    timestamps : sequence of datetime.datetime
        Step starts, tz-aware, strictly increasing.
    setpoints_kw : mapping of str to sequence of float
        Per storage unit: discharge minus charge at the bus, one per step [kW].
    soc_kwh : mapping of str to sequence of float
        Per storage unit: state of charge at the start of each step [kWh].
    fallback : bool
        Whether this is the job's fallback (rule-based) schedule.

    Raises
    ------
    DataError
        Every problem found (naive times, unordered steps, lengths, values not finite or
        outside ``[-MAX_SETPOINT_KW, MAX_SETPOINT_KW]`` or ``[0, MAX_SOC_KWH]``), together.
    """

    park: str
    site: str
    date: dt.date
    run_id: str | None
    created_at: dt.datetime
    timestamps: Sequence[dt.datetime]
    setpoints_kw: Mapping[str, Sequence[float]]
    soc_kwh: Mapping[str, Sequence[float]] = field(default_factory=dict)
    fallback: bool = False

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise DataError(problems)


def _problem(key: str, message: str, value: object, allowed: str) -> Problem:
    return Problem(
        f"schedule to publish: {message}",
        key=key,
        value=short(value, 80),
        allowed=allowed,
        fix="correct the schedule before it is committed (a bug upstream of the publisher)",
    )


def _problems(schedule: SiteSchedule) -> list[Problem]:
    found: list[Problem] = []
    for what in ("park", "site"):
        try:
            check_name(getattr(schedule, what), what)
        except ValueError as exc:
            found.append(_problem(what, str(exc), getattr(schedule, what), "a topic level"))
    run_id = schedule.run_id
    if run_id is not None and (not isinstance(run_id, str) or not 0 < len(run_id) <= 200):
        found.append(_problem("run_id", "not a run id", run_id, "None or 1 to 200 characters"))
    if not isinstance(schedule.date, dt.date) or isinstance(schedule.date, dt.datetime):
        found.append(_problem("date", "not a date", schedule.date, "a datetime.date"))
    stamps = list(schedule.timestamps)
    for key, stamp in [("created_at", schedule.created_at)] + [
        (f"timestamps[{i}]", t) for i, t in enumerate(stamps)
    ]:
        if not isinstance(stamp, dt.datetime) or stamp.utcoffset() is None:
            found.append(_problem(key, "time without a UTC offset", stamp, "tz-aware"))
            return found
    if not stamps:
        found.append(_problem("timestamps", "no step", stamps, "one or more steps"))
    for i in range(1, len(stamps)):
        if stamps[i] <= stamps[i - 1]:
            found.append(
                _problem(f"timestamps[{i}]", "steps not increasing", stamps[i], "increasing")
            )
            break
    ranges = (
        ("setpoints_kw", schedule.setpoints_kw, -MAX_SETPOINT_KW, MAX_SETPOINT_KW, "kW"),
        ("soc_kwh", schedule.soc_kwh, 0.0, MAX_SOC_KWH, "kWh"),
    )
    for name, series, low, high, unit in ranges:
        for unit_name, values in series.items():
            key = f"{name}[{unit_name!r}]"
            if not isinstance(unit_name, str) or not unit_name:
                found.append(_problem(key, "unit without a name", unit_name, "a name"))
            if len(values) != len(stamps):
                found.append(
                    _problem(key, "length differs from timestamps", len(values), f"{len(stamps)}")
                )
            for i, value in enumerate(values):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                if not ok or not math.isfinite(value) or not low <= value <= high:
                    allowed = f"a finite number in [{low:g}, {high:g}] [{unit}]"
                    found.append(_problem(f"{key}[{i}]", "value out of range", value, allowed))
                    break
    return found


def _iso(stamp: dt.datetime) -> str:
    return stamp.isoformat()


def schedule_payload(schedule: SiteSchedule) -> bytes:
    """The schedule as its MQTT payload (module docstring), UTF-8 JSON bytes."""
    stamps = list(schedule.timestamps)
    steps = {round((b - a).total_seconds() / 60) for a, b in zip(stamps, stamps[1:])}
    body: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "park": schedule.park,
        "site": schedule.site,
        "date": schedule.date.isoformat(),
        "run_id": schedule.run_id,
        "created_at": _iso(schedule.created_at),
        "fallback": bool(schedule.fallback),
        "step_minutes": steps.pop() if len(steps) == 1 else None,
        "timestamps": [_iso(t) for t in stamps],
        "setpoints_kw": {
            k: [round(float(v), DECIMALS) + 0.0 for v in vs]
            for k, vs in schedule.setpoints_kw.items()
        },
        "soc_kwh": {
            k: [round(float(v), DECIMALS) + 0.0 for v in vs] for k, vs in schedule.soc_kwh.items()
        },
    }
    return json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")


def schedule_from_frame(
    park: str,
    site: str,
    spec: Any,
    frame: Any,
    *,
    date: dt.date,
    run_id: str,
    created_at: dt.datetime,
    fallback: bool = False,
) -> SiteSchedule:
    """A site's schedule from the job's schedule table (``schedule.csv`` as a frame).

    Storage units are found by their roles (``storage_charge``, ``storage_discharge``,
    ``storage_soc``: :func:`vpp.assets.columns.role_columns`), not by kind. A table
    without a storage unit's columns raises :class:`~vpp.errors.DataError` (it is not
    this site's schedule); its other columns are not published.

    Parameters
    ----------
    park, site : str
        The park's name and the site's name in the park (the park file's key, which
        may differ from the scenario's ``site.name``).
    spec : vpp.scenario.schema.Site
        The site's scenario (its storage entries).
    frame : pandas.DataFrame
        The site's schedule for ``date``, indexed by its step starts: tz-aware times or
        their ISO 8601 text with the UTC offset (as the platform stores the table).
    date, run_id, created_at, fallback
        As in :class:`SiteSchedule`.
    """
    charge = {e.name: c for _, e, c in role_columns(spec, "storage_charge")}
    discharge = {e.name: c for _, e, c in role_columns(spec, "storage_discharge")}
    soc = {e.name: c for _, e, c in role_columns(spec, "storage_soc")}
    wanted = [*charge.values(), *discharge.values(), *soc.values()]
    missing = [column for column in wanted if column not in frame.columns]
    if missing:
        raise DataError(
            Problem(
                "schedule to publish: the table lacks its storage units' columns",
                key=f"{park}/{site}",
                value=short(missing, 200),
                allowed=f"columns {short(wanted, 200)}",
                fix="publish the table of this site's own schedule (the job's schedule.csv)",
            )
        )
    setpoints, states = {}, {}
    for name in charge:
        power = frame[discharge[name]].to_numpy(float) - frame[charge[name]].to_numpy(float)
        setpoints[name] = power.tolist()
    for name in soc:
        states[name] = frame[soc[name]].to_numpy(float).tolist()
    return SiteSchedule(
        park=park,
        site=site,
        date=date,
        run_id=run_id,
        created_at=created_at,
        timestamps=[pd.Timestamp(t).to_pydatetime() for t in frame.index],
        setpoints_kw=setpoints,
        soc_kwh=states,
        fallback=fallback,
    )
