"""TOU calendars: built-in data files, period lookup, prices and calendar errors."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest

from vpp.errors import ScenarioError
from vpp.tariffs import (
    calendar_prices,
    list_calendars,
    load_calendar,
    period_labels,
    tou_prices,
)

PRICE_TOL = 1e-9
TZ = "Asia/Shanghai"
J2025 = "jiangsu-2025-industrial"
J2023 = "jiangsu-2023-industrial"


def _at(*stamps: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(s) for s in stamps]).tz_localize(TZ)


def _year(freq: str) -> pd.DatetimeIndex:
    return pd.date_range("2026-01-01", "2027-01-01", freq=freq, tz=TZ, inclusive="left")


def test_list_calendars_names_both_sorted_with_sources():
    rows = list_calendars()
    names = [row["name"] for row in rows]
    assert names == sorted(names)
    assert {J2025, J2023} <= set(names)
    row = next(r for r in rows if r["name"] == J2025)
    assert row["valid_from"] == dt.date(2025, 6, 1)
    assert row["valid_to"] is None
    assert "426" in row["source"]["document"]
    assert row["source"]["reliability"] == "official-quoted"


@pytest.mark.parametrize("name", [J2025, J2023])
def test_builtin_files_are_complete(name):
    data = load_calendar(name)
    assert data["name"] == name
    for key in ("title", "source", "valid_from", "notes", "seasons"):
        assert data.get(key), key
    assert "valid_to" in data
    assert ("prices_cny_per_kwh" in data) != ("price_rule" in data)
    periods = {p["period"] for s in data["seasons"] for p in s["periods"]}
    periods |= {p["period"] for r in data.get("day_rules", []) for p in r.get("periods", [])}
    assert set(calendar_prices(data)) == periods
    for rule in data.get("day_rules", []):  # every rule carries its source
        assert rule["source"] and rule["reliability"], rule["name"]
    for entry in (data.get("derived_prices") or {}).values():
        assert entry["source"] and entry["reliability"]
    months = sorted(m for s in data["seasons"] for m in s["months"])
    assert months == list(range(1, 13))


def test_2025_prices_from_rule():
    prices = calendar_prices(load_calendar(J2025))
    assert prices == pytest.approx({"peak": 1.076, "flat": 0.74, "valley": 0.467}, abs=PRICE_TOL)


def test_2025_illustrative_charges_documented():
    charges = load_calendar(J2025)["illustrative_charges"]
    assert charges["demand_charge_cny_per_kw_month"]["value"] == 40.0
    assert charges["capacity_charge_cny_per_kva_month"]["value"] == 30.0
    assert charges["export_price_cny_per_kwh"]["value"] == 0.391
    assert all(entry["source"] for entry in charges.values())


@pytest.mark.parametrize(
    ("stamp", "period", "price"),
    [
        # summer / winter
        ("2026-07-15 12:00", "valley", 0.467),
        ("2026-07-15 15:00", "peak", 1.076),
        ("2026-07-15 07:00", "flat", 0.74),
        ("2026-07-15 03:00", "valley", 0.467),
        ("2026-07-15 13:30", "flat", 0.74),
        ("2026-07-15 21:45", "peak", 1.076),
        ("2026-07-15 22:00", "flat", 0.74),
        ("2026-01-10 11:00", "valley", 0.467),
        ("2026-12-31 23:45", "flat", 0.74),
        # spring / autumn
        ("2026-04-15 11:00", "valley", 0.467),
        ("2026-04-15 14:30", "flat", 0.74),
        ("2026-04-15 23:00", "flat", 0.74),
        ("2026-04-15 01:00", "flat", 0.74),
        ("2026-04-15 03:00", "valley", 0.467),
        ("2026-04-15 16:00", "peak", 1.076),
        ("2026-10-01 09:45", "flat", 0.74),
        ("2026-10-01 10:00", "valley", 0.467),
        ("2026-10-01 14:45", "flat", 0.74),
    ],
)
def test_2025_calendar_periods_and_prices(stamp, period, price):
    calendar = load_calendar(J2025)
    index = _at(stamp)
    assert period_labels(index, calendar)[0] == period
    assert tou_prices(index, calendar)[0] == pytest.approx(price, abs=PRICE_TOL)


@pytest.mark.parametrize("freq", ["1h", "15min"])
def test_every_step_of_a_year_gets_a_period(freq):
    index = _year(freq)
    calendar = load_calendar(J2025)
    labels = period_labels(index, calendar)
    assert labels.dtype == object
    assert len(labels) == len(index)
    assert set(labels) == {"peak", "flat", "valley"}
    prices = tou_prices(index, calendar)
    assert np.isfinite(prices).all()
    # summer-winter days: 8 h peak, 8 h valley, 8 h flat
    day = pd.Series(labels, index)["2026-07-15"]
    step_h = pd.Timedelta(freq) / pd.Timedelta("1h")
    assert (day == "peak").sum() * step_h == 8
    assert (day == "valley").sum() * step_h == 8


def test_15min_and_1h_agree_on_the_hour():
    calendar = load_calendar(J2025)
    hourly = tou_prices(_year("1h"), calendar)
    quarter = tou_prices(_year("15min"), calendar).reshape(-1, 4)
    np.testing.assert_array_equal(quarter, np.repeat(hourly[:, None], 4, axis=1))


def test_lookup_is_fast():
    index = _year("15min")
    calendar = load_calendar(J2025)
    tou_prices(index, calendar)
    start = time.perf_counter()
    tou_prices(index, calendar)
    assert time.perf_counter() - start < 0.1


def test_2023_calendar_prices_and_periods():
    calendar = load_calendar(J2023)
    assert calendar_prices(calendar) == {
        "peak": 1.1275,
        "flat": 0.6557,
        "valley": 0.2744,
        "critical_peak": pytest.approx(1.2 * 1.1275, abs=PRICE_TOL),
        "deep_valley": pytest.approx(0.6557 - 0.2 * 1.1275, abs=PRICE_TOL),
    }
    index = _at("2024-03-01 07:00", "2024-03-01 08:00", "2024-03-01 12:00", "2024-08-01 18:00",
                "2024-08-01 23:00")  # fmt: skip
    assert list(period_labels(index, calendar)) == ["valley", "peak", "flat", "peak", "flat"]
    np.testing.assert_allclose(
        tou_prices(index, calendar), [0.2744, 1.1275, 0.6557, 1.1275, 0.6557], atol=PRICE_TOL
    )


def test_utc_index_is_read_in_its_own_time_zone():
    calendar = load_calendar(J2025)
    local = _at("2026-07-15 12:00")
    assert period_labels(local.tz_convert("UTC"), calendar)[0] == "valley"  # 04:00 UTC
    naive = pd.DatetimeIndex([pd.Timestamp("2026-07-15 15:00")])
    assert period_labels(naive, calendar)[0] == "peak"


def _inline(periods, months=None, name="all"):
    return {
        "seasons": [
            {
                "name": name,
                "months": months or list(range(1, 13)),
                "periods": [{"period": p, "start": a, "end": b} for p, a, b in periods],
            }
        ]
    }


def test_inline_calendar_with_override_prices_and_midnight_crossing():
    calendar = _inline([("night", "22:00", "06:00"), ("day", "06:00", "22:00")])
    assert calendar_prices(calendar) == {}
    index = _at("2026-05-05 23:00", "2026-05-06 05:45", "2026-05-06 06:00")
    prices = tou_prices(index, calendar, {"night": 0.3, "day": 0.9})
    np.testing.assert_allclose(prices, [0.3, 0.3, 0.9])


def test_override_replaces_calendar_price():
    calendar = load_calendar(J2025)
    prices = tou_prices(_at("2026-07-15 15:00", "2026-07-15 12:00"), calendar, {"peak": 1.2})
    np.testing.assert_allclose(prices, [1.2, 0.467], atol=PRICE_TOL)


def test_gap_names_season_and_time():
    calendar = _inline(
        [("valley", "00:00", "08:00"), ("peak", "09:00", "24:00")], name="summer_winter"
    )
    with pytest.raises(ScenarioError) as info:
        period_labels(_at("2026-07-15 12:00"), calendar)
    text = str(info.value)
    assert "summer_winter" in text
    assert "08:00-09:00" in text
    assert "Fix" in text


def test_overlap_names_season_time_and_periods():
    calendar = _inline([("a", "00:00", "13:00"), ("b", "12:00", "24:00")], name="s1")
    with pytest.raises(ScenarioError, match=r"s1.*12:00-13:00.*a, b"):
        period_labels(_at("2026-07-15 12:00"), calendar)


def test_month_missing_or_twice():
    calendar = {
        "seasons": [
            {"name": "w", "months": [1, 2], "periods": [{"period": "x", "start": "00:00",
                                                         "end": "24:00"}]},
            {"name": "v", "months": [2], "periods": [{"period": "x", "start": "00:00",
                                                      "end": "24:00"}]},
        ]
    }  # fmt: skip
    with pytest.raises(ScenarioError) as info:
        period_labels(_at("2026-03-01 00:00"), calendar)
    text = str(info.value)
    assert "month 2 is in two seasons" in text
    assert "[3]" in text
    assert len(info.value.problems) == 2


def test_bad_clock_time_is_reported():
    calendar = _inline([("a", "00:00", "25:00")])
    with pytest.raises(ScenarioError, match="HH:MM"):
        period_labels(_at("2026-07-15 12:00"), calendar)


def test_override_with_unknown_period_raises():
    calendar = load_calendar(J2025)
    with pytest.raises(ScenarioError) as info:
        tou_prices(_at("2026-07-15 12:00"), calendar, {"critical_peak": 1.5})
    text = str(info.value)
    assert "critical_peak" in text
    assert "peak, flat, valley" in text or all(p in text for p in ("peak", "flat", "valley"))
    assert "site.grid.energy_price.prices_cny_per_kwh.critical_peak" in text


def test_period_without_price_raises():
    calendar = _inline([("night", "22:00", "06:00"), ("day", "06:00", "22:00")])
    with pytest.raises(ScenarioError, match="no price for period.*day"):
        tou_prices(_at("2026-07-15 12:00"), calendar, {"night": 0.3})


def test_unknown_calendar_lists_names_and_inline_option():
    with pytest.raises(ScenarioError) as info:
        load_calendar("jiangsu-2030")
    text = str(info.value)
    assert J2025 in text and J2023 in text
    assert "inline" in text


def test_load_calendar_returns_a_copy():
    first = load_calendar(J2025)
    first["seasons"].clear()
    assert load_calendar(J2025)["seasons"]


def test_cli_lists_calendars_rules_and_basic_charge_rules(capsys):
    import vpp.cli

    assert vpp.cli.main(["tariffs"]) == 0
    out = capsys.readouterr().out
    assert J2025 in out and J2023 in out and "426" in out
    assert "holiday_deep_valley (off)" in out
    assert "critical_peak" in out
    assert "basic-charge-rules" in out and "1583" in out
