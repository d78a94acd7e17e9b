"""A diesel genset end to end: perfect, rolling, park, daily job and sizing runs.

Analytical cases (issue 13, item 4), on a site whose load (1000 kW) always takes all of
the genset (300 kW) and which cannot export, so that nothing but the price decides:

- it runs at rated power in exactly the steps whose energy price is above its marginal
  cost (fuel price x slope + O&M [+ the carbon price on a litre x slope]), else it is off;
- the bill holds its fuel and O&M, and the carbon account's diesel line holds
  litres x density / 1000 x factor [tCO2], with the factor of ``diesel.yaml`` (kgCO2/t);
- with a minimum stable load it is never between 0 and the minimum;
- a rolling run with perfect forecasts and a look-ahead to the end costs what perfect
  foresight costs;
- ``use: grid_limit`` gives exactly what the import limit cannot carry, ``use:
  dr_events`` runs only in the park's event steps (never on a single site).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import (
    battery,
    check_invariants,
    index,
    scenario_dict,
    telemetry_until,
    write_csv,
    write_scenario,
)

import vpp
from vpp.errors import DataError, ScenarioError
from vpp.scenario.operation import Operation, RollingSpec

ROOT = Path(__file__).resolve().parent.parent
PARK = ROOT / "scenarios" / "park" / "xushuguan-park.yaml"
EXAMPLE = ROOT / "tests" / "data" / "genset" / "factory-with-genset.yaml"

LOW, MID, HIGH = 0.3, 0.6, 0.8
RATED_KW = 300.0
SLOPE = 0.25  # L/kWh
FUEL = 2.0  # CNY/L
OM = 0.05  # CNY/kWh
MARGINAL = FUEL * SLOPE + OM  # 0.55 CNY/kWh: between LOW and MID
DENSITY = 0.844  # kg/L, vpp/emissions/data/diesel.yaml
FACTOR = 3145.0  # kgCO2/t, diesel-gbt32151
POWER_TOL_KW = 1e-5
COST_RTOL = 1e-6


def genset(**extra: object) -> dict:
    entry = {
        "name": "backup",
        "rated_kw": RATED_KW,
        "fuel_slope_l_per_kwh": SLOPE,
        "fuel_price_cny_per_l": FUEL,
        "om_cost_cny_per_kwh": OM,
    }
    entry.update(extra)
    return entry


def prices(days: int = 2) -> list[float]:
    day = [LOW] * 8 + [MID] * 4 + [HIGH] * 4 + [MID] * 4 + [HIGH] * 2 + [LOW] * 2
    return day * days


def case(tmp_path: Path, *, load_kw: list[float] | None = None, **site: object) -> dict:
    load = load_kw if load_kw is not None else [1000.0] * 48
    data = scenario_dict(tmp_path, load, price=prices(len(load) // 24))
    data["site"]["gensets"] = [genset()]
    data["site"].update(site)
    return data


def run(tmp_path: Path, data: dict) -> vpp.sim.RunResult:
    return vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))


def check_balance(result: vpp.sim.RunResult) -> None:
    """Supply equals demand, with the genset as a supply; import within its limit."""
    s, site = result.schedule, result.scenario.site
    supply = s["grid_import_kw"].to_numpy() + sum(
        s[f"{g.name}_power_kw"].to_numpy() for g in site.gensets
    )
    for b in site.batteries:
        supply = (
            supply + s[f"{b.name}_discharge_kw"].to_numpy() - s[f"{b.name}_charge_kw"].to_numpy()
        )
    demand = s["load_kw"].to_numpy() + s["grid_export_kw"].to_numpy()
    assert np.abs(supply - demand).max() <= 1e-6
    if site.grid.import_limit_kw is not None:
        assert s["grid_import_kw"].max() <= site.grid.import_limit_kw + 1e-6


def litres(schedule: pd.DataFrame, intercept: float = 0.0, name: str = "backup") -> float:
    """Diesel burned [L], recomputed here from the schedule (1 h steps)."""
    p = schedule[f"{name}_power_kw"].to_numpy()
    u = schedule[f"{name}_running_fraction"].to_numpy()
    return float((intercept * u + SLOPE * p).sum())


# ------------------------------------------------------------------ perfect foresight


def test_runs_at_rated_power_exactly_when_the_price_beats_its_marginal_cost(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, case(tmp_path))
    check_balance(result)
    check_invariants(result)  # the suite's independent balance, bill and schedule checks
    s = result.schedule
    p = s["backup_power_kw"].to_numpy()
    price = s["price_cny_per_kwh"].to_numpy()
    dear = price > MARGINAL
    assert dear.any() and (~dear).any()
    np.testing.assert_allclose(p[dear], RATED_KW, atol=POWER_TOL_KW)
    np.testing.assert_allclose(p[~dear], 0.0, atol=POWER_TOL_KW)
    # the bill: grid energy, and the genset's fuel and O&M as its own cost
    summary = result.summary
    fuel_cny = FUEL * litres(s) + OM * p.sum()
    assert summary["genset_cost_cny"] == pytest.approx(fuel_cny, rel=1e-9)
    energy = float(price @ s["grid_import_kw"].to_numpy())
    assert summary["total_cost_cny"] == pytest.approx(energy + fuel_cny, rel=1e-9)
    # what it saved against the site without it: (price - marginal) x rated in dear hours
    saving = float(((price - MARGINAL) * RATED_KW)[dear].sum())
    assert summary["baseline"]["total_cost_cny"] - summary["total_cost_cny"] == pytest.approx(
        saving, rel=1e-9
    )
    # the carbon account's diesel: litres x density / 1000 [t] x factor [kgCO2/t] / 1000
    carbon = summary["carbon"]
    assert carbon["factors"]["diesel"]["unit"] == "kgCO2/t"
    assert carbon["factors"]["diesel"]["value"] == FACTOR
    tonnes = litres(s) * DENSITY / 1000.0
    assert carbon["by_carrier_t"]["diesel"] == pytest.approx(tonnes * FACTOR / 1000.0, rel=1e-9)
    assert carbon["baseline"]["by_carrier_t"]["diesel"] == 0.0


def test_declared_diesel_and_the_gensets_add_up(tmp_path: Path) -> None:
    data = case(tmp_path)
    data["site"]["emissions"] = {"activity": {"diesel_t": 36.5}}  # 0.1 t a day
    result = run(tmp_path, data)
    share = result.summary["carbon"]["annual"]["horizon_share_of_year"]
    tonnes = litres(result.schedule) * DENSITY / 1000.0 + 36.5 * share
    assert result.summary["carbon"]["by_carrier_t"]["diesel"] == pytest.approx(
        tonnes * FACTOR / 1000.0, rel=1e-9
    )


def test_the_carbon_price_on_diesel_raises_its_marginal_cost(tmp_path: Path) -> None:
    cny_per_t = 200.0
    per_l = cny_per_t * DENSITY * FACTOR / 1e6  # CNY per litre
    marginal = (FUEL + per_l) * SLOPE + OM  # 0.683: between MID and HIGH
    assert MID < marginal < HIGH
    data = case(tmp_path, carbon_price={"cny_per_t": cny_per_t, "carriers": ["diesel"]})
    result = run(tmp_path, data)
    check_balance(result)
    check_invariants(result)  # the suite's own bill prices the diesel too
    s = result.schedule
    p = s["backup_power_kw"].to_numpy()
    dear = s["price_cny_per_kwh"].to_numpy() > marginal
    np.testing.assert_allclose(p, RATED_KW * dear, atol=POWER_TOL_KW)
    t_co2 = litres(s) * DENSITY / 1000.0 * FACTOR / 1000.0
    assert result.summary["carbon_cny"] == pytest.approx(cny_per_t * t_co2, rel=1e-9)
    assert result.summary["carbon"]["carbon_price"]["cost_cny"] == pytest.approx(
        cny_per_t * t_co2, rel=1e-9
    )


def test_minimum_stable_load_is_a_switch(tmp_path: Path) -> None:
    """40 % of 300 kW = 120 kW: where the load is 100 kW it stays off (no export)."""
    load = [1000.0] * 48
    for t in (12, 13, 36, 37):  # HIGH hours
        load[t] = 100.0
    data = case(tmp_path, load_kw=load)
    data["site"]["gensets"] = [genset(min_stable_fraction=0.4, fuel_intercept_l_per_h=3.0)]
    result = run(tmp_path, data)
    check_balance(result)
    check_invariants(result)
    s = result.schedule
    p = s["backup_power_kw"].to_numpy()
    u = s["backup_running_fraction"].to_numpy()
    assert not ((p > POWER_TOL_KW) & (p < 120.0 - POWER_TOL_KW)).any()
    np.testing.assert_allclose(u, np.round(u), atol=1e-6)
    low_load = np.array(load) < 120.0
    np.testing.assert_allclose(p[low_load], 0.0, atol=POWER_TOL_KW)
    marginal = FUEL * (SLOPE + 3.0 / RATED_KW) + OM
    dear = (s["price_cny_per_kwh"].to_numpy() > marginal) & ~low_load
    np.testing.assert_allclose(p[dear], RATED_KW, atol=POWER_TOL_KW)
    fuel = FUEL * litres(s, intercept=3.0) + OM * p.sum()
    assert result.summary["genset_cost_cny"] == pytest.approx(fuel, rel=1e-9)


def test_availability_series_derates_it(tmp_path: Path) -> None:
    share = [1.0] * 48
    share[12], share[14], share[36] = 0.5, 0.0, 0.25
    write_csv(tmp_path / "availability.csv", index(48), share=share)
    data = case(tmp_path)
    data["site"]["gensets"] = [genset(availability={"file": "availability.csv", "column": "share"})]
    result = run(tmp_path, data)
    s = result.schedule
    dear = s["price_cny_per_kwh"].to_numpy() > MARGINAL
    np.testing.assert_allclose(
        s["backup_power_kw"].to_numpy(), RATED_KW * np.array(share) * dear, atol=POWER_TOL_KW
    )


def test_grid_limit_runs_only_where_the_import_limit_cannot_carry_the_load(
    tmp_path: Path,
) -> None:
    """Load blocks against the price day (LOW 8 h, MID 4, HIGH 4, MID 4, HIGH 2, LOW 2),
    import limit 800 kW: where the load is above it the genset must give the excess and
    gives all it has when its marginal cost beats the price; elsewhere it is off even
    when the price would call it."""
    day = [900.0] * 8 + [600.0] * 4 + [1100.0] * 4 + [600.0] * 4 + [900.0] * 2 + [1100.0] * 2
    load = day * 2
    data = case(tmp_path, load_kw=load)
    data["site"]["grid"]["import_limit_kw"] = 800.0
    data["site"]["gensets"] = [genset(use="grid_limit")]
    result = run(tmp_path, data)
    check_balance(result)
    s = result.schedule
    p = s["backup_power_kw"].to_numpy()
    need = np.maximum(0.0, np.array(load) - 800.0)
    dear = s["price_cny_per_kwh"].to_numpy() > MARGINAL
    expected = np.where(need > 0.0, np.where(dear, RATED_KW, need), 0.0)
    assert (dear & (need == 0.0)).any() and (~dear & (need > 0.0)).any()
    np.testing.assert_allclose(p, expected, atol=POWER_TOL_KW)


def test_grid_limit_with_a_minimum_stable_load(tmp_path: Path) -> None:
    """A need (50 kW) below the minimum stable load (120 kW): the genset runs at its
    minimum, the import drops below the limit; a need above it is met exactly."""
    load = ([850.0] * 8 + [600.0] * 8 + [1000.0] * 8) * 2
    data = case(tmp_path, load_kw=load)
    data["site"]["grid"]["import_limit_kw"] = 800.0
    data["site"]["gensets"] = [genset(use="grid_limit", min_stable_fraction=0.4)]
    result = run(tmp_path, data)
    check_balance(result)
    s = result.schedule
    p = s["backup_power_kw"].to_numpy()
    need = np.maximum(0.0, np.array(load) - 800.0)
    dear = s["price_cny_per_kwh"].to_numpy() > MARGINAL
    expected = np.where(need > 0.0, np.where(dear, RATED_KW, np.maximum(need, 120.0)), 0.0)
    np.testing.assert_allclose(p, expected, atol=POWER_TOL_KW)


def test_dr_events_genset_never_runs_on_a_single_site(tmp_path: Path) -> None:
    data = case(tmp_path)
    data["site"]["gensets"] = [genset(use="dr_events")]
    result = run(tmp_path, data)
    np.testing.assert_allclose(result.schedule["backup_power_kw"].to_numpy(), 0.0, atol=0.0)
    assert result.summary["genset_cost_cny"] == 0.0


def test_the_example_scenario_runs(tmp_path: Path) -> None:
    result = vpp.run(vpp.load_scenario(EXAMPLE))
    assert result.summary["status"] == "Optimal"
    s = result.schedule
    assert (s["backup_power_kw"] <= 500.0 + POWER_TOL_KW).all()
    assert result.summary["genset_cost_cny"] > 0.0


# ------------------------------------------------------------------ bad input


def test_grid_limit_without_an_import_limit_is_refused(tmp_path: Path) -> None:
    data = case(tmp_path)
    data["site"]["gensets"] = [genset(use="grid_limit")]
    with pytest.raises(ScenarioError) as exc:
        run(tmp_path, data)
    problem = exc.value.problems[0]
    assert problem.key == "site.gensets[0].use" and "import_limit_kw" in problem.fix


def test_availability_outside_0_to_1_names_file_and_timestamp(tmp_path: Path) -> None:
    share = [1.0] * 48
    share[5] = 80.0  # percent, not a share
    write_csv(tmp_path / "availability.csv", index(48), share=share)
    data = case(tmp_path)
    data["site"]["gensets"] = [genset(availability={"file": "availability.csv", "column": "share"})]
    with pytest.raises(DataError) as exc:
        run(tmp_path, data)
    problem = exc.value.problems[0]
    assert problem.file.endswith("availability.csv")
    assert problem.key.startswith("site.gensets[0].availability")
    assert problem.timestamp == index(48)[5].isoformat()
    assert problem.value == "80" and problem.allowed == "0 to 1 [-]"


def test_bad_genset_entries_are_refused_with_their_keys(tmp_path: Path) -> None:
    data = case(tmp_path)
    data["site"]["gensets"] = [
        genset(rated_kw=-10.0, availability=1.5, fuel_price_cny_per_l=-1.0, use="sometimes")
    ]
    with pytest.raises(ScenarioError) as exc:
        vpp.load_scenario(write_scenario(tmp_path, data))
    text = str(exc.value)
    for key in ("rated_kw", "availability", "fuel_price_cny_per_l", "use"):
        assert f"site.gensets[0].{key}" in text, text


def test_an_unknown_diesel_factor_is_named_once(tmp_path: Path) -> None:
    data = case(tmp_path, carbon_price={"cny_per_t": 100.0})
    data["site"]["emissions"] = {"factors": {"diesel": "no-such-factor"}}
    with pytest.raises(ScenarioError) as exc:
        run(tmp_path, data)
    keys = [p.key for p in exc.value.problems]
    assert keys == ["site.emissions.factors.diesel"], keys


def test_a_genset_named_like_another_asset_is_refused(tmp_path: Path) -> None:
    data = case(tmp_path, batteries=[battery("backup", energy_kwh=100.0, power_kw=50.0)])
    with pytest.raises(ScenarioError) as exc:
        run(tmp_path, data)
    assert any("backup" in p.message for p in exc.value.problems)


# ------------------------------------------------------------------ rolling


@pytest.mark.parametrize("milp", [False, True])
def test_rolling_with_perfect_forecasts_equals_perfect_foresight(
    tmp_path: Path, milp: bool
) -> None:
    """Two windows, the first seeing to the end; with a minimum stable load each window
    is a MILP and the real-time rule keeps the plan's switch."""
    load = [1000.0] * 48
    if milp:
        for t in (12, 13, 36, 37):  # dear hours whose load (100 kW) is below the minimum
            load[t] = 100.0
    data = case(tmp_path, load_kw=load, batteries=[battery(energy_kwh=400.0, power_kw=200.0)])
    if milp:
        data["site"]["gensets"] = [genset(min_stable_fraction=0.4, fuel_intercept_l_per_h=3.0)]
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    rolling = scenario.model_copy(
        update={
            "operation": Operation(
                mode="rolling",
                rolling=RollingSpec(load_forecast="perfect", lookahead_h=48, interval_h=24),
            )
        }
    )
    perfect = vpp.run(scenario)
    operated = vpp.run(rolling)
    check_balance(operated)
    assert operated.summary["rolling"]["solves"] == 2
    assert math.isclose(
        operated.summary["total_cost_cny"], perfect.summary["total_cost_cny"], rel_tol=COST_RTOL
    )
    assert operated.summary["genset_cost_cny"] == pytest.approx(
        perfect.summary["genset_cost_cny"], rel=COST_RTOL
    )
    np.testing.assert_allclose(
        operated.schedule["backup_power_kw"].to_numpy(),
        perfect.schedule["backup_power_kw"].to_numpy(),
        atol=POWER_TOL_KW,
    )
    if not milp:
        dear = operated.schedule["price_cny_per_kwh"].to_numpy() > MARGINAL
        np.testing.assert_allclose(
            operated.schedule["backup_power_kw"].to_numpy(), RATED_KW * dear, atol=POWER_TOL_KW
        )


