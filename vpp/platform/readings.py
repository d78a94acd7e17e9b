"""Telemetry readings: checked as the daily job checks its files, stored idempotently.

The checks are those of :mod:`vpp.jobs.telemetry` (``docs/telemetry.md``), applied to
rows of ``channel``, ``timestamp``, ``value``: a timestamp is ISO 8601 with its UTC
offset; a reading is not future-dated (after the server's clock plus
:data:`CLOCK_SKEW_S`); a value is a finite number, at least 0 except a state of charge,
within :data:`~vpp.platform.channels.VALUE_LIMIT`; the channel is one of the site's
(:mod:`vpp.platform.channels`); the same channel and timestamp appear once per batch.
Every problem is listed (the first :data:`~vpp.jobs.telemetry.MAX_PROBLEMS_PER_COLUMN`
per field and kind, then a count), each naming the field, the row and the value.

Storing is idempotent on (site, channel, timestamp): a reading already stored with the
same value (within :data:`REPEAT_TOLERANCE`) is accepted and counted as a repeat; one
stored with another value refuses the whole batch (409) with the stored value shown.
A batch is stored in one transaction, committed before :func:`store_checked` returns.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vpp.jobs.telemetry import MAX_PROBLEMS_PER_COLUMN
from vpp.platform.channels import VALUE_LIMIT, Channel
from vpp.platform.models import Reading
from vpp.platform.refusals import ReadingConflict, TelemetryRefused

__all__ = [
    "CLOCK_SKEW_S",
    "MAX_BATCH_ROWS",
    "REPEAT_TOLERANCE",
    "CheckedReading",
    "StoreResult",
    "apply_group",
    "apply_readings",
    "check_readings",
    "csv_rows",
    "store_checked",
]

#: A reading may be this far ahead of the server's clock (meter clocks drift) [s].
CLOCK_SKEW_S = 60.0
#: Two values of one key are the same reading when they differ by at most this,
#: relative to the larger magnitude (and absolutely 1e-9 of the unit) [-].
REPEAT_TOLERANCE = 1e-12
#: Tries to store a batch when concurrent writers insert the same keys first [-].
STORE_ATTEMPTS = 3
#: Most readings in one batch (JSON or CSV) [-].
MAX_BATCH_ROWS = 20_000
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$")
#: Timestamps parsed without pandas: date, ``T``, time to the second with at most six
#: decimals, ``Z`` or an offset ``+HH:MM``.
_PLAIN_STAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII
)
_PLAIN_YEARS = (1900, 2200)  # within pandas' nanosecond bounds (1677-2262)
_EXAMPLE = "2026-07-15T14:45:00+08:00"
_FIELD_LIMIT = 200  # characters of a received value quoted back
_TABLE = Reading.__table__
#: Most keys looked up in one query by :func:`apply_group` (3 parameters a key) [-].
GROUP_QUERY_KEYS = 500


@dataclass(frozen=True)
class CheckedReading:
    """A reading that passed every check: ``timestamp_utc`` naive UTC, ``value`` in the
    channel's unit."""

    channel: str
    timestamp_utc: dt.datetime
    value: float


@dataclass(frozen=True)
class StoreResult:
    """What a stored batch did: ``stored`` new readings, ``repeated`` already stored."""

    stored: int
    repeated: int


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _FIELD_LIMIT else text[: _FIELD_LIMIT - 3] + "..."


