"""Deferrable loads (``kind: deferrable``): processes run in whole blocks inside a window.

Every case is a day (or two weeks) of hourly steps with no fixed load, so the grid
import is the deferrable load alone and each optimum can be computed by hand from the
price series: the energy cost of a run is ``power_kw`` x the sum of the prices of its
hours. Every solved case goes through ``helpers.check_invariants`` (bus balance, the
bill recomputed by hand); ``runs.solved_schedule.check_objective`` checks on every
solve that the MIP objective equals the bill.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import battery, scenario_dict, solve_case, write_scenario

import vpp
import vpp.cli
import vpp.operation.rolling
import vpp.planning.sizing_model
import vpp.runs.perfect
from vpp.errors import EXIT_BAD_INPUT, EXIT_INFEASIBLE, InfeasibleError, ScenarioError
from vpp.model.strategies import BRANCH_AND_CUT, MipReport
from vpp.planning.size import size
from vpp.profiles import is_working_day, working_days

#: Hand-computed cost vs solver result [CNY] (the MIP gap is 1e-4 and every case here
#: is solved to a zero gap; HiGHS's feasibility tolerance is 1e-7 per step).
COST_ATOL_CNY = 1e-5
#: On/off flags and powers vs the expected ones [-], [kW].
FLAG_TOL = 1e-6
POWER_TOL_KW = 1e-5
#: Power of the test load [kW].
P_KW = 10.0


def oven(**keys: object) -> dict[str, object]:
    """A deferrable load of P_KW over the whole day; ``keys`` override."""
    entry: dict[str, object] = {
        "kind": "deferrable",
        "name": "oven",
        "power_kw": P_KW,
        "run_h": 3,
        "window_start": "00:00",
        "window_end": "24:00",
    }
    entry.update(keys)
    return entry


def day_case(folder: Path, prices: list[float], **keys: object) -> dict:
    """One day, no fixed load, a price series and the oven."""
    return scenario_dict(folder, [0.0] * len(prices), price=prices, flexible_loads=[oven(**keys)])


def on_hours(result: vpp.sim.RunResult, name: str = "oven") -> list[int]:
    """The steps at which the load is on."""
    return np.flatnonzero(result.schedule[f"{name}_on"].to_numpy() > 0.5).tolist()


# a cheap 3-hour block (14-16 at 0.3) that is not the 3 cheapest hours (2, 10, 20 at 0.1)
BLOCK_PRICES = [1.0] * 24
for _h in (2, 10, 20):
    BLOCK_PRICES[_h] = 0.1
for _h in (14, 15, 16):
    BLOCK_PRICES[_h] = 0.3


def test_one_run_takes_the_cheapest_contiguous_block(tmp_path):
    # by hand: any 3-hour block holding a 0.1 hour costs 0.1 + 2 x 1.0 = 2.1 per kW or
    # more; 14-16 costs 0.9 per kW: 10 kW x 0.9 = 9 CNY. The 3 cheapest hours would cost
    # 3 CNY but are not consecutive. The baseline runs at once: hours 0-2, 10 x 2.1 = 21.
    result = solve_case(tmp_path, day_case(tmp_path, BLOCK_PRICES))
    assert on_hours(result) == [14, 15, 16]
    power = result.schedule["oven_power_kw"].to_numpy()
    assert np.allclose(power[[14, 15, 16]], P_KW, atol=POWER_TOL_KW)
    assert result.summary["total_cost_cny"] == pytest.approx(9.0, abs=COST_ATOL_CNY)
    assert result.schedule["oven_start"].sum() == pytest.approx(1.0, abs=FLAG_TOL)
    default = result.schedule["oven_default_kw"].to_numpy()
    assert np.flatnonzero(default > 0).tolist() == [0, 1, 2]
    assert result.summary["baseline"]["total_cost_cny"] == pytest.approx(21.0, abs=COST_ATOL_CNY)


# two cheap pairs (3-4 at 0.2, 8-9 at 0.3), one very cheap single hour (15 at 0.05);
# hour 2 at 1.2 and 5 at 0.9 make the best 4-hour block (3-6) unique
RUN_PRICES = [1.0] * 24
for _h, _p in ((2, 1.2), (3, 0.2), (4, 0.2), (5, 0.9), (8, 0.3), (9, 0.3), (15, 0.05)):
    RUN_PRICES[_h] = _p


@pytest.mark.parametrize(
    ("keys", "hours", "cost_cny"),
    [
        # runs of exactly 2 h, 2 starts: 3-4 and 8-9, 10 x (0.4 + 0.6) = 10 CNY; with
        # runs of 1 h allowed it would take 15, 3, 4, 8 for 10 x 0.75 = 7.5 CNY
        ({"run_h": 4, "min_run_h": 2, "max_run_h": 2, "starts": 2}, [3, 4, 8, 9], 10.0),
        # one run of 4 h (the defaults): 3-6 at 0.2 + 0.2 + 0.9 + 1.0 = 2.3/kW, 23 CNY
        ({"run_h": 4}, [3, 4, 5, 6], 23.0),
        # 3 h in runs of 1 to 3 h, 2 starts: 3-4 and 15, 10 x (0.4 + 0.05) = 4.5 CNY
        ({"run_h": 3, "min_run_h": 1, "starts": 2}, [3, 4, 15], 4.5),
        # 2 h in runs of 1 to 2 h, 1 start: 3-4, 4 CNY; with 2 starts it would be 3 and
        # 15 for 10 x 0.25 = 2.5 CNY
        ({"run_h": 2, "min_run_h": 1, "starts": 1}, [3, 4], 4.0),
        # 3 h in runs of 2 to 3 h, 2 starts: two runs would need 4 h, so one run 3-5 at
        # 0.2 + 0.2 + 0.9 = 1.3/kW, 13 CNY; without the shortest-run rows it would be
        # 3-4 and 15 for 4.5 CNY
        ({"run_h": 3, "min_run_h": 2, "starts": 2}, [3, 4, 5], 13.0),
        # 3 h in runs of exactly 1 h, 3 starts: 15, 3 or 4, 8 or 9 (apart: 3 and 4
        # together would be one 2-hour run): 10 x (0.05 + 0.2 + 0.3) = 5.5 CNY; without
        # the longest-run rows it would be 4.5 CNY
        ({"run_h": 3, "min_run_h": 1, "max_run_h": 1, "starts": 3}, None, 5.5),
    ],
)
def test_run_lengths_and_starts(tmp_path, keys, hours, cost_cny):
    result = solve_case(tmp_path, day_case(tmp_path, RUN_PRICES, **keys))
    assert result.summary["total_cost_cny"] == pytest.approx(cost_cny, abs=COST_ATOL_CNY)
    on = on_hours(result)
    if hours is not None:
        assert on == hours
    entry = result.scenario.site.flexible_loads[0]
    assert len(on) == round(entry.run_h)
    starts = result.schedule["oven_start"].to_numpy()
    assert starts.sum() <= entry.starts + FLAG_TOL
    # every run lasts min_run_h .. max_run_h, and each run has its start flag
    runs = np.split(np.array(on), np.flatnonzero(np.diff(on) > 1) + 1)
    assert all(entry.shortest_run_h <= len(r) <= entry.longest_run_h for r in runs)
    assert np.flatnonzero(starts > 0.5).tolist() == [int(r[0]) for r in runs]


@pytest.mark.parametrize(("price", "power_kw"), [(0.2, 4.0), (-0.5, 10.0)])
def test_semi_continuous_power(tmp_path, price, power_kw):
    # on for 2 h at 10-11 (the only hours not at 1.0); while on the power is anything in
    # 4..10 kW: at a positive price the least (4 kW, 2 x 4 x 0.2 = 1.6 CNY), at a
    # negative price the most (10 kW, 2 x 10 x -0.5 = -10 CNY)
    prices = [1.0] * 24
    prices[10] = prices[11] = price
    data = day_case(tmp_path, prices, run_h=2, min_power_kw=4.0)
    result = solve_case(tmp_path, data)
    assert on_hours(result) == [10, 11]
    power = result.schedule["oven_power_kw"].to_numpy()
    assert np.allclose(power[[10, 11]], power_kw, atol=POWER_TOL_KW)
    expected = 2 * power_kw * price
    assert result.summary["total_cost_cny"] == pytest.approx(expected, abs=COST_ATOL_CNY)


def test_semi_continuous_fits_under_an_import_limit_that_fixed_power_does_not(tmp_path):
    # a 5 kW import limit: 4..10 kW runs at 4 or 5 kW; a fixed 10 kW cannot run (exit 3,
    # the diagnosis names the load, its window and its hours)
    data = day_case(tmp_path, BLOCK_PRICES, min_power_kw=4.0)
    data["site"]["grid"]["import_limit_kw"] = 5.0
    result = solve_case(tmp_path, data)
    assert on_hours(result) == [14, 15, 16]
    fixed = day_case(tmp_path, BLOCK_PRICES)
    fixed["site"]["grid"]["import_limit_kw"] = 5.0
    with pytest.raises(InfeasibleError) as info:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, fixed)))
    text = str(info.value)
    assert "deferrable load 'oven'" in text and "00:00-24:00" in text and "3 h" in text


def test_working_days_follow_the_holiday_calendar():
    # 2026-09-20 is a make-up Sunday, 2026-10-10 a make-up Saturday; 2026-10-01 and
    # 2026-09-25 (a Friday) are public holidays; 2026-09-19 is an ordinary Saturday
    days = ["2026-09-19", "2026-09-20", "2026-09-21", "2026-09-25", "2026-10-01", "2026-10-10"]
    assert working_days(days).tolist() == [False, True, True, False, False, True]
    assert is_working_day(pd.Timestamp("2026-09-20").date())


def test_weekdays_run_on_a_make_up_sunday_and_not_on_1_october(tmp_path):
    # two weeks from Saturday 2026-09-19; the window 08:00-12:00 on working days, 2 h
    start = "2026-09-19T00:00:00"
    n = 14 * 24
    data = scenario_dict(
        tmp_path,
        [0.0] * n,
        price=0.5,
        start=start,
        flexible_loads=[oven(run_h=2, window_start="08:00", window_end="12:00", days="weekdays")],
    )
    result = solve_case(tmp_path, data)
    on = result.schedule["oven_on"]
    per_day = on.groupby(on.index.date).sum().round().astype(int)
    hours = {str(day): int(v) for day, v in per_day.items()}
    assert hours["2026-09-19"] == 0  # Saturday
    assert hours["2026-09-20"] == 2  # make-up Sunday
    assert hours["2026-09-21"] == 2  # Monday
    assert hours["2026-09-25"] == 0  # mid-autumn holiday (a Friday)
    assert hours["2026-10-01"] == 0  # national day
    assert sum(hours.values()) == 2 * int(working_days(list(per_day.index)).sum())


def test_summary_json_has_the_mip_gap(tmp_path):
    data = day_case(tmp_path, BLOCK_PRICES)
    path = write_scenario(tmp_path, data)
    out = tmp_path / "out"
    assert vpp.cli.main(["-q", "run", str(path), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    mip = summary["solver"]["mip"]
    assert mip["proven_optimal"] is True
    assert mip["gap"] == pytest.approx(0.0, abs=1e-4)
    assert mip["gap_limit"] == pytest.approx(1e-4)
    assert mip["time_limit_s"] == pytest.approx(60.0)
    assert summary["status"] == "Optimal"


def test_the_note_of_a_mip_stopped_at_its_time_limit():
    report = MipReport("Time limit reached", 0.02, False, 1e-4, 5.0, 9)
    note = report.note()
    assert note is not None and "time limit of 5 s" in note and "0.02" in note
    assert "not proven optimal" in note
    assert MipReport("Optimal", 0.0, True, 1e-4, 5.0, 1).note() is None


def test_a_mip_stopped_early_is_a_result_with_its_gap_and_a_note(tmp_path, monkeypatch):
    # HiGHS stops at its first solution (mip_max_improving_sols 1, presolve off): a
    # feasible schedule that is not proven optimal. It is billed and checked like any
    # other (check_objective), with its gap and a note in the summary. The prices are
    # a fixed random week so that the first solution is not the optimum.
    rng = np.random.default_rng(0)
    prices = [float(p) for p in np.round(rng.uniform(0.2, 1.5, 24 * 7), 3)]
    keys = {"run_h": 5, "min_run_h": 1, "max_run_h": 2, "starts": 4}
    data = day_case(tmp_path, prices, window_start="06:00", window_end="20:00", **keys)
    first_solution = BRANCH_AND_CUT.with_options(mip_max_improving_sols=1, presolve="off")
    real_solve = vpp.runs.perfect.solve
    monkeypatch.setattr(
        vpp.runs.perfect,
        "solve",
        lambda model, **kw: real_solve(model, strategies=[first_solution], **kw),
    )
    result = vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))  # status: not Optimal
    mip = result.summary["solver"]["mip"]
    assert mip["proven_optimal"] is False and mip["gap"] > 1e-3
    assert result.summary["status"] == "Solution limit reached"
    assert any("not proven optimal" in note for note in result.summary["notes"])
    monkeypatch.setattr(vpp.runs.perfect, "solve", real_solve)
    best = solve_case(tmp_path, data)
    assert best.summary["solver"]["mip"]["proven_optimal"] is True
    assert best.summary["total_cost_cny"] < result.summary["total_cost_cny"]


def test_a_start_cost_is_in_the_bill_and_the_objective(tmp_path):
    # runs of 2 to 4 h, at most 2 starts, run_h 4. Without a start cost: 3-4 and 8-9,
    # 10 CNY. At 15 CNY a start: two runs 10 + 30 = 40, one run 3-6 23 + 15 = 38.
    keys = {"run_h": 4, "min_run_h": 2, "max_run_h": 4, "starts": 2}
    free = solve_case(tmp_path, day_case(tmp_path, RUN_PRICES, **keys))
    assert on_hours(free) == [3, 4, 8, 9]
    data = day_case(tmp_path, RUN_PRICES, start_cost_cny=15.0, **keys)
    result = vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    assert on_hours(result) == [3, 4, 5, 6]
    assert result.summary["total_cost_cny"] == pytest.approx(38.0, abs=COST_ATOL_CNY)
    assert result.summary["deferrable_start_cost_cny"] == pytest.approx(15.0, abs=COST_ATOL_CNY)
    assert free.summary.get("deferrable_start_cost_cny") is None


def test_no_deferrable_load_keeps_the_lp(tmp_path):
    # without a deferrable load the model stays an LP: no "mip" in the solver report
    data = scenario_dict(tmp_path, [1.0] * 24, price=BLOCK_PRICES)
    result = solve_case(tmp_path, data)
    assert "mip" not in result.summary["solver"]
    assert result.summary["solver"]["strategy"] == "dual simplex"


def test_a_sizing_runs_with_a_deferrable_load_in_the_model(tmp_path):
    # three days, cheap nights; a battery candidate and the oven (3 h in 06:00-18:00).
    # The sizing solves a MIP; its own self-check re-runs the chosen size as a dispatch
    # (vpp run) and compares the operating cost. The oven runs 3 h a day in its window
    # in the sizing's dispatch.
    prices = ([0.3] * 8 + [1.2] * 16) * 3
    data = scenario_dict(
        tmp_path,
        [100.0] * 72,
        price=prices,
        batteries=[{**battery(energy_kwh=100.0, power_kw=100.0)}],
        flexible_loads=[oven(power_kw=50.0, window_start="06:00", window_end="18:00")],
    )
    data["site"]["batteries"][0]["sizing"] = {
        "max_energy_kwh": 500.0,
        "capex_cny_per_kwh": 300.0,
        "lifetime_years": 10,
    }
    data["finance"] = {"discount_rate": 0.06, "analysis_years": 10}
    result = size(vpp.load_scenario(write_scenario(tmp_path, data)))
    on = result.dispatch.schedule["oven_on"]
    assert on.groupby(on.index.date).sum().round().tolist() == [3, 3, 3]
    assert on[(on.index.hour < 6) | (on.index.hour >= 18)].sum() == pytest.approx(0.0)


# ------------------------------------------------------------------ bad input


def load_error(tmp_path: Path, **keys: object) -> str:
    data = day_case(tmp_path, BLOCK_PRICES, **keys)
    with pytest.raises(ScenarioError) as info:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    return str(info.value)


def test_a_run_longer_than_its_window_is_bad_input(tmp_path):
    text = load_error(tmp_path, run_h=3, window_start="22:00", window_end="00:00")
    assert "site.flexible_loads[0]" in text and "2 h" in text
    assert "a consecutive run of 3 h (min_run_h) is longer than the window" in text
    data = day_case(tmp_path, BLOCK_PRICES, window_start="22:00", window_end="00:00")
    code = vpp.cli.main(["-q", "run", str(write_scenario(tmp_path, data))])
    assert code == EXIT_BAD_INPUT


def test_run_h_not_a_multiple_of_the_step_is_bad_input(tmp_path):
    text = load_error(tmp_path, run_h=1.5)
    assert "run_h 1.5 h" in text and "oven" in text and "60-minute" in text


def test_runs_that_cannot_make_run_h_are_bad_input(tmp_path):
    text = load_error(tmp_path, run_h=4, max_run_h=2)
    assert "run_h 4 h" in text and "at most 1 run" in text


def test_a_window_cut_by_the_horizon_too_short_for_the_run_is_infeasible(tmp_path):
    # the window 22:00-02:00 opens at 22:00 on the last day; the horizon ends at
    # 24:00, leaving 2 h for a 3-hour run
    data = day_case(tmp_path, BLOCK_PRICES, window_start="22:00", window_end="02:00")
    path = write_scenario(tmp_path, data)
    with pytest.raises(InfeasibleError) as info:
        vpp.run(vpp.load_scenario(path))
    text = str(info.value)
    assert "deferrable load 'oven'" in text and "22:00-02:00" in text
    assert "the horizon ends at 2026-01-06T00:00:00+08:00" in text and "2 h" in text
    assert vpp.cli.main(["-q", "run", str(path)]) == EXIT_INFEASIBLE


# ------------------------------------------------------------------ sizing with a MIP

#: The LP tolerance of the sizing's self-check (vpp.planning.size.SIZE_CHECK_RTOL) [-].
SIZE_CHECK_RTOL = 1e-6


def kiln_site(days: int, operation: dict[str, object]) -> dict[str, object]:
    """The reviewer's sizing case (a battery candidate, two deferrable loads with start
    costs, grid limits, a daily demand charge) over ``days`` days from 6 July 2026."""
    return {
        "name": "kilns",
        "timezone": "Asia/Shanghai",
        "horizon": {"start": "2026-07-06", "days": days, "step": "1h"},
        "operation": operation,
        "site": {
            "name": "s",
            "load": {"synthetic": {"profile": "office", "peak_kw": 900, "seed": 31}},
            "pv": [
                {
                    "kind": "rooftop",
                    "name": "roof",
                    "dc_capacity_kw": 1200,
                    "tilt_deg": 10,
                    "dc_ac_ratio": 1.15,
                    "commissioning_year": 2025,
                }
            ],
            "batteries": [
                {
                    "name": "bess",
                    "energy_kwh": 1000,
                    "charge_power_kw": 500,
                    "discharge_power_kw": 500,
                    "soc_min_fraction": 0.1,
                    "soc_max_fraction": 0.95,
                    "soc_initial_fraction": 0.5,
                    "final_soc": {"rule": "at_least", "fraction": 0.9},
                    "throughput_cost_cny_per_kwh": 0.02,
                    "throughput_cost_on": "both",
                    "combined_power_kw": 600,
                    "storage_efficiency_per_step": 0.999,
                    "sizing": {
                        "max_energy_kwh": 5000,
                        "max_power_kw": 2000,
                        "capex_cny_per_kwh": 750,
                        "capex_cny_per_kw": 0,
                        "om_cny_per_kw_year": 15,
                        "lifetime_years": 15,
                    },
                }
            ],
            "flexible_loads": [
                {
                    **oven(name="kiln", power_kw=300, min_power_kw=100, run_h=6),
                    **{"min_run_h": 2, "max_run_h": 4, "starts": 3, "start_cost_cny": 30},
                    **{"window_start": "06:00", "window_end": "22:00"},
                },
                {
                    **oven(name="press", power_kw=250, run_h=5),
                    **{"min_run_h": 1, "max_run_h": 3, "starts": 3, "start_cost_cny": 10},
                    **{"window_start": "13:00", "window_end": "23:00"},
                },
            ],
            "grid": {
                "import_limit_kw": 1200,
                "export_limit_kw": 500,
                "energy_price": {"calendar": "jiangsu-2025-industrial"},
                "export_price_cny_per_kwh": 0.391,
                "basic_charge": {"method": "demand", "demand_cny_per_kw_month": 40},
            },
            "demand_charges": [
                {"name": "pk", "rate_cny_per_kw": 5, "per": "day", "periods": ["peak"]}
            ],
        },
        "finance": {"discount_rate": 0.06, "analysis_years": 20},
    }


def check_within_the_gaps(summary: dict, dispatch_solver: dict) -> None:
    """The self-check's window, recomputed by hand from the two reported gaps: with Z the
    sizing objective (gap g_s) and D the sized run's objective (its bill plus the
    tie-break terms, gap g_d), the operating part O of Z satisfies
    -g_d |D| <= O - D <= g_s |Z| (vpp.planning.size.self_check), plus the LP tolerance."""
    check = summary["check"]
    g_s = summary["solver"]["mip"]["gap"]
    g_d = dispatch_solver["mip"]["gap"]
    d = check["sizing_operating_cost_cny"] - check["gap_cny"]  # D = O - (O - D)
    tol = SIZE_CHECK_RTOL * max(1.0, abs(check["sized_bill_cny"]))
    low = -g_d * max(1.0, abs(d)) - tol
    high = g_s * max(1.0, abs(summary["objective_cny"])) + tol
    assert check["allowed_cny"] == pytest.approx([low, high], rel=1e-9)
    assert low <= check["gap_cny"] <= high


def test_a_sizing_mip_uses_the_operation_options_and_checks_within_its_gaps(tmp_path):
    # the reviewer's case over 4 days: the sizing and the sized run are each solved to
    # the gap 1e-4 only and stop at different schedules (1.46 CNY apart, 2.4e-5 of the
    # bill, above the LP check's 1e-6). vpp size must succeed, with the sizing's
    # solver.mip carrying operation.mip_gap and operation.mip_time_limit_s.
    data = kiln_site(4, {"mip_gap": 1e-4, "mip_time_limit_s": 120})
    path = write_scenario(tmp_path, data)
    out = tmp_path / "sizing"
    assert vpp.cli.main(["-q", "size", str(path), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    mip = summary["solver"]["mip"]
    assert mip["gap_limit"] == pytest.approx(1e-4)
    assert mip["time_limit_s"] == pytest.approx(120.0)
    assert mip["proven_optimal"] is True and mip["gap"] <= 1e-4
    assert summary["status"] == "Optimal" and summary["notes"] == []
    dispatch = json.loads((out / "dispatch" / "summary.json").read_text(encoding="utf-8"))
    check_within_the_gaps(summary, dispatch["solver"])


def test_a_sizing_with_a_coarse_mip_gap_passes_its_check(tmp_path):
    # mip_gap 0.05: the sizing stops at a gap of about 1e-2, the sized run at its own;
    # the bills differ by hundreds of CNY, within what the two gaps allow
    data = kiln_site(4, {"mip_gap": 0.05})
    result = size(vpp.load_scenario(write_scenario(tmp_path, data)))
    summary = result.summary
    assert summary["solver"]["mip"]["gap_limit"] == pytest.approx(0.05)
    assert summary["solver"]["mip"]["time_limit_s"] == pytest.approx(60.0)  # the default
    assert result.dispatch.summary["solver"]["mip"]["gap_limit"] == pytest.approx(0.05)
    check_within_the_gaps(summary, result.dispatch.summary["solver"])


def test_a_sizing_mip_stopped_early_is_a_result_with_its_gap_and_a_note(tmp_path, monkeypatch):
    # HiGHS stops the sizing at its first solution (as in vpp run's test above): the
    # sizes of that point are the result, its gap in solver.mip and a note in notes
    first_solution = BRANCH_AND_CUT.with_options(mip_max_improving_sols=1, presolve="off")
    monkeypatch.setattr(vpp.planning.sizing_model, "INTERIOR_FIRST", (first_solution,))
    data = kiln_site(3, {})
    result = size(vpp.load_scenario(write_scenario(tmp_path, data)))
    summary = result.summary
    assert summary["status"] == "Solution limit reached"
    mip = summary["solver"]["mip"]
    assert mip["proven_optimal"] is False and mip["gap"] > 1e-3
    assert any(n.startswith("the sizing: ") and "not proven optimal" in n for n in summary["notes"])
    check_within_the_gaps(summary, result.dispatch.summary["solver"])


def test_the_frontier_of_a_sizing_mip_uses_the_operation_options(tmp_path):
    # each frontier point is a MIP solved with operation.mip_gap: its gap and the gap
    # asked are in its row, the gap at most the one asked (HiGHS stops at or below it)
    data = kiln_site(3, {"mip_gap": 1e-3})
    result = size(vpp.load_scenario(write_scenario(tmp_path, data)), frontier_points=2)
    points = result.frontier
    assert (points["status"] == "Optimal").all()
    assert (points["gap_limit"] == 1e-3).all()
    assert points["gap"].notna().all() and (points["gap"] <= 1e-3).all()