def test_rolling_grid_limit_takes_up_what_the_forecast_missed(tmp_path: Path) -> None:
    """The load of the last two days differs from the days before, so persistence misses:
    the genset follows its plan and takes up the need the forecast missed, so the import
    limit holds (the need stays within its rating); it never runs where the actual load
    leaves no need."""
    week = ([600.0] * 8 + [900.0] * 8 + [1100.0] * 8) * 8  # the forecast reads 8 days back
    last = ([600.0] * 8 + [1000.0] * 8 + [850.0] * 8) * 2
    data = case(tmp_path, load_kw=week + last)
    data["site"]["grid"]["import_limit_kw"] = 800.0
    data["site"]["gensets"] = [genset(use="grid_limit")]
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    start = pd.Timestamp(scenario.horizon.start) + pd.Timedelta(days=8)
    rolling = scenario.model_copy(
        update={
            "horizon": scenario.horizon.model_copy(
                update={"start": start.to_pydatetime(), "end": None, "days": 2}
            ),
            "operation": Operation(
                mode="rolling", rolling=RollingSpec(load_forecast="persistence", lookahead_h=24)
            ),
        }
    )
    result = vpp.run(rolling)
    check_balance(result)
    s = result.schedule
    p = s["backup_power_kw"].to_numpy()
    need = np.maximum(0.0, s["load_kw"].to_numpy() - 800.0)
    assert (p >= need - POWER_TOL_KW).all() and (p <= RATED_KW + POWER_TOL_KW).all()
    np.testing.assert_allclose(p[need == 0.0], 0.0, atol=POWER_TOL_KW)
    missed = (need > 0.0) & (s["price_cny_per_kwh"].to_numpy() < MARGINAL)
    assert missed.any()


