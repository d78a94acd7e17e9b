"""Monitoring's stored day summaries (vpp.platform.monitoring.days).

A month's account made from its days' stored parts equals
:func:`~vpp.platform.monitoring.compute.month_account` over the month's steps (read
whole, with the month's tariff series) to :data:`REL`, on random readings with gaps, a
day without any reading, gas and heat channels, export on some steps only, the demo
TOU calendar and an hourly grid-factor series; in Asia/Shanghai and in Europe/Berlin,
whose October 25, 2026 has 100 quarter-hour steps (clocks go back). A late reading
recomputes exactly its day; a tariff edit recomputes every day; a restart computes none;
two processes computing the same day both succeed; the migration keeps data.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select, text

from vpp.platform import Platform, migrate
from vpp.platform.db import make_engine
from vpp.platform.models import Base, MonitoringDay, Reading
from vpp.platform.monitoring import days
from vpp.platform.monitoring.compute import month_account
from vpp.platform.monitoring.data import (
    month_bounds,
    month_series,
    readings_frame,
    site_model,
    step_grid,
)
from vpp.platform.monitoring.service import park_file, site_monitor
from vpp.platform.parks import find_site, register_park

#: Sums over a month's steps against sums of day sums: rounding only [-].
REL = 1e-9
SITE_YAML = """
name: {name}
horizon: {{start: 2026-07-15, days: 1, step: 15min}}
site:
  name: {name}
  load: {{synthetic: {{profile: two_shift, peak_kw: 2000, seed: 7}}}}
  pv:
    - {{kind: rooftop, name: roof, dc_capacity_kw: 800, tilt_deg: 5, commissioning_year: 2025}}
  grid:
    import_limit_kw: 5000
    energy_price: {{calendar: jiangsu-2025-industrial}}
    basic_charge: {{method: demand, demand_cny_per_kw_month: {rate}}}
  emissions:
    grid_factor_series: {{file: factor.csv, column: kg_per_kwh, resample: hold}}
    economics: {{output_value_cny: 1200000000}}
    pre_assessment: {{threshold_t_per_10k_cny: 0.40, basis: output_value}}
