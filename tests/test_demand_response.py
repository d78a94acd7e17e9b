"""Demand response: rules file, event schema, similar days, baseline, settlement, sharing.

The history used here is built by hand so that every expected figure can be checked on
paper: in the event window (14:00-16:00) a working day ``d`` of March or April 2026 reads
``1000 + day-of-month`` kW before 15:00 and 100 kW more from 15:00; every other kind of day
reads 3000 kW (so a wrongly chosen day shows in the baseline). 2026 calendar
(``cn-holidays.yaml``): Qingming holiday 2026-04-04 (Sat) to 2026-04-06 (Mon); Labour Day
2026-05-01 to 2026-05-05; make-up working day 2026-05-09 (Sat).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from vpp.errors import DataError, ScenarioError
from vpp.portfolio.dr import annual_usage, load_dr_rules, settle_event, share_payment
from vpp.portfolio.dr_baseline import baseline_kw, event_steps, similar_days
from vpp.profiles.synthetic import WORKING_DAY, day_kinds
from vpp.scenario.dr import DemandResponseEvent

TZ = "Asia/Shanghai"
KW_TOL = 1e-9  # [kW] float rounding of means of a few numbers
CNY_TOL = 1e-6  # [CNY]
OTHER_DAY_KW = 3000.0
EVENT_DAY = dt.date(2026, 4, 9)  # Thursday after the Qingming holiday
PREVIOUS_EVENT_DAY = dt.date(2026, 4, 2)  # Thursday, excluded
GAP_DAY = dt.date(2026, 3, 31)  # Tuesday with a missing value in the window


def _history(first: str = "2026-03-01", last: str = "2026-04-09") -> pd.Series:
    """Hand-made 15-min load [kW] from ``first`` 00:00 to ``last`` 00:00 (local)."""
    index = pd.date_range(first, last, freq="15min", tz=TZ, inclusive="left")
    local = index.tz_localize(None)
    days = (local.normalize() - pd.Timestamp("1970-01-01")).days.to_numpy()
    working = (day_kinds(days) == WORKING_DAY) & (local.normalize() != str(PREVIOUS_EVENT_DAY))
    by_hand = 1000.0 + local.day.to_numpy() + np.where(local.hour >= 15, 100.0, 0.0)
    values = np.where(working, by_hand, OTHER_DAY_KW)
    history = pd.Series(values, index=index, name="site_load_kw")
    gap = pd.Timestamp(f"{GAP_DAY} 14:30", tz=TZ)
    if gap in history.index:
        history[gap] = np.nan
    return history


def _event(**changes: object) -> DemandResponseEvent:
    spec: dict[str, object] = {
        "name": "ev1",
        "kind": "peak_shaving",
        "start": dt.datetime(2026, 4, 9, 14),
        "end": dt.datetime(2026, 4, 9, 16),
        "requested_kw": 600.0,
    }
    spec.update(changes)
    return DemandResponseEvent(**spec)


def _metered(values: list[float]) -> pd.Series:
    index = pd.date_range("2026-04-09 14:00", periods=8, freq="15min", tz=TZ)
    return pd.Series(values, index=index)


# --- rules file -----------------------------------------------------------------------------


def test_rules_file_carries_the_reference_figures_and_their_status():
    rules = load_dr_rules()
    assert rules["valid_from"] is not None and "valid_to" in rules
    peak = rules["payments"]["peak_shaving"]["response_types"]["realtime_over_2h"]
    valley = rules["payments"]["valley_filling"]["response_types"]
    # reference sheet section 9, [official-quoted]
    assert peak["payment_cny_per_kw"] == pytest.approx(15.0)
    assert valley["valley_hours"]["payment_cny_per_kw"] == pytest.approx(5.0)
    assert valley["flat_hours"]["payment_cny_per_kw"] == pytest.approx(8.0)
    for rate in (peak, valley["valley_hours"], valley["flat_hours"]):
        assert rate["reliability"] == "official-quoted" and rate["source"]
    # not in the reference sheet: marked illustrative
    for section, key in [("baseline", "n_days"), ("settlement", "min_fraction"),
                         ("settlement", "cap_fraction")]:  # fmt: skip
        assert rules[section][key]["reliability"] == "illustrative"
        assert "[illustrative]" in rules[section][key]["source"]
    for key in ("max_events_per_year", "max_hours_per_year", "min_notice_h"):
        assert rules["limits"][key]["reliability"] == "untagged"
        assert rules["limits"][key]["source"]


def test_load_dr_rules_returns_a_copy():
    load_dr_rules()["settlement"]["min_fraction"]["value"] = 0.1
    assert load_dr_rules()["settlement"]["min_fraction"]["value"] == pytest.approx(0.8)


# --- schema ---------------------------------------------------------------------------------


def test_event_defaults_come_from_the_rules_file():
    event = _event()
    rules = load_dr_rules()
    assert event.response_type == "realtime_over_2h"
    assert event.payment_cny_per_kw == pytest.approx(15.0)
    assert event.min_fraction == pytest.approx(rules["settlement"]["min_fraction"]["value"])
    assert event.cap_fraction == pytest.approx(rules["settlement"]["cap_fraction"]["value"])
    assert event.baseline_days == rules["baseline"]["n_days"]["value"]
    assert event.duration_h == pytest.approx(2.0)


def test_valley_filling_rates_and_overrides():
    window = {"start": "2026-04-09 11:00", "end": "2026-04-09 13:00"}
    assert _event(kind="valley_filling", **window).payment_cny_per_kw == pytest.approx(5.0)
    flat = _event(kind="valley_filling", response_type="flat_hours", **window)
    assert flat.payment_cny_per_kw == pytest.approx(8.0)
    own = _event(payment_cny_per_kw=12.0, min_fraction=0.6, cap_fraction=1.5, baseline_days=3)
    assert (own.payment_cny_per_kw, own.min_fraction, own.cap_fraction, own.baseline_days) == (
        12.0, 0.6, 1.5, 3,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"end": dt.datetime(2026, 4, 9, 13)}, "not after start"),
        ({"end": dt.datetime(2026, 4, 10, 1)}, "crosses midnight"),
        ({"end": dt.datetime(2026, 4, 9, 15)}, "at least 2 h"),  # 15 CNY/kW needs 2 h
        ({"end": dt.datetime(2026, 4, 9, 14, 5)}, "allowed 0.25 h"),
        ({"start": dt.datetime(2026, 4, 9, 14, 0, 30)}, "whole minute"),
        ({"notified_at": dt.datetime(2026, 4, 9, 15)}, "not before start"),
        ({"response_type": "valley_hours"}, "not a peak_shaving rate"),
        ({"kind": "load_shedding"}, "peak_shaving"),
        ({"requested_kw": 0.0}, "greater than 0"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_event_is_refused(changes, words):
    with pytest.raises(ValidationError, match=words) as info:
        _event(**changes)
    assert len(info.value.errors()) == 1


def test_short_event_with_its_own_payment_and_notice():
    event = _event(end="2026-04-09 15:00", payment_cny_per_kw=10.0,
                   notified_at="2026-04-09 10:00")  # fmt: skip
    assert event.duration_h == pytest.approx(1.0)
    assert event.notice_h == pytest.approx(4.0)


def test_event_steps_and_grid():
    steps = event_steps(_event(), "15min", TZ)
    assert len(steps) == 8 and steps[0] == pd.Timestamp("2026-04-09 14:00", tz=TZ)
    with pytest.raises(ScenarioError, match="step grid"):
        event_steps(_event(start="2026-04-09 13:50"), "15min", TZ)


# --- similar days ---------------------------------------------------------------------------


def test_working_day_event_skips_holidays_weekends_events_and_gaps():
    history = _history().dropna()
    days = similar_days(dt.datetime(2026, 4, 9, 14), history.index, 6,
                        event_end=dt.datetime(2026, 4, 9, 16),
                        exclude_days=[PREVIOUS_EVENT_DAY])  # fmt: skip
    # skipped: 04-06 (Monday, Qingming holiday), 04-04/05 (holiday), 04-02 (event day),
    # 03-31 (missing value at 14:30), 03-28/29 (weekend)
    assert days == [dt.date(2026, 4, d) for d in (8, 7, 3, 1)] + [
        dt.date(2026, 3, 30), dt.date(2026, 3, 27),
    ]  # fmt: skip


def test_gap_outside_the_window_does_not_skip_the_day():
    days = similar_days(pd.Timestamp("2026-04-01 09:00", tz=TZ), _history().dropna().index,
                        1, event_end=pd.Timestamp("2026-04-01 11:00", tz=TZ))  # fmt: skip
    assert days == [GAP_DAY]


def test_weekend_and_holiday_events_take_days_of_their_own_kind():
    index = pd.date_range("2026-01-01", "2026-05-12", freq="1h", tz=TZ, inclusive="left")
    saturday = similar_days(dt.datetime(2026, 4, 11, 14), index, 2)
    assert saturday == [dt.date(2026, 3, 28), dt.date(2026, 3, 21)]  # 04-04 is a holiday
    holiday = similar_days(dt.datetime(2026, 5, 1, 10), index, 4)
    assert holiday == [dt.date(2026, 4, 6), dt.date(2026, 4, 5), dt.date(2026, 4, 4),
                       dt.date(2026, 2, 23)]  # fmt: skip
    # Monday after Labour Day: the make-up working day 05-09 (a Saturday) counts,
    # Sunday 05-10 and the holiday 05-01..05 do not
    monday = similar_days(dt.datetime(2026, 5, 11, 14), index, 5)
    assert monday == [dt.date(2026, 5, d) for d in (9, 8, 7, 6)] + [dt.date(2026, 4, 30)]


# --- baseline and settlement ----------------------------------------------------------------


def test_baseline_by_hand():
    base = baseline_kw(_history(), _event(), exclude_days=[PREVIOUS_EVENT_DAY])
    # days 04-08, 04-07, 04-03, 04-01, 03-30: (1008 + 1007 + 1003 + 1001 + 1030) / 5 = 1009.8
    expected = [1009.8] * 4 + [1109.8] * 4
    assert np.allclose(base.to_numpy(), expected, rtol=0, atol=KW_TOL)
    assert base.index.equals(event_steps(_event(), "15min", TZ))
    assert base.attrs["mean_kw"] == pytest.approx(1059.8, abs=KW_TOL)
    assert base.attrs["similar_days"][-1] == dt.date(2026, 3, 30)


def test_timezone_aware_event_gives_the_same_baseline():
    aware = _event(start=pd.Timestamp("2026-04-09 06:00", tz="UTC").to_pydatetime(),
                   end=pd.Timestamp("2026-04-09 08:00", tz="UTC").to_pydatetime())  # fmt: skip
    naive = baseline_kw(_history(), _event(), exclude_days=[PREVIOUS_EVENT_DAY])
    got = baseline_kw(_history(), aware, exclude_days=[PREVIOUS_EVENT_DAY])
    assert np.allclose(got.to_numpy(), naive.to_numpy(), rtol=0, atol=KW_TOL)


def test_settlement_by_hand():
    event = _event()
    base = baseline_kw(_history(), event, exclude_days=[PREVIOUS_EVENT_DAY])
    result = settle_event(base, _metered([600.0] * 4 + [500.0] * 4), 500.0, event)
    # effective = 1059.8 - 550 = 509.8 kW >= 0.8 x 500 = 400 kW; cap 1.2 x 500 = 600 kW
    assert result["baseline_mean_kw"] == pytest.approx(1059.8, abs=KW_TOL)
    assert result["metered_mean_kw"] == pytest.approx(550.0, abs=KW_TOL)
    assert result["effective_kw"] == pytest.approx(509.8, abs=KW_TOL)
    assert result["delivery_fraction"] == pytest.approx(509.8 / 500.0, abs=KW_TOL)
    assert result["threshold_kw"] == pytest.approx(400.0, abs=KW_TOL)
    assert result["cap_kw"] == pytest.approx(600.0, abs=KW_TOL)
    assert result["paid"] is True
    assert result["paid_kw"] == pytest.approx(509.8, abs=KW_TOL)
    assert result["payment_cny"] == pytest.approx(509.8 * 15.0, abs=CNY_TOL)  # 7647 CNY


def test_below_min_fraction_is_not_paid():
    base = baseline_kw(_history(), _event(), exclude_days=[PREVIOUS_EVENT_DAY])
    result = settle_event(base, _metered([700.0] * 8), 500.0, _event())
    # effective = 1059.8 - 700 = 359.8 kW < 400 kW
    assert result["effective_kw"] == pytest.approx(359.8, abs=KW_TOL)
    assert result["paid"] is False
    assert result["paid_kw"] == 0.0 and result["payment_cny"] == 0.0


def test_above_cap_is_capped():
    base = baseline_kw(_history(), _event(), exclude_days=[PREVIOUS_EVENT_DAY])
    result = settle_event(base, _metered([300.0] * 8), 500.0, _event())
    # effective = 759.8 kW > cap 600 kW: paid 600 kW x 15 CNY/kW = 9000 CNY
    assert result["effective_kw"] == pytest.approx(759.8, abs=KW_TOL)
    assert result["paid_kw"] == pytest.approx(600.0, abs=KW_TOL)
    assert result["payment_cny"] == pytest.approx(9000.0, abs=CNY_TOL)


def test_threshold_exactly_met_is_paid_and_valley_filling_sign():
    terms = {"kind": "peak_shaving", "payment_cny_per_kw": 15.0,
             "min_fraction": 0.8, "cap_fraction": 1.2}  # fmt: skip
    exact = settle_event(np.full(4, 1000.0), np.full(4, 600.0), 500.0, terms)
    assert exact["paid"] is True and exact["payment_cny"] == pytest.approx(6000.0, abs=CNY_TOL)
    valley = dict(terms, kind="valley_filling", payment_cny_per_kw=5.0)
    raised = settle_event(np.full(4, 600.0), np.full(4, 1000.0), 400.0, valley)
    assert raised["effective_kw"] == pytest.approx(400.0, abs=KW_TOL)
    assert raised["payment_cny"] == pytest.approx(2000.0, abs=CNY_TOL)


def test_settlement_refuses_gaps_and_mismatched_steps():
    base = baseline_kw(_history(), _event(), exclude_days=[PREVIOUS_EVENT_DAY])
    metered = _metered([500.0] * 8)
    metered.iloc[3] = np.nan
    with pytest.raises(DataError) as info:
        settle_event(base, metered, 500.0, _event())
    assert info.value.problems[0].timestamp == str(metered.index[3])
    with pytest.raises(DataError, match="same steps"):
        settle_event(base, metered.shift(1, freq="15min"), 500.0, _event())
    with pytest.raises(ScenarioError, match="positive"):
        settle_event(base, _metered([500.0] * 8), 0.0, _event())


def test_insufficient_history_names_the_first_missing_timestamp():
    history = _history(first="2026-04-01")
    with pytest.raises(DataError) as info:
        baseline_kw(history, _event(), exclude_days=[PREVIOUS_EVENT_DAY])
    problem = info.value.problems[0]
    # needed 04-08, 04-07, 04-03, 04-01, 03-31; found 4 (history starts 04-01)
    assert problem.timestamp == "2026-03-31T14:00:00+08:00"
    assert "found 4 of 5 working days" in problem.message
    assert "2026-03-31, 2026-04-01, 2026-04-03, 2026-04-07, 2026-04-08" in problem.allowed


# --- sharing and yearly limits --------------------------------------------------------------


def test_share_by_delivered_gives_nothing_to_negative_sites():
    shares = share_payment(800.0, {"a": 300.0, "b": 100.0, "c": -50.0})
    assert shares == pytest.approx({"a": 600.0, "b": 200.0, "c": 0.0}, abs=CNY_TOL)
    with pytest.raises(DataError, match="no site delivered"):
        share_payment(800.0, {"a": -1.0, "b": 0.0})
    assert share_payment(0.0, {"a": -1.0}) == {"a": 0.0}


def test_share_equal_and_by_capacity():
    equal = share_payment(900.0, {"a": 300.0, "b": 0.0, "c": -50.0}, method="equal")
    assert equal == pytest.approx({"a": 300.0, "b": 300.0, "c": 300.0}, abs=CNY_TOL)
    by_capacity = share_payment(800.0, {"a": 0.0, "b": 0.0}, method="capacity",
                                capacity_kw_by_site={"a": 100.0, "b": 300.0})  # fmt: skip
    assert by_capacity == pytest.approx({"a": 200.0, "b": 600.0}, abs=CNY_TOL)
    with pytest.raises(DataError, match="positive capacity"):
        share_payment(800.0, {"a": 0.0, "b": 0.0}, method="capacity",
                      capacity_kw_by_site={"a": 100.0})  # fmt: skip


def test_annual_usage_against_the_limits():
    events = [_event(name=f"e{i}", start=f"2026-07-{i:02d} 14:00", end=f"2026-07-{i:02d} 17:00")
              for i in range(1, 8)]  # fmt: skip
    usage = annual_usage(events)[2026]
    assert usage["events"] == 7 and usage["hours"] == pytest.approx(21.0)
    assert usage["over_hours"] is True and usage["over_events"] is False