# ------------------------------------------------------------------ park, job, sizing


def park_with_genset(tmp_path: Path, **entry: object) -> Path:
    """The demo park with a genset at the logistics site (in ``tmp_path``)."""
    data = yaml.safe_load(PARK.read_text())
    shutil.copytree(PARK.parent / "sites", tmp_path / "sites", dirs_exist_ok=True)
    site_file = tmp_path / "sites" / "logistics.yaml"
    site = yaml.safe_load(site_file.read_text())
    site["site"]["gensets"] = [genset(**entry)]
    site_file.write_text(yaml.safe_dump(site, sort_keys=False))
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_park_runs_a_dr_genset_in_the_event_steps_only(tmp_path: Path) -> None:
    from vpp.portfolio.park import load_park
    from vpp.portfolio.run import run_park

    result = run_park(load_park(park_with_genset(tmp_path, use="dr_events")))
    (event,) = result.summary["demand_response"]
    site = result.sites["logistics"]
    s = site.schedule
    steps = s.index.tz_localize(None)
    inside = (steps >= np.datetime64(event["start"])) & (steps < np.datetime64(event["end"]))
    p = s["backup_power_kw"].to_numpy()
    np.testing.assert_allclose(p[~inside], 0.0, atol=POWER_TOL_KW)
    # in the event the peak price (above its marginal cost) and the event's payment both
    # call it: rated power
    assert (s.loc[inside, "price_cny_per_kwh"] > MARGINAL).all()
    np.testing.assert_allclose(p[inside], RATED_KW, atol=POWER_TOL_KW)


