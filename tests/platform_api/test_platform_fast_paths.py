"""The plain-timestamp path of the telemetry checks (:func:`vpp.platform.readings.check_readings`):
the same readings and refusals as pandas' ISO 8601 parser, without pandas."""

from __future__ import annotations

import datetime as dt

import pytest

from vpp.platform import readings
from vpp.platform.channels import Channel
from vpp.platform.refusals import TelemetryRefused

NOW = dt.datetime(2026, 7, 16, tzinfo=dt.UTC)
CHANNELS = {"load_kw": Channel("load_kw", "kW", True)}
PLAIN = [
    "2026-07-15T14:45:00+08:00",
    "2026-07-15T06:46:00Z",
    "2026-07-15T06:47:00.5Z",
    "2026-07-14T22:48:00.123456-08:00",
    "2026-07-15T00:00:00-00:00",
]


def _rows(stamps):
    return [{"channel": "load_kw", "timestamp": t, "value": 1.0 + i} for i, t in enumerate(stamps)]


def _with_pandas_only(monkeypatch):
    monkeypatch.setattr(readings, "_plain_stamps", lambda texts: None)


def test_plain_timestamps_need_no_pandas(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pandas parsed a plain timestamp")

    monkeypatch.setattr(readings.pd, "to_datetime", refuse)
    got = readings.check_readings(_rows(PLAIN), CHANNELS, NOW)
    assert [r.timestamp_utc for r in got] == [
        dt.datetime(2026, 7, 15, 6, 45),
        dt.datetime(2026, 7, 15, 6, 46),
        dt.datetime(2026, 7, 15, 6, 47, 0, 500_000),
        dt.datetime(2026, 7, 15, 6, 48, 0, 123_456),
        dt.datetime(2026, 7, 15, 0, 0),
    ]  # by hand from each offset


def test_plain_timestamps_give_what_pandas_gives(monkeypatch):
    fast = readings.check_readings(_rows(PLAIN), CHANNELS, NOW)
    _with_pandas_only(monkeypatch)
    assert readings.check_readings(_rows(PLAIN), CHANNELS, NOW) == fast


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-13-15T14:45:00+08:00",  # no month 13: the fast path hands over to pandas
        "2026-02-30T00:00:00Z",
        "2026-07-15T24:00:00Z",
        "0001-01-01T00:00:00Z",  # outside pandas' bounds: pandas refuses it
        "2026-07-15T14:45+08:00",  # not plain: pandas parses it
        "2026-07-15 14:45:00+08:00",
        "2026-07-15T14:45:00",  # no offset
        "2026-07-16T00:01:01Z",  # future-dated beyond the clock's 60 s allowance
    ],
)
def test_other_timestamps_are_judged_as_pandas_judges_them(monkeypatch, stamp):
    rows = _rows([PLAIN[0], stamp])

    def outcome():
        try:
            return readings.check_readings(rows, CHANNELS, NOW)
        except TelemetryRefused as exc:
            return exc.details

    fast = outcome()
    _with_pandas_only(monkeypatch)
    assert outcome() == fast
