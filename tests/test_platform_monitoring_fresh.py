"""Monitoring's day summaries stay current across processes, file edits and midnight.

- news that no running process saw (it came before a restart, more than
  :data:`~vpp.platform.monitoring.days.ID_MARGIN` rows before the newest) still
  recomputes its day in a new process: it is found from the stored days'
  ``through_reading_id``, not from a process's memory;
- on PostgreSQL, a reading committed late (a lower id, its transaction still open
  while the day was computed) before a restart is counted by the new process;
- a factor series file rewritten in place recomputes every stored day;
- the park page reads the clock once: midnight passing while it computes does not
  count a day twice;
- the money amounts carry the site's currency code (JSON and dashboard).

Expectations are :func:`~vpp.platform.monitoring.compute.month_account` over the
month's steps read whole (``_reference``), to :data:`REL`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from test_platform_monitoring_days import (
    REL,
    ZONES,
    _close,
    _fill,
    _open,
    _reading,
    _reference,
    _view,
)

from vpp.platform import Platform, create_app
from vpp.platform.keys import create_key
from vpp.platform.models import MonitoringDay, Reading
from vpp.platform.monitoring import days
from vpp.platform.monitoring.service import park_monitor

TZ = "Asia/Shanghai"


def _restart(db_url: str) -> Platform:
    """A new process's state: a new engine (monitoring keeps its state per engine)."""
    again = Platform.open(db_url)
    again.clock = lambda: ZONES[TZ]
    return again


def test_news_older_than_the_scan_window_is_seen_after_a_restart(db_url: str, tmp_path: Path):
    platform, ref, file = _open(db_url, tmp_path, TZ)
    _fill(platform, ref.site_id, TZ, ZONES[TZ])
    assert _view(platform, ref, file)["carbon"]["activity"]["diesel"] == 0.0
    platform.close()  # the news below arrives while no process watches
    late = _reading(ref.site_id, "2026-07-03 08:00", TZ, "diesel_t", 0.5)
    # then more rows than the first scan of a new process reads (June: no day of July)
    others = [
        _reading(ref.site_id, "2026-06-01 00:00", TZ, f"x{k}", 1.0)
        for k in range(days.ID_MARGIN + 5)
    ]
    again = _restart(db_url)
    with again.engine.begin() as connection:
        connection.execute(insert(Reading), [late])
        connection.execute(insert(Reading), others)
    after = _view(again, ref, file)
    assert days.day_computations(again) == 1  # July 3 only
    assert after["carbon"]["activity"]["diesel"] == pytest.approx(0.5, rel=REL)
    _close(after, _reference(again, file, ref, ZONES[TZ]))
    again.close()


def test_a_second_process_sees_what_the_first_one_saw(db_url: str, tmp_path: Path):
    """The first process saw the news and recomputed; a second one, started later,
    trusts the recomputed day and computes none."""
    platform, ref, file = _open(db_url, tmp_path, TZ)
    _fill(platform, ref.site_id, TZ, ZONES[TZ])
    _view(platform, ref, file)
    with platform.engine.begin() as connection:
        connection.execute(
            insert(Reading), [_reading(ref.site_id, "2026-07-04 10:00", TZ, "diesel_t", 0.25)]
        )
    first = _view(platform, ref, file)
    second_process = _restart(db_url)
    second = _view(second_process, ref, file)
    assert days.day_computations(second_process) == 0
    _close(second, first)
    assert second["carbon"]["activity"]["diesel"] == pytest.approx(0.25, rel=REL)
    for p in (platform, second_process):
        p.close()


