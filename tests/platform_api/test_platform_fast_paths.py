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


def _batches(site_ids):
    """Batches of two sites with repeats, a conflict and new readings within the group."""
    a, b = site_ids
    t = [dt.datetime(2026, 7, 15, 2, 15 * i) for i in range(4)]
    r = readings.CheckedReading
    return [
        (a, [r("load_kw", t[0], 10.0), r("load_kw", t[1], 11.0)]),  # t[0] stored before
        (b, [r("load_kw", t[0], 20.0)]),  # another site, the same time: new
        (a, [r("load_kw", t[1], 11.0)]),  # a repeat of the first batch's new reading
        (a, [r("load_kw", t[1], 12.0), r("load_kw", t[2], 13.0)]),  # conflict: adds nothing
        (b, [r("load_kw", t[2], 21.0), r("import_kw", t[2], 5.0)]),
        (a, [r("load_kw", t[2], 14.0)]),  # new: the conflicting batch added nothing
        (a, [r("load_kw", t[0], 10.0 * (1 + 1e-13))]),  # within REPEAT_TOLERANCE: a repeat
    ]


def _outcomes(platform, apply):
    """``apply``'s answers on :func:`_batches` (after one stored reading), the table after,
    and the statements it sent."""
    from sqlalchemy import event, select

    from vpp.platform.models import Reading
    from vpp.platform.parks import find_site

    ids = [
        find_site(platform.sessions, "xushuguan-park", s).site_id
        for s in ("electronics", "logistics")
    ]
    first = readings.CheckedReading("load_kw", dt.datetime(2026, 7, 15, 2, 0), 10.0)
    with platform.sessions() as session, session.begin():
        readings.apply_readings(session, ids[0], [first])
    seen = []

    def record(conn, cursor, statement, *rest):
        seen.append(statement)

    event.listen(platform.engine, "before_cursor_execute", record)
    with platform.sessions() as session, session.begin():
        got = apply(session, _batches(ids))
    event.remove(platform.engine, "before_cursor_execute", record)
    columns = (Reading.site_id, Reading.channel, Reading.timestamp_utc, Reading.value)
    with platform.sessions() as session:
        table = sorted(session.execute(select(*columns)).all())
    answers = [
        (o.stored, o.repeated) if isinstance(o, readings.StoreResult) else o.details for o in got
    ]
    return answers, table, [s for s in seen if not s.startswith(("BEGIN", "COMMIT"))]


def _one_by_one(session, batches):
    out = []
    for site_id, rs in batches:
        try:
            out.append(readings.apply_readings(session, site_id, rs))
        except readings.ReadingConflict as exc:
            out.append(exc)
    return out


def test_a_group_in_two_statements_answers_as_one_by_one(platform):
    from sqlalchemy import delete

    from vpp.platform.models import Reading

    answers = {}
    for name, apply in (("one by one", _one_by_one), ("group", readings.apply_group)):
        with platform.sessions() as session, session.begin():
            session.execute(delete(Reading))
        answers[name] = _outcomes(platform, apply)
    group, single = answers["group"], answers["one by one"]
    assert group[0] == single[0]
    assert [a for a in group[0] if isinstance(a, tuple)] == [
        (1, 1),
        (1, 0),
        (0, 1),
        (2, 0),
        (1, 0),
        (0, 1),
    ]  # by hand, from the comments of _batches
    assert [a[0]["stored_value"] for a in group[0] if isinstance(a, list)] == [11.0]
    assert group[1] == single[1]  # the same table
    assert len(group[2]) == 2  # one query, one insert
    assert len(single[2]) > 2