def test_park_with_an_always_genset_bills_it_at_its_site(tmp_path: Path) -> None:
    from vpp.portfolio.park import load_park
    from vpp.portfolio.run import run_park

    result = run_park(load_park(park_with_genset(tmp_path)), method="monolithic")
    s = result.sites["logistics"].schedule
    p = s["backup_power_kw"].to_numpy()
    assert p.max() == pytest.approx(RATED_KW) and (p <= RATED_KW + POWER_TOL_KW).all()
    fuel = (FUEL * SLOPE + OM) * float(p.sum()) * 0.25  # 15 min steps
    assert result.sites["logistics"].summary["genset_cost_cny"] == pytest.approx(fuel, rel=1e-9)


def test_daily_job_schedules_the_genset(tmp_path: Path) -> None:
    from vpp.jobs.schedule import run_schedule

    forecasts = ROOT / "forecasts"
    park = park_with_genset(tmp_path / "park")
    outcome = run_schedule(
        park,
        "2026-07-16",
        out_dir=tmp_path / "out",
        forecasts_dir=forecasts,
        telemetry_dir=telemetry_until(
            forecasts / "telemetry", tmp_path / "telemetry", "2026-07-15T15:00:00+08:00"
        ),
        notices_dir=forecasts / "notices",
    )
    assert outcome.status == "ok"
    plan = pd.read_csv(tmp_path / "out" / "2026-07-16" / "sites" / "logistics" / "schedule.csv")
    assert "backup_power_kw" in plan.columns
    assert plan["backup_power_kw"].max() > 0.0
    assert (plan["backup_power_kw"] <= RATED_KW + POWER_TOL_KW).all()


