"""Bad tariff input in a scenario: one clear error naming the key, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import scenario_dict, write_scenario

import vpp
import vpp.cli
from vpp.errors import EXIT_BAD_INPUT, Problem, ScenarioError

N = 24
KEY = "site.grid.energy_price"


def _run(folder: Path, data: dict) -> ScenarioError:
    path = write_scenario(folder, data)
    with pytest.raises(ScenarioError) as info:
        vpp.run(vpp.load_scenario(path))
    return info.value


def _one(err: ScenarioError, key: str) -> Problem:
    found = [p for p in err.problems if p.key == key]
    assert len(found) == 1, f"no single problem at {key!r} in: {err}"
    return found[0]


def _inline(periods: list[tuple[str, str, str]], months: list[int] | None = None) -> dict:
    return {
        "calendar": {
            "seasons": [
                {
                    "name": "all",
                    "months": months or list(range(1, 13)),
                    "periods": [{"period": p, "start": a, "end": b} for p, a, b in periods],
                }
            ]
        },
        "prices_cny_per_kwh": {"valley": 0.3, "peak": 1.0},
    }


def test_unknown_calendar_name_lists_the_known_ones(tmp_path, capsys):
    data = scenario_dict(tmp_path, [100.0] * N, price={"calendar": "jiangsu-2030"})
    err = _run(tmp_path, data)
    problem = _one(err, f"{KEY}.calendar")
    assert "jiangsu-2025-industrial" in problem.allowed
    assert "jiangsu-2023-industrial" in problem.allowed
    path = write_scenario(tmp_path, data)
    assert vpp.cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == EXIT_BAD_INPUT
    assert "jiangsu-2030" in capsys.readouterr().err


def test_periods_that_leave_a_gap(tmp_path):
    price = _inline([("valley", "00:00", "08:00"), ("peak", "09:00", "24:00")])
    err = _run(tmp_path, scenario_dict(tmp_path, [100.0] * N, price=price))
    problem = _one(err, f"{KEY}.calendar.seasons[0].periods")
    assert "no period covers 08:00-09:00" in problem.message


def test_periods_that_overlap(tmp_path):
    price = _inline([("valley", "00:00", "09:00"), ("peak", "08:00", "24:00")])
    err = _run(tmp_path, scenario_dict(tmp_path, [100.0] * N, price=price))
    problem = _one(err, f"{KEY}.calendar.seasons[0].periods")
    assert "overlap at 08:00-09:00 (valley, peak)" in problem.message


def test_months_missing_from_the_seasons(tmp_path):
    price = _inline([("valley", "00:00", "08:00"), ("peak", "08:00", "24:00")], months=[6, 7])
    err = _run(tmp_path, scenario_dict(tmp_path, [100.0] * N, price=price))
    problem = _one(err, f"{KEY}.calendar.seasons")
    assert "month(s) [1]" in problem.message


def test_period_with_no_price(tmp_path):
    price = _inline([("valley", "00:00", "08:00"), ("flat", "08:00", "24:00")])
    err = _run(tmp_path, scenario_dict(tmp_path, [100.0] * N, price=price))
    problem = _one(err, f"{KEY}.prices_cny_per_kwh")
    assert "no price for period(s) flat" in problem.message


def test_unknown_day_rule(tmp_path):
    price = {"calendar": "jiangsu-2025-industrial", "day_rules": {"holiday_deep_valley": True}}
    err = _run(tmp_path, scenario_dict(tmp_path, [100.0] * N, price=price))
    problem = _one(err, f"{KEY}.day_rules.holiday_deep_valley")
    assert "no day rules" in problem.allowed


def test_export_price_calendar_needs_a_builtin_calendar(tmp_path):
    data = scenario_dict(tmp_path, [100.0] * N, price=0.5)
    data["site"]["grid"]["export_price_cny_per_kwh"] = "calendar"
    err = _run(tmp_path, data)
    problem = _one(err, "site.grid.export_price_cny_per_kwh")
    assert "illustrative_charges" in problem.message


@pytest.mark.parametrize(
    ("grid", "words"),
    [
        (
            {"demand_charge_cny_per_kw_month": 40.0,
             "basic_charge": {"demand_cny_per_kw_month": 40.0}},
            "not both",
        ),
        ({"basic_charge": {"method": "capacity", "capacity_cny_per_kva_month": 30.0}},
         "transformer_kva"),
        ({"basic_charge": {"method": "demand"}}, "demand_cny_per_kw_month"),
        ({"basic_charge": {"method": "ratchet", "demand_cny_per_kw_month": 1.0}}, "method"),
        ({"basic_charge": {"demand_cny_per_kw_month": 40.0, "contracted_demand_kw": -5.0}},
         "contracted_demand_kw"),
    ],
)  # fmt: skip
def test_bad_basic_charge(tmp_path, grid, words):
    data = scenario_dict(tmp_path, [100.0] * N, price=0.5, grid=grid)
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(write_scenario(tmp_path, data))
    text = str(info.value)
    assert "site.grid" in text and words in text


def test_day_rules_go_with_a_calendar(tmp_path):
    data = scenario_dict(tmp_path, [100.0] * N, price=[0.5] * N)
    data["site"]["grid"]["energy_price"]["day_rules"] = {"x": True}
    with pytest.raises(ScenarioError, match="'day_rules' goes with 'calendar'"):
        vpp.load_scenario(write_scenario(tmp_path, data))