def test_a_late_commit_before_a_restart_is_counted(db_url: str, tmp_path: Path):
    """PostgreSQL: a transaction holding a lower id is open while the month is computed
    and commits afterwards; the process stops before it scans again. SQLite has one
    writer at a time: an id is final when seen (nothing to test)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite writes one transaction at a time: no late commit")
    platform, ref, file = _open(db_url, tmp_path, TZ)
    _fill(platform, ref.site_id, TZ, ZONES[TZ])
    with platform.sessions() as session:
        top = session.execute(select(func.max(Reading.id))).scalar()
    low = _reading(ref.site_id, "2026-07-05 09:00", TZ, "diesel_t", 0.5, id=top + 50)
    high = _reading(ref.site_id, "2026-07-27 11:00", TZ, "diesel_t", 0.25, id=top + 100)
    pending = platform.engine.connect()
    transaction = pending.begin()
    pending.execute(insert(Reading), [low])  # open: not visible yet
    with platform.engine.begin() as connection:
        connection.execute(insert(Reading), [high])
    before = _view(platform, ref, file)
    assert before["carbon"]["activity"]["diesel"] == pytest.approx(0.25, rel=REL)
    transaction.commit()  # late, below the newest id the computation saw
    pending.close()
    platform.close()
    again = _restart(db_url)
    after = _view(again, ref, file)
    assert after["carbon"]["activity"]["diesel"] == pytest.approx(0.75, rel=REL)
    _close(after, _reference(again, file, ref, ZONES[TZ]))
    again.close()


def test_a_factor_file_rewritten_recomputes_every_day(db_url: str, tmp_path: Path):
    platform, ref, file = _open(db_url, tmp_path, TZ)
    _fill(platform, ref.site_id, TZ, ZONES[TZ])
    before = _view(platform, ref, file)["carbon"]
    with platform.sessions() as session:
        keys = set(session.execute(select(MonitoringDay.key)).scalars())
    platform.close()
    factors = Path(file).parent / "sites" / "factor.csv"
    frame = pd.read_csv(factors)
    frame["kg_per_kwh"] *= 2.0  # the file's content only: its name and column stay
    frame.to_csv(factors, index=False)
    again = _restart(db_url)
    after = _view(again, ref, file)
    assert days.day_computations(again) == 26  # July 1 to 26
    _close(after, _reference(again, file, ref, ZONES[TZ]))
    assert after["carbon"]["location_based_t"] > 1.5 * before["location_based_t"]
    with again.sessions() as session:
        assert set(session.execute(select(MonitoringDay.key)).scalars()).isdisjoint(keys)
    again.close()


def test_the_park_page_reads_the_clock_once(db_url: str, tmp_path: Path):
    """The first clock read is 23:59 local on July 26, every later one 00:01 on July 27:
    the page is the month at 23:59 (July 26 counted once, as today)."""
    platform, ref, file = _open(db_url, tmp_path, TZ)
    t0 = dt.datetime(2026, 7, 26, 15, 59, tzinfo=dt.UTC)
    t1 = dt.datetime(2026, 7, 26, 16, 1, tzinfo=dt.UTC)
    _fill(platform, ref.site_id, TZ, t1)
    reads: list[int] = []

    def clock() -> dt.datetime:
        reads.append(1)
        return t0 if len(reads) == 1 else t1

    platform.clock = clock
    page = park_monitor(platform, "p")
    assert page["date"] == "2026-07-26"
    got = page["sites"][0]["month_account"]
    want = _reference(platform, file, ref, t0)
    _close(got, want)
    assert want["coverage"]["steps"] == 25 * 96 + 95  # July 1-25 and July 26 to 23:45
    json.dumps(page)  # the page is JSON as served
    platform.close()


def test_amounts_carry_the_currency_code(db_url: str, tmp_path: Path):
    """A EUR site: its amounts (named ``*_cny``) are EUR, and the pages say so."""
    platform, ref, file = _open(db_url, tmp_path, TZ)
    site_file = Path(file).parent / "sites" / "a.yaml"
    site_file.write_text("currency: EUR\n" + site_file.read_text())
    _fill(platform, ref.site_id, TZ, ZONES[TZ])
    page = park_monitor(platform, "p")
    assert page["currency"] == "EUR"
    assert page["sites"][0]["currency"] == "EUR"
    _, key = create_key(platform.sessions, "operator")
    client = TestClient(create_app(platform), follow_redirects=False)
    assert client.post("/login", data={"key": key}).status_code == 303
    park_html = client.get("/dashboard/parks/p").text
    month_html = client.get("/dashboard/parks/p/sites/a/month").text
    assert "<th>bill EUR</th>" in park_html
    assert "<th>energy EUR</th>" in month_html
    assert "CNY" not in park_html + month_html
    platform.close()