def test_sizing_with_a_genset_keeps_the_battery_break_even(tmp_path: Path) -> None:
    """The genset (marginal 0.55) runs at rated power in the dear half of every day of a
    LOW/HIGH spread, whatever the battery does (the load takes both): the battery's
    break-even is unchanged, so below it the battery is built to its limit."""
    from vpp.planning.finance import crf
    from vpp.planning.size import size

    days, rate, life = 7, 0.06, 15
    spread = ([LOW] * 12 + [HIGH] * 12) * days
    data = scenario_dict(
        tmp_path,
        [1000.0] * (24 * days),
        price=spread,
        batteries=[battery(energy_kwh=100.0, power_kw=100.0)],
    )
    break_even = 365.0 * (HIGH - LOW) / crf(rate, life)
    data["site"]["batteries"][0]["sizing"] = {
        "max_energy_kwh": 500.0,
        "capex_cny_per_kwh": 0.9 * break_even,
        "lifetime_years": life,
    }
    data["site"]["gensets"] = [genset()]
    data["finance"] = {"discount_rate": rate, "analysis_years": 10}
    result = size(vpp.load_scenario(write_scenario(tmp_path, data)))
    assert abs(result.sizes["bess"]["energy_kwh"] - 500.0) <= 1e-4
    s = result.dispatch.schedule
    dear = s["price_cny_per_kwh"].to_numpy() > MARGINAL
    np.testing.assert_allclose(s["backup_power_kw"].to_numpy(), RATED_KW * dear, atol=POWER_TOL_KW)
    assert [g.name for g in result.sized.site.gensets] == ["backup"]


