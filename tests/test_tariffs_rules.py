"""TOU day rules (weekends, holidays, critical peak), derived prices and validity notes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from vpp.errors import ScenarioError
from vpp.tariffs import (
    apply_calendar,
    basic_charge_rules,
    list_calendars,
    load_calendar,
    period_labels,
    public_holidays,
    tou_prices,
    validity_notes,
)

PRICE_TOL = 1e-9
TZ = "Asia/Shanghai"
J2023 = "jiangsu-2023-industrial"
J2025 = "jiangsu-2025-industrial"


def _at(*stamps: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(s) for s in stamps]).tz_localize(TZ)


def _flat_day(**rule) -> dict:
    """An inline calendar: 'day' all day all year, two seasons, one day rule."""
    return {
        "seasons": [
            {
                "name": "winter",
                "months": [1, 2, 3, 10, 11, 12],
                "periods": [{"period": "day", "start": "00:00", "end": "24:00"}],
            },
            {
                "name": "summer",
                "months": [4, 5, 6, 7, 8, 9],
                "periods": [
                    {"period": "night", "start": "22:00", "end": "08:00"},
                    {"period": "day", "start": "08:00", "end": "22:00"},
                ],
            },
        ],
        "day_rules": [rule],
    }


def test_holiday_data_and_names():
    holidays, years = public_holidays()
    assert {2024, 2025, 2026} <= years
    assert "spring_festival" in holidays[dt.date(2026, 2, 16)]
    # 2025: one block for National Day and Mid-Autumn; it answers to both names
    assert {"national_day", "mid_autumn"} <= set(holidays[dt.date(2025, 10, 3)])


def test_listing_shows_periods_and_rules():
    row = next(r for r in list_calendars() if r["name"] == J2023)
    assert {"critical_peak", "deep_valley"} <= set(row["periods"])
    assert row["day_rules"] == {
        "summer_critical_peak": False,
        "winter_critical_peak": False,
        "holiday_deep_valley": False,
    }


def test_optional_rules_are_off_by_default():
    index = _at("2026-02-16 12:00", "2026-07-15 10:30")
    assert list(period_labels(index, load_calendar(J2023))) == ["flat", "peak"]


def test_holiday_deep_valley_on_the_named_holidays_only():
    calendar = load_calendar(J2023)
    index = _at(
        "2026-02-16 12:00",  # Spring Festival: deep valley 11-15
        "2026-02-16 15:00",  # after 15:00: flat again
        "2026-02-16 09:00",  # morning peak untouched
        "2026-02-24 12:00",  # first working day after the holiday
        "2025-10-03 11:00",  # National Day (block 'national_day_and_mid_autumn')
        "2026-06-19 12:00",  # Dragon Boat: not among the rule's holidays
    )
    on = {"holiday_deep_valley": True}
    labels = period_labels(index, calendar, day_rules=on)
    assert list(labels) == ["deep_valley", "flat", "peak", "flat", "deep_valley", "flat"]
    prices = tou_prices(index, calendar, day_rules=on)
    assert prices[0] == pytest.approx(0.6557 - 0.2 * 1.1275, abs=PRICE_TOL)


def test_critical_peak_on_listed_hot_days():
    calendar = load_calendar(J2023)
    hot = {"summer_critical_peak": [dt.date(2024, 7, 20)]}
    index = _at(
        "2024-07-20 10:30", "2024-07-20 14:00", "2024-07-20 17:30", "2024-07-20 19:00",
        "2024-07-21 10:30", "2024-07-21 14:00", "2024-07-21 17:30",
    )  # fmt: skip
    labels = period_labels(index, calendar, day_rules=hot)
    assert list(labels) == [
        "critical_peak", "critical_peak", "flat", "peak", "peak", "flat", "peak",
    ]  # fmt: skip
    prices = tou_prices(index, calendar, day_rules=hot)
    assert prices[0] == pytest.approx(1.2 * 1.1275, abs=PRICE_TOL)
    result = apply_calendar(index, calendar, day_rules=hot)
    assert result.rule_days == {"summer_critical_peak": 1}


def test_critical_peak_on_every_day_of_its_months():
    calendar = load_calendar(J2023)
    index = pd.date_range("2024-06-30", "2024-09-02", freq="1h", tz=TZ, inclusive="left")
    result = apply_calendar(index, calendar, day_rules={"winter_critical_peak": True,
                                                         "summer_critical_peak": True})  # fmt: skip
    labels = pd.Series(result.periods, index)
    critical = labels[labels == "critical_peak"]
    assert set(critical.index.month) == {7, 8}
    assert len(critical) == 62 * 2  # 2 h on each of the 62 days of July and August
    assert result.rule_days == {"summer_critical_peak": 62, "winter_critical_peak": 0}


def test_derived_prices_follow_overrides_unless_overridden_themselves():
    calendar = load_calendar(J2023)
    index = _at("2024-07-20 10:30")
    hot = {"summer_critical_peak": True}
    assert tou_prices(index, calendar, {"peak": 1.5}, day_rules=hot)[0] == pytest.approx(1.8)
    direct = {"peak": 1.5, "critical_peak": 2.0}
    assert tou_prices(index, calendar, direct, day_rules=hot)[0] == pytest.approx(2.0)


def test_weekend_rule_takes_another_seasons_periods():
    calendar = _flat_day(name="weekend", days="weekends", season="summer")
    index = _at("2026-01-10 23:00", "2026-01-10 12:00", "2026-01-12 23:00")  # Sat, Sat, Mon
    labels = period_labels(index, calendar)  # inline rules are on by default
    assert list(labels) == ["night", "day", "day"]
    off = period_labels(index, calendar, day_rules={"weekend": False})
    assert list(off) == ["day", "day", "day"]


def test_rule_limited_to_months_at_15_minutes():
    calendar = _flat_day(
        name="lunch", days="every_day", months=[1],
        periods=[{"period": "cheap", "start": "11:30", "end": "12:15"}],
    )  # fmt: skip
    index = pd.date_range("2026-01-31 11:00", periods=8, freq="15min", tz=TZ)
    labels = period_labels(index, calendar)
    assert list(labels) == ["day", "day", "cheap", "cheap", "cheap", "day", "day", "day"]
    feb = period_labels(index + pd.Timedelta(days=1), calendar)
    assert set(feb) == {"day"}
    prices = tou_prices(index, calendar, {"day": 0.8, "cheap": 0.2, "night": 0.3})
    np.testing.assert_allclose(prices, [0.8, 0.8, 0.2, 0.2, 0.2, 0.8, 0.8, 0.8])


def test_later_rule_wins():
    calendar = _flat_day(name="a", days="every_day", periods=[
        {"period": "x", "start": "10:00", "end": "12:00"}])  # fmt: skip
    calendar["day_rules"].append(
        {
            "name": "b",
            "days": "weekends",
            "periods": [{"period": "y", "start": "11:00", "end": "13:00"}],
        }  # fmt: skip
    )
    index = _at("2026-01-10 10:00", "2026-01-10 11:00", "2026-01-10 12:00", "2026-01-12 11:00")
    assert list(period_labels(index, calendar)) == ["x", "y", "y", "x"]


# ------------------------------------------------------------------ problems


def _problems(calendar: dict, day_rules: dict | None = None, stamp: str = "2026-07-15 12:00"):
    with pytest.raises(ScenarioError) as info:
        period_labels(_at(stamp), calendar, day_rules=day_rules)
    return info.value


def test_rule_periods_that_overlap():
    err = _problems(_flat_day(name="r", days="weekends", periods=[
        {"period": "x", "start": "10:00", "end": "12:00"},
        {"period": "y", "start": "11:00", "end": "13:00"}]))  # fmt: skip
    text = str(err)
    assert "day rule 'r': periods overlap at 11:00-12:00" in text
    assert "site.grid.energy_price.calendar.day_rules[0].periods" in text


@pytest.mark.parametrize(
    ("rule", "key", "words"),
    [
        ({"name": "r", "days": "sundays", "season": "summer"}, "day_rules[0].days", "every_day"),
        ({"name": "r", "days": "weekends", "season": "autumn"}, "day_rules[0].season", "summer"),
        ({"name": "r", "days": "weekends"}, "day_rules[0]", "exactly one of"),
        ({"name": "r", "days": "holidays", "holidays": ["xmas"], "season": "summer"},
         "day_rules[0].holidays", "spring_festival"),
        ({"name": "r", "days": "weekends", "holidays": ["labour_day"], "season": "summer"},
         "day_rules[0].holidays", "days: holidays"),
        ({"name": "r", "days": "weekends", "months": [13], "season": "summer"},
         "day_rules[0].months", "1 to 12"),
    ],
)  # fmt: skip
def test_bad_rules_name_their_key(rule, key, words):
    err = _problems(_flat_day(**rule))
    (problem,) = err.problems
    assert problem.key == f"site.grid.energy_price.calendar.{key}"
    assert words in str(problem)


def test_switch_for_a_rule_the_calendar_lacks():
    err = _problems(load_calendar(J2023), {"critical_peak": True})
    (problem,) = err.problems
    assert problem.key == "site.grid.energy_price.day_rules.critical_peak"
    assert "summer_critical_peak" in problem.allowed and "holiday_deep_valley" in problem.allowed


def test_listed_date_the_rule_does_not_pick():
    err = _problems(
        load_calendar(J2023), {"summer_critical_peak": [dt.date(2026, 6, 30)]}, "2026-06-30 12:00"
    )
    (problem,) = err.problems
    assert problem.key == "site.grid.energy_price.day_rules.summer_critical_peak"
    assert "2026-06-30" in str(problem) and "[7, 8]" in str(problem)


def test_derived_price_from_a_period_without_price():
    calendar = _flat_day(name="r", days="weekends", periods=[
        {"period": "x", "start": "10:00", "end": "12:00"}])  # fmt: skip
    calendar["derived_prices"] = {"x": {"terms": {"dawn": 0.5}}}
    with pytest.raises(ScenarioError) as info:
        tou_prices(_at("2026-07-15 12:00"), calendar, {"day": 1.0, "night": 0.3})
    (problem,) = info.value.problems
    assert problem.key == "site.grid.energy_price.calendar.derived_prices.x.terms"
    assert "dawn" in str(problem)


# ------------------------------------------------------------------ validity and rules files


def test_validity_notes():
    calendar = load_calendar(J2023)
    inside = pd.date_range("2024-01-01", periods=48, freq="1h", tz=TZ)
    assert validity_notes(calendar, inside, "c") == []
    after = pd.date_range("2025-05-31", periods=48, freq="1h", tz=TZ)
    (note,) = validity_notes(calendar, after, "calendar 'x'")
    assert "2025-06-01" in note and "ceased" in note
    before = pd.date_range("2025-05-31", periods=24, freq="1h", tz=TZ)
    (note,) = validity_notes(load_calendar(J2025), before, "c")
    assert "before" in note and "2025-06-01" in note


def test_holiday_rule_notes_uncovered_years():
    index = pd.date_range("2027-05-01", periods=24, freq="1h", tz=TZ)
    result = apply_calendar(index, load_calendar(J2023), day_rules={"holiday_deep_valley": True})
    assert set(result.periods) <= {"valley", "peak", "flat"}
    (note,) = result.notes
    assert "2027" in note and "holiday_deep_valley" in note


def test_basic_charge_rules_carry_their_source():
    rules = basic_charge_rules()
    assert rules["tolerance_fraction"] == 0.05
    assert rules["excess_rate_factor"] == 2.0
    assert rules["minimum_fraction_of_transformer_kva"] == 0.40
    assert rules["interval_minutes"] == 15
    assert "1583" in rules["source"]["document"]
    assert rules["source"]["reliability"] == "secondary"
    assert rules["valid_from"] == dt.date(2016, 7, 1)
