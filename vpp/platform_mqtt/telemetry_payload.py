"""Telemetry arriving by MQTT: one message checked, every problem named.

A message on ``vpp/<park>/<site>/telemetry/<channel>`` is UTF-8 JSON, one reading or a
list of readings (a batch)::

    {"t": "2026-07-15T14:45:00+08:00", "value": 312.5}
    [{"t": "2026-07-15T14:30:00+08:00", "value": 301.0},
     {"t": "2026-07-15T14:45:00+08:00", "value": 312.5}]

``t`` is the reading's time (a power: the start of the step it averages), ISO 8601 with
its UTC offset, as in the job's telemetry files (``docs/telemetry.md``); ``value`` is a
number in the channel's unit, which its name ends in. A message is taken whole or not at
all (as the HTTP API takes a batch). It is refused, with every problem named (field,
value, what is allowed), when:

- it is larger than :data:`MAX_PAYLOAD_BYTES`, not UTF-8 JSON, not an object or a list
  of objects, an empty list, or longer than :data:`MAX_READINGS` readings;
- a reading lacks ``t`` or ``value`` or has another key;
- ``t`` is not text, does not parse, has no UTC offset, is before
  :data:`EARLIEST_READING` or more than :data:`FUTURE_TOLERANCE_S` after the
  platform's clock (future-dated);
- ``value`` is not a number (``true``, text, ``null``), not finite (``NaN``,
  ``Infinity``), or outside the channel's bounds (:data:`CHANNEL_BOUNDS`);
- the same ``t`` comes twice with different values;
- the channel's name has no known unit.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from vpp.errors import Problem, short

__all__ = [
    "CHANNEL_BOUNDS",
    "EARLIEST_READING",
    "FUTURE_TOLERANCE_S",
    "MAX_PROBLEMS",
    "MAX_PAYLOAD_BYTES",
    "MAX_READINGS",
    "VALUE_LIMIT",
    "Checked",
    "Reading",
    "channel_bounds",
    "check_readings",
]

#: Largest telemetry message [bytes] (a month of 15-minute readings is ~150 kB).
MAX_PAYLOAD_BYTES = 1_000_000
#: Most readings in one message [-] (31 days of 15-minute steps: 2,976).
MAX_READINGS = 10_000
#: Problems listed per message; the rest are counted [-].
MAX_PROBLEMS = 20
#: How far a reading may be ahead of the platform's clock (meters' clock drift) [s].
FUTURE_TOLERANCE_S = 300.0
#: No reading before this time is taken (a meter whose clock was reset) [-].
EARLIEST_READING = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: Largest magnitude of any reading in its channel's unit (illustrative sanity bound, far
#: above any park meter; the platform's HTTP API uses the same) [-].
VALUE_LIMIT = 1.0e9
#: Bounds of a channel's value by the unit its name ends in, ``(low, high, unit)``: the
#: channels of the platform (``import_kw``, ``export_kw``, ``load_kw``, ``<array>_pv_kw``,
#: ``<battery>_soc_kwh``, ``natural_gas_nm3``, ``heat_gj``, ``diesel_t``). Powers and
#: fuels are at least 0 as in the job's telemetry files (``docs/telemetry.md``); a state
#: of charge outside its battery's bounds is clipped and flagged where it is used.
CHANNEL_BOUNDS: dict[str, tuple[float, float, str]] = {
    "_kw": (0.0, VALUE_LIMIT, "kW"),
    "_kwh": (-VALUE_LIMIT, VALUE_LIMIT, "kWh"),
    "_nm3": (0.0, VALUE_LIMIT, "Nm3"),
    "_gj": (0.0, VALUE_LIMIT, "GJ"),
    "_t": (0.0, VALUE_LIMIT, "t"),
}


class Reading(NamedTuple):
    """One checked reading: its time (tz-aware) and value [the channel's unit]."""

    t: dt.datetime
    value: float


@dataclass(frozen=True)
class Checked:
    """A message checked: its readings if every one is good, else its problems.

    Attributes
    ----------
    readings : list of Reading
        The readings, in the message's order (empty when any problem was found).
    problems : list of Problem
        Every problem; ``key`` names the field (``[3].value``), ``value`` what came.
    """

    readings: list[Reading]
    problems: list[Problem]


def channel_bounds(channel: str) -> tuple[float, float, str] | None:
    """``(low, high, unit)`` of a channel by the unit its name ends in, or None."""
    for suffix, bounds in sorted(CHANNEL_BOUNDS.items(), key=lambda kv: -len(kv[0])):
        if channel.endswith(suffix) and len(channel) > len(suffix):
            return bounds
    return None


def _problem(topic: str, key: str, message: str, value: object, allowed: str) -> Problem:
    return Problem(
        f"telemetry message refused: {message}",
        file=topic,
        key=key,
        value=short(value, 80),
        allowed=allowed,
        fix="correct the meter gateway's message (format: docs/platform-mqtt.md) and send it again",
    )


def check_readings(
    topic: str,
    channel: str,
    payload: bytes,
    now: dt.datetime,
    bounds: Callable[[str], tuple[float, float, str] | None] = channel_bounds,
) -> Checked:
    """Check one telemetry message (module docstring).

    Parameters
    ----------
    topic : str
        Its topic (named in the problems).
    channel : str
        Its channel (the topic's last level).
    payload : bytes
        The message.
    now : datetime.datetime
        The platform's clock, tz-aware.
    bounds : callable
        ``(low, high, unit)`` of a channel, or None for a channel not taken
        (default :func:`channel_bounds`).

    Returns
    -------
    Checked
        The readings, or the problems (the message is then taken not at all).
    """
    limits = bounds(channel)
    if limits is None:
        known = ", ".join(f"<name>{s}" for s in CHANNEL_BOUNDS)
        return Checked([], [_problem(topic, "channel", "unknown channel", channel, known)])
    if len(payload) > MAX_PAYLOAD_BYTES:
        allowed = f"at most {MAX_PAYLOAD_BYTES} bytes"
        return Checked([], [_problem(topic, "", "message too large", len(payload), allowed)])
    try:
        body = json.loads(payload.decode("utf-8"))  # reads NaN, Infinity: named below
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        allowed = 'UTF-8 JSON {"t": ..., "value": ...} or a list of them'
        return Checked([], [_problem(topic, "", f"not JSON ({exc})", payload[:60], allowed)])
    single = isinstance(body, dict)
    items = [body] if single else body
    if not isinstance(items, list) or not items or len(items) > MAX_READINGS:
        allowed = f'an object {{"t": ..., "value": ...}} or a list of 1 to {MAX_READINGS}'
        return Checked([], [_problem(topic, "", "not a reading or a batch", body, allowed)])
    problems: list[Problem] = []
    readings: list[Reading] = []
    seen: dict[dt.datetime, float] = {}
    for i, item in enumerate(items):
        where = "" if single else f"[{i}]"
        reading = _reading(topic, where, item, now, limits, problems)
        if reading is None:
            continue
        earlier = seen.setdefault(reading.t, reading.value)
        if earlier != reading.value:
            problems.append(
                _problem(
                    topic,
                    _field(where, "t"),
                    f"two values at the same time ({earlier} earlier in the message)",
                    item.get("t"),
                    "one value per time",
                )
            )
        readings.append(reading)
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS]
        problems.append(_problem(topic, "", f"{more} more problem(s) like these", more, ""))
    return Checked([] if problems else readings, problems)