def test_rolling_keeps_a_grid_limit_genset_off_where_the_plan_left_it_off(
    tmp_path: Path,
) -> None:
    """A battery covers the need above the import limit in three of four hours; the plan
    keeps the genset (minimum stable load 40 %) off there, and the real-time rule must not
    start it at its minimum: with perfect forecasts rolling equals perfect foresight."""
    load = [1000.0] * 48
    for t in (4, 5, 28, 29):
        load[t] = 1100.0
    data = case(tmp_path, load_kw=load, batteries=[battery(energy_kwh=400.0, power_kw=200.0)])
    data["site"]["grid"]["import_limit_kw"] = 1050.0
    data["site"]["gensets"] = [
        genset(min_stable_fraction=0.4, fuel_intercept_l_per_h=3.0, use="grid_limit")
    ]
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    rolling = scenario.model_copy(
        update={
            "operation": Operation(
                mode="rolling",
                rolling=RollingSpec(load_forecast="perfect", lookahead_h=48, interval_h=24),
            )
        }
    )
    perfect, operated = vpp.run(scenario), vpp.run(rolling)
    p_perfect = perfect.schedule["backup_power_kw"].to_numpy()
    assert (p_perfect[[4, 5, 28, 29]] < POWER_TOL_KW).any()  # the case tests something
    np.testing.assert_allclose(
        operated.schedule["backup_power_kw"].to_numpy(), p_perfect, atol=POWER_TOL_KW
    )
    assert math.isclose(
        operated.summary["total_cost_cny"], perfect.summary["total_cost_cny"], rel_tol=COST_RTOL
    )