"""
#: (time zone, the present in UTC): mid-month, with a day of 100 steps in Berlin.
ZONES = {
    "Asia/Shanghai": dt.datetime(2026, 7, 27, 4, 10, tzinfo=dt.UTC),  # 12:10 local
    "Europe/Berlin": dt.datetime(2026, 10, 27, 11, 10, tzinfo=dt.UTC),  # 12:10 local
}
QUIET_DAY = 9  # no reading at all on this day of the month


def _park(folder: Path, tz: str, rate: float = 40.0) -> Path:
    (folder / "sites").mkdir(parents=True, exist_ok=True)
    (folder / "sites" / "a.yaml").write_text(SITE_YAML.format(name="a", rate=rate))
    stamps = pd.date_range("2026-06-29", "2026-11-03", freq="1h", tz=tz, inclusive="left")
    hours = np.asarray(stamps.hour)
    factor = 0.5 + 0.3 * np.sin(hours / 24.0 * 2 * np.pi) + 0.001 * (np.arange(len(stamps)) % 7)
    pd.DataFrame({"timestamp": [t.isoformat() for t in stamps], "kg_per_kwh": factor}).to_csv(
        folder / "sites" / "factor.csv", index=False
    )
    park = folder / "park.yaml"
    park.write_text(
        f"name: p\ntimezone: {tz}\nhorizon: {{start: 2026-07-15, days: 1, step: 15min}}\n"
        "sites:\n  - file: sites/a.yaml\n"
    )
    return park


def _fill(platform: Platform, site_id: int, tz: str, now: dt.datetime, seed: int = 1) -> None:
    """Random readings on every step of the month before ``now`` (bulk, no writer)."""
    first = month_bounds(pd.Timestamp(now).tz_convert(tz).date())[0]
    end = pd.Timestamp(now).tz_convert(tz)
    grid = pd.date_range(pd.Timestamp(first).tz_localize(tz), end, freq="15min")
    grid = grid[grid + pd.Timedelta(minutes=15) <= pd.Timestamp(now)]
    grid = grid[grid.tz_convert(tz).day != QUIET_DAY]
    rng = np.random.default_rng(seed)
    stamps = grid.tz_convert("UTC").tz_localize(None).to_pydatetime()
    n = len(stamps)
    channels = {
        "import_kw": (rng.uniform(100.0, 2000.0, n), 0.15),
        "export_kw": (rng.uniform(0.0, 50.0, n), 0.6),
        "load_kw": (rng.uniform(500.0, 2500.0, n), 0.1),
        "roof_pv_kw": (rng.uniform(0.0, 700.0, n), 0.2),
        "natural_gas_nm3": (rng.uniform(0.0, 30.0, n), 0.5),
        "heat_gj": (rng.uniform(0.0, 2.0, n), 0.8),
    }
    rows = []
    for channel, (values, gap) in channels.items():
        keep = rng.random(n) >= gap
        rows += [
            {
                "site_id": site_id,
                "channel": channel,
                "timestamp_utc": t,
                "value": float(v),
                "received_at": t,
            }
            for t, v, k in zip(stamps, values, keep, strict=True)
            if k
        ]
    with platform.engine.begin() as connection:
        connection.execute(insert(Reading), rows)


def _reference(platform: Platform, file: str, ref: Any, now: dt.datetime) -> dict[str, Any]:
    """month_account over the month's elapsed steps, read whole (no day summary)."""
    model = site_model(file, ref.site)
    local = pd.Timestamp(now).tz_convert(model.timezone)
    first, following = month_bounds(local.date())
    grid = step_grid(first, local.date() + dt.timedelta(days=1), model)
    frame = readings_frame(platform.sessions, ref.site_id, grid, model.step_minutes)
    frame = frame.loc[frame.index + pd.Timedelta(minutes=15) <= local]
    tariff = month_series(model, first, following, ("reference", *days.tariff_key(model)))
    return month_account(frame, tariff, model.scenario, model.step_h, local)