class _Problems:
    """Problems collected per field and message, the first few in full."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.counts: dict[tuple[str, str], int] = {}

    def add(self, field: str, row: int, value: Any, message: str, allowed: str) -> None:
        key = (field, message)
        self.counts[key] = self.counts.get(key, 0) + 1
        if self.counts[key] <= MAX_PROBLEMS_PER_COLUMN:
            self.items.append(
                {
                    "field": field,
                    "row": row,
                    "value": _quote(value),
                    "message": message,
                    "allowed": allowed,
                }
            )

    def raise_if_any(self) -> None:
        for (field, message), count in self.counts.items():
            if count > MAX_PROBLEMS_PER_COLUMN:
                more = count - MAX_PROBLEMS_PER_COLUMN
                self.items.append(
                    {"field": field, "message": f"{message}: {more} more row(s) like it"}
                )
        if self.items:
            first = self.items[0]
            raise TelemetryRefused(
                f"{len(self.items)} problem(s) in the readings; first: field "
                f"{first['field']}, row {first.get('row')}: {first['message']}",
                self.items,
            )


def _number(value: Any) -> float:
    """A value as a float (NaN when it is not a number; booleans are not numbers)."""
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return math.nan
    return math.nan


def check_readings(
    rows: list[dict[str, Any]],
    channels: dict[str, Channel],
    now_utc: dt.datetime,
    first_row: int = 0,
) -> list[CheckedReading]:
    """Check readings (module docstring); every problem is raised together.

    Parameters
    ----------
    rows : list of dict
        Each with ``channel`` (text), ``timestamp`` (ISO 8601 text with its offset) and
        ``value`` (a number, or its text in a CSV file).
    channels : dict of str to Channel
        The site's channels.
    now_utc : datetime.datetime
        The server's clock, zone-aware.
    first_row : int
        The number of the first row in problems (0: JSON list index; 2: a CSV file's
        first data line, its header being line 1).

    Raises
    ------
    TelemetryRefused
        Every problem, each with field, row, value, message and allowed.
    """
    found = _Problems()
    if len(rows) > MAX_BATCH_ROWS:
        found.add(
            "readings",
            first_row,
            len(rows),
            "too many readings in one batch",
            f"at most {MAX_BATCH_ROWS} readings; send several batches",
        )
        found.raise_if_any()
    if not rows:
        found.add("readings", first_row, [], "no readings", "at least one reading")
        found.raise_if_any()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            found.add(
                "readings",
                first_row + i,
                row,
                "a reading is not an object",
                '{"channel": ..., "timestamp": ..., "value": ...}',
            )
    found.raise_if_any()
    texts = []
    for row in rows:
        stamp = row.get("timestamp")
        texts.append(
            stamp.strip() if isinstance(stamp, str) and _OFFSET.search(stamp.strip()) else None
        )
    parsed = _plain_stamps(texts)
    if parsed is None:  # any other form: pandas' ISO 8601 parser, as the daily job's
        parsed = list(
            pd.to_datetime(
                pd.Series(texts, dtype=object), format="ISO8601", errors="coerce", utc=True
            )
        )
    latest = pd.Timestamp(now_utc) + pd.Timedelta(seconds=CLOCK_SKEW_S)
    out: list[CheckedReading] = []
    seen: set[tuple[str, dt.datetime]] = set()
    for i, row in enumerate(rows):
        n = first_row + i
        name = row.get("channel")
        channel = channels.get(name) if isinstance(name, str) else None
        if channel is None:
            found.add(
                "channel",
                n,
                name,
                "unknown telemetry channel for this site",
                "one of " + ", ".join(sorted(channels)),
            )
        stamp = parsed[i]
        if pd.isna(stamp):
            found.add(
                "timestamp",
                n,
                row.get("timestamp"),
                "telemetry timestamp does not parse or has no UTC offset",
                f"ISO 8601 with its offset, e.g. {_EXAMPLE}",
            )
        elif stamp > latest:
            found.add(
                "timestamp",
                n,
                row.get("timestamp"),
                f"telemetry reading is future-dated: after now ({now_utc.isoformat()})",
                f"readings taken at or before the server's clock (+{CLOCK_SKEW_S:g} s)",
            )
        value = _number(row.get("value"))
        if not math.isfinite(value):
            found.add(
                "value",
                n,
                row.get("value"),
                "telemetry value is not a finite number",
                channel.allowed() if channel else "a finite number",
            )
            continue
        if channel is None or pd.isna(stamp):
            continue
        low = 0.0 if channel.nonnegative else -VALUE_LIMIT
        if not low <= value <= VALUE_LIMIT:
            word = "negative" if value < 0 else "too large"
            found.add(
                "value",
                n,
                row.get("value"),
                f"telemetry value of {name} is {word}",
                channel.allowed(),
            )
            continue
        when = _naive_utc(stamp)
        if (name, when) in seen:
            found.add(
                "timestamp",
                n,
                row.get("timestamp"),
                "telemetry reading repeated: the same channel at the same timestamp twice",
                "one reading per channel and timestamp in a batch",
            )
            continue
        seen.add((name, when))
        out.append(CheckedReading(name, when, value))
    found.raise_if_any()
    return out


def _plain_stamps(texts: list[str | None]) -> list[dt.datetime] | None:
    """Every text parsed, zone-aware UTC, when each is of the plain form
    :data:`_PLAIN_STAMP` and a valid time; else None (then pandas parses them all).

    For these texts :meth:`datetime.datetime.fromisoformat` and pandas' ISO 8601 parser
    agree (at most microseconds, an explicit offset); it takes about 1 us a text where
    pandas takes some 300 us a call, which dominates a batch of one reading.
    """
    out = []
    for text in texts:
        if text is None or _PLAIN_STAMP.fullmatch(text) is None:
            return None
        try:
            when = dt.datetime.fromisoformat(text).astimezone(dt.UTC)
        except ValueError:  # a month 13 and the like: pandas words the refusal
            return None
        if not _PLAIN_YEARS[0] <= when.year <= _PLAIN_YEARS[1]:  # pandas' bounds decide
            return None
        out.append(when)
    return out


def _naive_utc(stamp: Any) -> dt.datetime:
    """A zone-aware UTC time (datetime or pandas Timestamp) as a naive UTC datetime."""
    if isinstance(stamp, pd.Timestamp):
        return stamp.tz_convert(None).to_pydatetime()
    return stamp.replace(tzinfo=None)


def csv_rows(text: str, channel: str | None) -> list[dict[str, Any]]:
    """The rows of an uploaded CSV file: ``timestamp,<channel>`` (one channel, given
    by the URL) or ``timestamp,channel,value``.

    Raises
    ------
    TelemetryRefused
        The header lacks its columns (row 1, naming the columns found).
    """
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    if channel is not None and header[:1] == ["timestamp"] and channel in header:
        at = header.index(channel)
        return [
            {"channel": channel, "timestamp": r[0] if r else "", "value": _cell(r, at)}
            for r in reader
        ]
    if channel is None and {"timestamp", "channel", "value"} <= set(header):
        t, c, v = (header.index(k) for k in ("timestamp", "channel", "value"))
        return [
            {"channel": _cell(r, c), "timestamp": _cell(r, t), "value": _cell(r, v)} for r in reader
        ]
    wanted = f"timestamp,{channel}" if channel else "timestamp,channel,value"
    raise TelemetryRefused(
        "CSV header lacks its columns",
        [
            {
                "field": "header",
                "row": 1,
                "value": _quote(header),
                "message": "CSV header lacks its columns",
                "allowed": f"a header line {wanted}",
            }
        ],
    )


def _cell(row: list[str], at: int) -> str:
    return row[at] if at < len(row) else ""


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REPEAT_TOLERANCE, abs_tol=1e-9)


def store_checked(
    sessions: sessionmaker[Session], site_id: int, readings: list[CheckedReading]
) -> StoreResult:
    """Store checked readings of one site in one transaction (module docstring).

    Raises
    ------
    ReadingConflict
        A key is stored with another value (nothing of the batch is stored).
    """
    for attempt in range(STORE_ATTEMPTS):  # a concurrent writer of the same key: look again
        try:
            return _store_once(sessions, site_id, readings)
        except IntegrityError:
            if attempt == STORE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _store_once(
    sessions: sessionmaker[Session], site_id: int, readings: list[CheckedReading]
) -> StoreResult:
    with sessions() as session, session.begin():
        return apply_readings(session, site_id, readings)


def apply_readings(session: Session, site_id: int, readings: list[CheckedReading]) -> StoreResult:
    """Add one site's checked readings to ``session``'s open transaction (not committed):
    the keys already stored (in the database or earlier in this transaction) are
    repeats or conflicts, the others are inserted.

    Raises
    ------
    ReadingConflict
        A key is stored with another value; nothing of ``readings`` was added.
    """
    names = sorted({r.channel for r in readings})
    first = min(r.timestamp_utc for r in readings)
    last = max(r.timestamp_utc for r in readings)
    stored = {
        (site_id, c, t): v
        for c, t, v in session.execute(
            select(Reading.channel, Reading.timestamp_utc, Reading.value).where(
                Reading.site_id == site_id,
                Reading.channel.in_(names),
                Reading.timestamp_utc >= first,
                Reading.timestamp_utc <= last,
            )
        )
    }
    outcome, new = _judge(site_id, readings, stored)
    if isinstance(outcome, ReadingConflict):
        raise outcome
    if new:
        session.execute(insert(_TABLE), _rows(site_id, new))
    return outcome


def apply_group(
    session: Session, batches: list[tuple[int, list[CheckedReading]]]
) -> list[StoreResult | ReadingConflict]:
    """Add several sites' batches to ``session``'s open transaction, one after the other
    as :func:`apply_readings` would (each sees the batches before it; a batch with a
    conflict adds nothing and gets its :class:`ReadingConflict`), but with one query for
    the stored values of every key (:data:`GROUP_QUERY_KEYS` keys a query) and one
    insert for every new reading.

    Returns
    -------
    list
        Per batch, its :class:`StoreResult` or its :class:`ReadingConflict`.
    """
    keys = list({(site_id, r.channel, r.timestamp_utc) for site_id, rs in batches for r in rs})
    stored: dict[tuple[int, str, dt.datetime], float] = {}
    c = _TABLE.c  # Core, not ORM: a quarter of the work per statement
    key = tuple_(c.site_id, c.channel, c.timestamp_utc)
    columns = (c.site_id, c.channel, c.timestamp_utc, c.value)
    for at in range(0, len(keys), GROUP_QUERY_KEYS):
        chunk = keys[at : at + GROUP_QUERY_KEYS]
        for s, c, t, v in session.execute(select(*columns).where(key.in_(chunk))):
            stored[(s, c, t)] = v
    outcomes: list[StoreResult | ReadingConflict] = []
    rows: list[dict[str, Any]] = []
    for site_id, readings in batches:
        outcome, new = _judge(site_id, readings, stored)
        outcomes.append(outcome)
        if not isinstance(outcome, ReadingConflict):
            stored.update({(site_id, r.channel, r.timestamp_utc): r.value for r in new})
            rows.extend(_rows(site_id, new))
    if rows:
        session.execute(insert(_TABLE), rows)
    return outcomes


def _judge(
    site_id: int,
    readings: list[CheckedReading],
    stored: dict[tuple[int, str, dt.datetime], float],
) -> tuple[StoreResult | ReadingConflict, list[CheckedReading]]:
    """A batch against the stored values: its result and new readings, or its conflict."""
    conflicts, new = [], []
    for r in readings:
        old = stored.get((site_id, r.channel, r.timestamp_utc))
        if old is None:
            new.append(r)
        elif not _same(old, r.value):
            conflicts.append(
                {
                    "channel": r.channel,
                    "timestamp": r.timestamp_utc.replace(tzinfo=dt.UTC).isoformat(),
                    "stored_value": old,
                    "sent_value": r.value,
                }
            )
    if conflicts:
        refusal = ReadingConflict(
            f"{len(conflicts)} reading(s) already stored with another value; nothing of "
            "this batch was stored (send the stored value, or correct the timestamp)",
            conflicts[: MAX_PROBLEMS_PER_COLUMN * 20],
        )
        return refusal, []
    return StoreResult(stored=len(new), repeated=len(readings) - len(new)), new


def _rows(site_id: int, readings: list[CheckedReading]) -> list[dict[str, Any]]:
    received = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return [
        {
            "site_id": site_id,
            "channel": r.channel,
            "timestamp_utc": r.timestamp_utc,
            "value": r.value,
            "received_at": received,
        }
        for r in readings
    ]