def _field(where: str, name: str) -> str:
    """``t`` of a single reading, ``[3].t`` of a batch's fourth."""
    return f"{where}.{name}" if where else name


def _reading(
    topic: str,
    where: str,
    item: Any,
    now: dt.datetime,
    limits: tuple[float, float, str],
    problems: list[Problem],
) -> Reading | None:
    """One reading of the message checked; its problems appended (None if any)."""
    if not isinstance(item, dict) or set(item) != {"t", "value"}:
        keys = sorted(item) if isinstance(item, dict) else item
        allowed = 'an object with exactly the keys "t" and "value"'
        problems.append(_problem(topic, where or "reading", "wrong keys", keys, allowed))
        return None
    found = len(problems)
    text = item["t"]
    stamp = None
    if isinstance(text, str) and len(text) <= 40:
        try:
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            stamp = None
    example = "ISO 8601 with its UTC offset, e.g. 2026-07-15T14:45:00+08:00"
    if stamp is None or stamp.utcoffset() is None:
        message = "time does not parse or has no offset"
        problems.append(_problem(topic, _field(where, "t"), message, text, example))
    else:
        latest = now + dt.timedelta(seconds=FUTURE_TOLERANCE_S)
        if not EARLIEST_READING <= stamp <= latest:
            allowed = f"from {EARLIEST_READING.date()} to {latest.isoformat()}"
            problems.append(_problem(topic, _field(where, "t"), "time out of range", text, allowed))
    value = item["value"]
    low, high, unit = limits
    allowed = f"a finite number in [{low:g}, {high:g}] [{unit}]"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(_problem(topic, _field(where, "value"), "not a number", value, allowed))
    elif isinstance(value, float) and not math.isfinite(value):
        problems.append(_problem(topic, _field(where, "value"), "not finite", value, allowed))
    elif not low <= value <= high:
        problems.append(_problem(topic, _field(where, "value"), "out of bounds", value, allowed))
    if len(problems) > found or stamp is None:
        return None
    return Reading(stamp, float(value))