def _close(got: Any, want: Any, path: str = "") -> None:
    if isinstance(want, dict):
        assert set(got) == set(want), (path, set(got) ^ set(want))
        for k in want:
            _close(got[k], want[k], f"{path}/{k}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for a, b in zip(got, want, strict=True):
            _close(a, b, path)
    elif isinstance(want, float) and not isinstance(want, bool):
        assert got == pytest.approx(want, rel=REL, abs=1e-12), path
    else:
        assert got == want, path


def _open(db_url: str, tmp_path: Path, tz: str) -> tuple[Platform, Any, str]:
    platform = Platform.open(db_url)
    platform.clock = lambda: ZONES[tz]
    register_park(platform.sessions, _park(tmp_path / "park", tz))
    ref = find_site(platform.sessions, "p", "a")
    return platform, ref, park_file(platform, "p")


def _view(platform: Platform, ref: Any, file: str) -> dict[str, Any]:
    return site_monitor(platform, ref, file)["month_account"]


@pytest.mark.parametrize("tz", sorted(ZONES))
def test_the_month_from_stored_days_is_month_account(db_url: str, tmp_path: Path, tz: str):
    platform, ref, file = _open(db_url, tmp_path, tz)
    now = ZONES[tz]
    _fill(platform, ref.site_id, tz, now)
    got = _view(platform, ref, file)
    past = pd.Timestamp(now).tz_convert(tz).day - 1
    assert days.day_computations(platform) == past  # every past day once
    want = _reference(platform, file, ref, now)
    _close(got, want)
    assert want["coverage"]["steps"] == sum(
        len(step_grid(d, d + dt.timedelta(days=1), site_model(file, "a")))
        for d in pd.date_range(f"2026-{now.month:02d}-01", periods=past).date
    ) + (12 * 4)  # today: 00:00 to 12:00 local
    assert want["coverage"]["metered_steps"] < want["coverage"]["steps"]  # gaps
    assert want["carbon"]["by_carrier_t"]["heat"] > 0.0
    assert len(want["energy"]["import_kwh_by_period"]) >= 2  # TOU periods
    with platform.sessions() as session:
        stored = session.execute(select(MonitoringDay.day, MonitoringDay.payload_json)).all()
    assert len(stored) == past
    if tz == "Europe/Berlin":  # October 25: clocks go back, 25 hours
        payload = next(p for d, p in stored if d == dt.date(2026, 10, 25))
        assert '"steps": 100' in payload
    quiet = next(p for d, p in stored if d.day == QUIET_DAY)
    assert '"metered_steps": 0' in quiet
    platform.close()


def test_a_late_reading_recomputes_its_day_only(db_url: str, tmp_path: Path):
    tz = "Asia/Shanghai"
    platform, ref, file = _open(db_url, tmp_path, tz)
    _fill(platform, ref.site_id, tz, ZONES[tz])
    before = _view(platform, ref, file)
    computed = days.day_computations(platform)
    assert _view(platform, ref, file) == before
    assert days.day_computations(platform) == computed
    late = pd.Timestamp("2026-07-03 08:00", tz=tz).tz_convert("UTC").tz_localize(None)
    with platform.engine.begin() as connection:  # in bulk, outside the platform's writer
        connection.execute(
            insert(Reading),
            [
                {
                    "site_id": ref.site_id,
                    "channel": "diesel_t",
                    "timestamp_utc": late.to_pydatetime(),
                    "value": 0.5,
                    "received_at": late.to_pydatetime(),
                }
            ],
        )
    after = _view(platform, ref, file)
    assert days.day_computations(platform) == computed + 1
    assert after["carbon"]["activity"]["diesel"] == pytest.approx(0.5, rel=REL)
    _close(after, _reference(platform, file, ref, ZONES[tz]))
    with platform.sessions() as session:
        through = session.execute(
            select(MonitoringDay.day, MonitoringDay.through_reading_id).order_by(MonitoringDay.day)
        ).all()
        newest = session.execute(select(func.max(Reading.id))).scalar()
    assert [d.day for d, t in through if t == newest] == [3]
    platform.close()


def _reading(site_id: int, local: str, tz: str, channel: str, value: float, **row: Any) -> dict:
    stamp = pd.Timestamp(local, tz=tz).tz_convert("UTC").tz_localize(None).to_pydatetime()
    return {
        "site_id": site_id,
        "channel": channel,
        "timestamp_utc": stamp,
        "value": value,
        "received_at": stamp,
        **row,
    }


def test_a_late_commit_below_the_newest_id_recomputes_its_day(db_url: str, tmp_path: Path):
    """A transaction that took a lower id commits after a higher one was seen (as on
    PostgreSQL with concurrent writers): its day is found by the window's row count."""
    tz = "Asia/Shanghai"
    platform, ref, file = _open(db_url, tmp_path, tz)
    _fill(platform, ref.site_id, tz, ZONES[tz])
    with platform.sessions() as session:
        top = session.execute(select(func.max(Reading.id))).scalar()
    high = _reading(ref.site_id, "2026-07-27 11:00", tz, "diesel_t", 0.25, id=top + 100)
    with platform.engine.begin() as connection:  # the higher id commits first
        connection.execute(insert(Reading), [high])
    _view(platform, ref, file)
    computed = days.day_computations(platform)
    low = _reading(ref.site_id, "2026-07-05 09:00", tz, "diesel_t", 0.5, id=top + 50)
    with platform.engine.begin() as connection:
        connection.execute(insert(Reading), [low])
    after = _view(platform, ref, file)
    assert days.day_computations(platform) == computed + 1  # July 5 only
    assert after["carbon"]["activity"]["diesel"] == pytest.approx(0.75, rel=REL)
    _close(after, _reference(platform, file, ref, ZONES[tz]))
    platform.close()


def test_a_tariff_edit_recomputes_every_day(db_url: str, tmp_path: Path):
    tz = "Asia/Shanghai"
    platform, ref, file = _open(db_url, tmp_path, tz)
    _fill(platform, ref.site_id, tz, ZONES[tz])
    before = _view(platform, ref, file)
    computed = days.day_computations(platform)
    site_file = Path(file).parent / "sites" / "a.yaml"
    text_before = site_file.read_text()
    site_file.write_text(
        text_before.replace(
            "{calendar: jiangsu-2025-industrial}",
            "{calendar: jiangsu-2025-industrial, prices_cny_per_kwh: {valley: 0.2}}",
        )
    )
    after = _view(platform, ref, file)  # only the site file changed, not the park file
    assert days.day_computations(platform) == computed + 26  # July 1 to 26
    valley_kwh = after["energy"]["import_kwh_by_period"]["valley"]
    assert after["energy"]["energy_cost_cny_by_period"]["valley"] == pytest.approx(
        0.2 * valley_kwh, rel=REL
    )
    assert valley_kwh == pytest.approx(before["energy"]["import_kwh_by_period"]["valley"], rel=REL)
    _close(after, _reference(platform, file, ref, ZONES[tz]))
    platform.close()


def test_summaries_survive_a_restart(db_url: str, tmp_path: Path):
    tz = "Europe/Berlin"
    platform, ref, file = _open(db_url, tmp_path, tz)
    _fill(platform, ref.site_id, tz, ZONES[tz])
    first = _view(platform, ref, file)
    assert days.day_computations(platform) == 26
    platform.close()
    again = Platform.open(db_url)  # a new process's state: a new engine
    again.clock = lambda: ZONES[tz]
    second = _view(again, ref, file)
    assert days.day_computations(again) == 0
    _close(second, first)
    again.close()


def test_two_computations_of_the_same_day_both_succeed(db_url: str, tmp_path: Path):
    tz = "Asia/Shanghai"
    platform, ref, file = _open(db_url, tmp_path, tz)
    _fill(platform, ref.site_id, tz, ZONES[tz])
    others = [Platform.open(db_url) for _ in range(2)]  # two processes, no day stored yet
    barrier = threading.Barrier(2)
    views: list[Any] = []
    errors: list[BaseException] = []

    def compute(p: Platform) -> None:
        p.clock = lambda: ZONES[tz]
        try:
            barrier.wait(timeout=30)
            views.append(_view(p, ref, file))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=compute, args=(p,)) for p in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert [days.day_computations(p) for p in others] == [26, 26]
    _close(views[0], views[1])
    with platform.sessions() as session:
        assert session.execute(select(func.count(MonitoringDay.id))).scalar() == 26
    for p in [platform, *others]:
        p.close()


