"""Deferrable loads in rolling runs, parks and the daily job
(:mod:`vpp.assets.deferrable.operation`, :mod:`vpp.assets.deferrable.job`).

Hourly cases with no fixed load (rolling runs) or the job tests' evening site, with
prices chosen so that the best run of each window occurrence can be found by hand: the
energy cost of a run is ``power_kw`` x the sum of the prices of its hours.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import scenario_dict, write_scenario
from job_parks import (
    EVENING_BESS,
    EVENING_LOAD_KW,
    EVENING_PRICES,
    calendar,
    write_park,
    write_site,
)

import vpp
import vpp.cli
from vpp.errors import EXIT_BAD_INPUT, EXIT_INFEASIBLE, InfeasibleError, ScenarioError
from vpp.jobs.schedule import run_schedule
from vpp.model import build_model, solve
from vpp.operation.park_rolling import run_park_rolling
from vpp.operation.prepare import prepare_rolling
from vpp.operation.windows import initial_states, window_assets
from vpp.portfolio.park import load_park
from vpp.portfolio.run import run_park

#: Bill of a rolling run vs the hand-computed or perfect-foresight one [CNY] (every case
#: is solved to a zero MIP gap; HiGHS's feasibility tolerance is 1e-7 per step).
COST_ATOL_CNY = 1e-6
#: Relative tolerance of a park's objective vs the site run alone [-].
PARK_RTOL = 1e-9
#: On/off flags and powers vs the expected ones [-], [kW].
FLAG_TOL = 1e-6
POWER_TOL_KW = 1e-6
#: Power of the test load [kW].
P_KW = 10.0

# three days; on each the cheapest 4-hour block of the 20:00-06:00 window is 22:00-02:00
# (0.2, 0.2, 0.3, 0.3): 10 CNY a night; the third night is cut by the horizon's end at
# 24:00 and must run 20:00-24:00 (1.0, 1.0, 0.2, 0.2): 24 CNY
NIGHT_PRICES = [1.0] * 72
for _d in range(3):
    for _h in (22, 23):
        NIGHT_PRICES[24 * _d + _h] = 0.2
    for _h in (0, 1, 2, 3):
        NIGHT_PRICES[24 * _d + _h] = 0.3
NIGHT_ON = [22, 23, 24, 25, 46, 47, 48, 49, 68, 69, 70, 71]
NIGHT_COST_CNY = 10.0 + 10.0 + 24.0


def oven(**keys: object) -> dict[str, object]:
    """A deferrable load of P_KW, 4 h in the 20:00-06:00 window; ``keys`` override."""
    entry: dict[str, object] = {
        "kind": "deferrable",
        "name": "oven",
        "power_kw": P_KW,
        "run_h": 4,
        "window_start": "20:00",
        "window_end": "06:00",
    }
    entry.update(keys)
    return entry


def night_case(folder: Path, rolling: dict | None, prices=NIGHT_PRICES, **keys: object) -> Path:
    """Three days (or ``len(prices)`` hours), no fixed load, the oven; rolling settings
    ``rolling`` (perfect load forecasts) or perfect foresight."""
    data = scenario_dict(folder, [0.0] * len(prices), price=prices, flexible_loads=[oven(**keys)])
    if rolling is not None:
        data["operation"] = {
            "mode": "rolling",
            "rolling": {"load_forecast": "perfect", **rolling},
        }
    return write_scenario(folder, data)


def on_steps(result: vpp.sim.RunResult, column: str = "oven_on") -> list[int]:
    return np.flatnonzero(result.schedule[column].to_numpy() > 0.5).tolist()


# ---------------------------------------------------------------- rolling runs


def test_a_run_split_by_a_decision_goes_on_in_the_next_window(tmp_path):
    # decisions every 12 h from 00:00: the window issued at 12:00 starts the night's run at
    # 22:00 and the decision at 00:00 (step 24, 48) cuts it; the next window carries
    # the run under way (2 h on) and finishes it at 02:00, not a step more or less
    path = night_case(tmp_path, {"interval_h": 12, "lookahead_h": 48})
    result = vpp.run(vpp.load_scenario(path))
    assert result.summary["mode"] == "rolling"
    assert on_steps(result) == NIGHT_ON
    assert on_steps(result, "oven_start") == [22, 46, 68]
    power = result.schedule["oven_power_kw"].to_numpy()
    assert np.allclose(power[NIGHT_ON], P_KW, atol=POWER_TOL_KW)
    assert power.sum() * 1.0 == pytest.approx(12 * P_KW, abs=POWER_TOL_KW)  # 120 kWh
    assert result.summary["total_cost_cny"] == pytest.approx(NIGHT_COST_CNY, abs=COST_ATOL_CNY)
    assert result.summary["rolling"]["solves"] == 6
    assert result.summary["rolling"]["windows_infeasible_on_forecast"]["count"] == 0


def _window_plan(folder: Path, on: list[int], started: list[int], **keys: object) -> np.ndarray:
    """The oven's planned flags in the first night's 00:00-06:00 of the window issued at
    step 24 (to 48) of a three-day night case (prices 5.0 at 00:00-02:00, 0.10 rising
    by 0.01 an hour at 02:00-06:00, else 1.0), with ``on`` and ``started`` settled before it."""
    prices = [1.0] * 72
    prices[24:26] = [5.0, 5.0]
    prices[26:30] = [0.10, 0.11, 0.12, 0.13]
    path = night_case(folder, {"interval_h": 24, "lookahead_h": 24}, prices, **keys)
    scenario = vpp.load_scenario(path)
    prep = prepare_rolling(scenario)
    horizon = prep.inputs.horizon
    state = initial_states(prep.inputs.assets, horizon)
    flags_on, flags_start = np.zeros(horizon.n), np.zeros(horizon.n)
    flags_on[on], flags_start[started] = 1.0, 1.0
    state["oven"] = dataclasses.replace(state["oven"], on=flags_on, start=flags_start)
    assert list(prep.decisions) == [0, 24, 48]
    assets, window = window_assets(
        prep.inputs.assets, scenario, horizon, 24, 48, state, prep.forecasts[1]
    )
    model = build_model(assets, window)
    result = solve(model)
    assert result.status == "Optimal"
    return result.values(model.asset["oven"].on)[:6]


def test_a_run_under_way_goes_on_at_any_price(tmp_path):
    # 2 h of a 4-hour block ran before the window: it goes on at 5.0 CNY/kWh for 2 h,
    # although 02:00-06:00 costs 0.1
    on = _window_plan(tmp_path, [22, 23], [22])
    assert np.flatnonzero(on > 0.5).tolist() == [0, 1]


def test_a_night_whose_run_is_done_does_not_run_again(tmp_path):
    # 4 h ran before midnight: nothing more that night, even at 0.1 CNY/kWh
    on = _window_plan(tmp_path, [20, 21, 22, 23], [20])
    assert np.flatnonzero(on > 0.5).tolist() == []


def test_split_runs_go_on_within_their_longest_run(tmp_path):
    # runs of 1 to 2 h, two starts: 1 h ran (started at 23:00); 3 h are left with one
    # start: the run under way must go on for 1 h at 5.0 (its longest is 2 h, so it stops
    # at 01:00) and the one start left makes the other 2 h at 0.10 and 0.11 (02:00-04:00)
    keys = {"max_run_h": 2, "min_run_h": 1, "starts": 2, "window_start": "19:00"}
    on = _window_plan(tmp_path, [23], [23], **keys)
    assert np.flatnonzero(on > 0.5).tolist() == [0, 2, 3]


@pytest.mark.parametrize(
    ("keys", "seed"),
    [({}, 1), ({"run_h": 5, "min_run_h": 2, "max_run_h": 3, "starts": 3}, 2)],
)
def test_one_window_over_the_horizon_equals_perfect_foresight(tmp_path, keys, seed):
    # perfect forecasts and a look-ahead over the whole horizon: each decision sees every
    # price to the end, so the rolling bill is the perfect-foresight one
    prices = list(np.round(np.random.default_rng(seed).uniform(0.1, 1.5, 72), 3))
    keys = {"window_start": "08:00", "window_end": "18:00", "start_cost_cny": 0.5, **keys}
    perfect = vpp.run(vpp.load_scenario(night_case(tmp_path, None, prices, **keys)))
    rolling_path = night_case(tmp_path, {"interval_h": 24, "lookahead_h": 72}, prices, **keys)
    rolling = vpp.run(vpp.load_scenario(rolling_path))
    assert rolling.summary["total_cost_cny"] == pytest.approx(
        perfect.summary["total_cost_cny"], abs=COST_ATOL_CNY
    )
    assert rolling.schedule["oven_on"].sum() == pytest.approx(
        perfect.schedule["oven_on"].sum(), abs=FLAG_TOL
    )
    assert rolling.summary["rolling"]["cost_of_imperfect_forecasts_cny"] == pytest.approx(
        0.0, abs=COST_ATOL_CNY
    )


def test_a_window_the_horizon_cuts_too_short_is_infeasible_as_in_perfect_foresight(
    tmp_path, capsys
):
    # the 22:00-02:00 window of the last day leaves 2 h before the horizon's end for a
    # 3-hour run: exit 3, naming the load, the day and the hours, before any window
    prices = [1.0] * 24
    path = night_case(
        tmp_path,
        {"interval_h": 24, "lookahead_h": 24},
        prices,
        run_h=3,
        window_start="22:00",
        window_end="02:00",
    )
    with pytest.raises(InfeasibleError) as info:
        vpp.run(vpp.load_scenario(path))
    text = str(info.value)
    assert "deferrable load 'oven'" in text and "22:00-02:00 of 2026-01-05" in text
    assert "leaving 2 h of this window" in text and "the run needs 3 h" in text
    assert vpp.cli.main(["-q", "run", str(path)]) == EXIT_INFEASIBLE
    perfect = night_case(tmp_path, None, prices, run_h=3, window_start="22:00", window_end="02:00")
    assert vpp.cli.main(["-q", "run", str(perfect)]) == EXIT_INFEASIBLE


# ---------------------------------------------------------------- parks


def _plant_with_oven(folder: Path, **keys: object) -> Path:
    site = write_site(folder, "plant", EVENING_LOAD_KW, EVENING_PRICES, bess=EVENING_BESS)
    data = yaml.safe_load(site.read_text(encoding="utf-8"))
    data["site"]["flexible_loads"] = [oven(**keys)]
    site.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return site


def test_a_park_of_one_deferrable_site_equals_the_site_alone(tmp_path):
    # no shared limit and no event: the park's model is the site's, binaries included
    keys = {"power_kw": 30.0, "run_h": 3, "window_start": "06:00", "window_end": "20:00"}
    site = _plant_with_oven(tmp_path, start_cost_cny=1.0, **keys)
    alone = vpp.run(vpp.load_scenario(site))
    park = run_park(load_park(write_park(tmp_path, [site])))
    in_park = park.sites["plant"]
    assert in_park.summary["total_cost_cny"] == pytest.approx(
        alone.summary["total_cost_cny"], rel=PARK_RTOL
    )
    # the cheapest 3 h of 06:00-20:00 at 0.30/0.70 CNY/kWh: 06:00-09:00 (0.3, 0.3, 0.7)
    assert on_steps(in_park) == on_steps(alone) == [6, 7, 8]
    assert in_park.summary["deferrable_start_cost_cny"] == pytest.approx(1.0, abs=COST_ATOL_CNY)


def test_a_decomposed_park_with_a_deferrable_site_is_refused(tmp_path, capsys):
    site = _plant_with_oven(tmp_path, window_start="06:00", window_end="20:00", run_h=3)
    park = write_park(tmp_path, [site])
    data = yaml.safe_load(park.read_text(encoding="utf-8"))
    data["solve"] = {"method": "decomposed"}
    park.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        run_park(load_park(park))
    assert "site(s) 'plant' have integer variables" in str(info.value)
    assert "solve.method: monolithic" in str(info.value)
    assert vpp.cli.main(["-q", "run", str(park)]) == EXIT_BAD_INPUT


# ---------------------------------------------------------------- the daily job


def _oven_kw(folder: Path, table: str) -> pd.Series:
    frame = pd.read_csv(folder / "sites" / "plant" / table, index_col="timestamp")
    return frame["oven_power_kw"]


def test_the_daily_job_runs_the_load_and_the_next_run_carries_its_run(tmp_path):
    # 4 h in 21:00-03:00 at peak 1.20 (to 22:00), shoulder 0.32 (22-24), valley 0.30:
    # the cheapest block is 23:00-03:00 (0.32 + 3 x 0.30), across midnight
    site = _plant_with_oven(tmp_path, power_kw=30.0, window_start="21:00", window_end="03:00")
    park = write_park(tmp_path, [site])
    out = tmp_path / "out"
    common = {"out_dir": out, "forecasts_dir": None, "telemetry_dir": None}
    run_schedule(park, "2026-07-16", now="2026-07-15T15:00:00+08:00", **common)
    day = out / "2026-07-16"
    today, target = _oven_kw(day, "today.csv"), _oven_kw(day, "schedule.csv")
    assert np.flatnonzero(today.to_numpy() > POWER_TOL_KW).tolist() == [8]  # 23:00 of the 15th
    assert np.flatnonzero(target.to_numpy() > POWER_TOL_KW).tolist() == [0, 1, 2, 23]
    assert np.allclose(target.iloc[[0, 1, 2, 23]], 30.0, atol=POWER_TOL_KW)
    # every occurrence of the window runs exactly its 4 steps in the plan carried on
    runs = json.loads((day / "state.json").read_text(encoding="utf-8"))
    planned = pd.Series(runs["sites"]["plant"]["runs"]["oven"]["on"])
    assert planned.sum() == pytest.approx(8.0, abs=FLAG_TOL)  # two nights, 4 h each
    # the next day's job at midnight: the run started at 23:00 is under way; it goes on
    # for its 3 h left (00:00-03:00), without a new start, and the next night runs 4 h
    run_schedule(park, "2026-07-17", now="2026-07-16T00:00:00+08:00", **common)
    nxt = out / "2026-07-17"
    today = _oven_kw(nxt, "today.csv")
    assert np.flatnonzero(today.to_numpy() > POWER_TOL_KW).tolist() == [0, 1, 2, 23]
    # its flags are published too, though the window's end cuts the 17th's night
    flags = pd.read_csv(nxt / "sites" / "plant" / "today.csv", index_col="timestamp")
    assert flags["oven_start"].to_numpy().nonzero()[0].tolist() == [23]
    summary = json.loads((nxt / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "ok"
    assert any(
        "1 h of its 4 h run before now from the previous run's plan" in f
        and "a run under way for 1 h goes on" in f
        for f in summary["flags"]
    )
    carried = json.loads((nxt / "state.json").read_text(encoding="utf-8"))
    nights = pd.Series(carried["sites"]["plant"]["runs"]["oven"]["start"])
    assert nights.sum() == pytest.approx(2.0, abs=FLAG_TOL)  # the 16th's and 17th's nights


def test_the_jobs_assembled_park_keeps_the_binaries(tmp_path):
    # 2 h in 00:00-04:00 at 0.1, 1.0, 0.2, 2.0 CNY/kWh: the cheapest block is 00:00-02:00
    # (1.1) at the full 30 kW; a relaxation would spread fractions of the run over the
    # cheap hours 00:00 and 02:00 instead
    periods = [("a", "00:00", "01:00"), ("b", "01:00", "02:00"), ("c", "02:00", "03:00")]
    prices = calendar([*periods, ("d", "03:00", "24:00")], {"a": 0.1, "b": 1.0, "c": 0.2, "d": 2.0})
    site = write_site(tmp_path, "plant", [50.0] * 24, prices)
    data = yaml.safe_load(site.read_text(encoding="utf-8"))
    keys = {"power_kw": 30.0, "run_h": 2, "window_start": "00:00", "window_end": "04:00"}
    data["site"]["flexible_loads"] = [oven(**keys)]
    site.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    run_schedule(
        write_park(tmp_path, [site]),
        "2026-07-16",
        out_dir=out,
        forecasts_dir=None,
        telemetry_dir=None,
        now="2026-07-15T15:00:00+08:00",
    )
    power = _oven_kw(out / "2026-07-16", "schedule.csv").to_numpy()
    assert np.allclose(power[:4], [30.0, 30.0, 0.0, 0.0], atol=POWER_TOL_KW)


def test_a_park_backtest_carries_the_run_past_each_decision_and_the_horizons_end(tmp_path):
    # three days, decisions at 00:00 with a 24-hour look-ahead: each night's cheapest 4 h
    # of 21:00-03:00 are 23:00-03:00 (0.32 + 3 x 0.30); each decision starts the run at
    # 23:00 and the next carries it on; the last night goes on past the horizon's end
    # (the backtest plans past it), and the settled schedule holds its first hour
    site = _plant_with_oven(tmp_path, power_kw=30.0, window_start="21:00", window_end="03:00")
    data = yaml.safe_load(site.read_text(encoding="utf-8"))
    data["horizon"]["days"] = 3
    site.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    park = write_park(tmp_path, [site])
    data = yaml.safe_load(park.read_text(encoding="utf-8"))
    data["horizon"]["days"] = 3
    rolling = {"load_forecast": "perfect", "lookahead_h": 24}
    data["operation"] = {"mode": "rolling", "rolling": rolling}
    park.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run_park_rolling(load_park(park), reference=False)
    plant = result.sites["plant"]
    assert on_steps(plant) == [23, 24, 25, 26, 47, 48, 49, 50, 71]
    assert on_steps(plant, "oven_start") == [23, 47, 71]