def test_upgrade_from_0010_keeps_data(db_url: str):
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0010")
    when = dt.datetime(2026, 7, 15, 6, 45)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO parks (id, name, file, timezone, registered_at) "
                "VALUES (1, 'p', 'p.yaml', 'Asia/Shanghai', :t)"
            ),
            {"t": when},
        )
        conn.execute(text("INSERT INTO sites (id, park_id, name, channels) VALUES (1, 1, 's', '')"))
        conn.execute(
            text(
                "INSERT INTO readings (site_id, channel, timestamp_utc, value, received_at) "
                "VALUES (1, 'import_kw', :t, 812.5, :t)"
            ),
            {"t": when},
        )
    assert "monitoring_days" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert "monitoring_days" in inspect(engine).get_table_names()
    indexes = {i["name"] for i in inspect(engine).get_indexes("readings")}
    assert "ix_readings_site_time" in indexes
    with engine.connect() as conn:  # the models say what the migrations built
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM readings")).scalar() == 812.5
        assert conn.execute(text("SELECT count(*) FROM monitoring_days")).scalar() == 0
    migrate.downgrade(engine, "0010")
    assert "monitoring_days" not in inspect(engine).get_table_names()
    assert "ix_readings_site_time" not in {
        i["name"] for i in inspect(engine).get_indexes("readings")
    }
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM readings")).scalar() == 1
    engine.dispose()
