"""Grid emission factors that change by the hour (issue 15, item 7).

``site.emissions.grid_factor_series`` [kgCO2/kWh] replaces the constant grid factor in
the location-based account, in the carbon price (as the market-based factor, unless
``factors.electricity_market_based`` is given) and in the cost-carbon frontier of a
sizing. Each expected value below is computed by hand in the test from the case's
numbers; the comments say how.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import battery, index, scenario_dict, solve_case, write_csv, write_scenario

import vpp
import vpp.cli
from vpp.errors import EXIT_BAD_INPUT, EXIT_OK, DataError, ScenarioError
from vpp.planning.size import size

#: Hand-computed optimum vs solver result [-] and [CNY].
COST_RTOL = 1e-6
COST_ATOL_CNY = 1e-5
#: Emissions recomputed from a schedule vs the summary: same numbers, summation order [-].
ACCOUNT_RTOL = 1e-12
#: Emissions vs a frontier cap [-] and [t] (interior point, HiGHS's tolerances).
CAP_RTOL = 1e-6
CAP_ATOL_T = 1e-6
#: Sized energy vs the hand-computed size [kWh].
SIZE_TOL_KWH = 1e-3
#: A power "is zero" below this [kW].
ZERO_TOL_KW = 1e-6
KG_PER_T = 1000.0

# the carbon-price case: one day, hourly, flat energy price, export paid at 20:00 only
PRICE = 0.5  # flat import price [CNY/kWh]
EXPORT = 1.0  # export price at 20:00 [CNY/kWh], 0 at other hours
CARBON = 1000.0  # carbon price [CNY/tCO2]
F_NIGHT, F_DAY, F_NOON = 0.9, 0.35, 0.1  # grid factors [kgCO2/kWh]
ENERGY_KWH, ETA_C = 100.0, 0.9


def day_factors(noon: float = F_NOON) -> list[float]:
    """High at night (00-06, 18-24), lower by day, lowest at noon (10-14) [kgCO2/kWh]."""
    return [F_NIGHT if h < 7 or h >= 18 else noon if 10 <= h < 15 else F_DAY for h in range(24)]


def arbitrage_case(folder: Path, emissions: dict, noon: float = F_NOON) -> dict:
    """A battery without load that buys energy to export it at 20:00; a carbon price.

    Exporting grid import at 20:00 would earn 1.0 - (0.5 + 1000 * 0.9 / 1000) < 0, and
    the export limit is the battery's power: the battery alone exports."""
    data = scenario_dict(
        folder,
        [0.0] * 24,
        price=PRICE,
        export_price=[EXPORT if h == 20 else 0.0 for h in range(24)],
        batteries=[battery(energy_kwh=ENERGY_KWH, power_kw=100.0, eta_c=ETA_C)],
        grid={"export_limit_kw": 100.0},
    )
    write_csv(folder / "factor.csv", index(24), kg_per_kwh=day_factors(noon))
    data["site"]["emissions"] = emissions
    data["site"]["carbon_price"] = {"cny_per_t": CARBON}
    return data


def series(**extra: object) -> dict:
    return {"grid_factor_series": {"file": "factor.csv", "column": "kg_per_kwh"}, **extra}


def test_carbon_price_moves_charging_to_the_low_factor_hours(tmp_path: Path) -> None:
    """Flat prices: only the hourly factor tells the hours apart.

    The battery buys E / eta_c = 111.1 kWh and exports E = 100 kWh at 20:00, which pays
    whenever (p + lambda f / 1000) / eta_c < x: (0.5 + 0.1) / 0.9 = 0.67 at the noon
    factor, (0.5 + 0.35) / 0.9 = 0.94 at the day factor, both below 1.0. Its bill is
    (p + lambda f / 1000) E / eta_c - x E with f the factor of the hours it charges in:
    the noon factor with the noon dip, the day factor without it (noon hours at the
    day factor). The difference is lambda (f_day - f_noon) E / eta_c / 1000 =
    1000 * 0.25 * 100 / 0.9 / 1000 = 27.78 CNY.
    """
    dip = solve_case(tmp_path / "dip", arbitrage_case(tmp_path / "dip", series()))
    no_dip = solve_case(
        tmp_path / "no_dip", arbitrage_case(tmp_path / "no_dip", series(), noon=F_DAY)
    )
    bought_kwh = ENERGY_KWH / ETA_C
    expected_dip = (PRICE + CARBON * F_NOON / KG_PER_T) * bought_kwh - EXPORT * ENERGY_KWH
    expected_no_dip = (PRICE + CARBON * F_DAY / KG_PER_T) * bought_kwh - EXPORT * ENERGY_KWH
    got_dip = dip.summary["total_cost_cny"]
    got_no_dip = no_dip.summary["total_cost_cny"]
    assert got_dip == pytest.approx(expected_dip, rel=COST_RTOL, abs=COST_ATOL_CNY)
    assert got_no_dip == pytest.approx(expected_no_dip, rel=COST_RTOL, abs=COST_ATOL_CNY)
    difference = CARBON * (F_DAY - F_NOON) * ENERGY_KWH / ETA_C / KG_PER_T
    assert got_no_dip - got_dip == pytest.approx(difference, rel=COST_RTOL, abs=COST_ATOL_CNY)
    charge = dip.schedule["bess_charge_kw"].to_numpy()
    noon = np.array(day_factors()) == F_NOON
    assert charge[~noon].max() <= ZERO_TOL_KW  # every kWh bought at a noon hour
    assert charge[noon].sum() == pytest.approx(bought_kwh, rel=COST_RTOL)
    # the carbon price falls on the market-based factor, which follows the series
    cost = dip.summary["carbon"]["carbon_price"]["cost_cny"]
    assert cost == pytest.approx(CARBON * F_NOON * bought_kwh / KG_PER_T, rel=COST_RTOL)
    assert dip.summary["carbon"]["grid_factor"]["market_based_follows_series"] is True


def test_a_given_market_based_factor_keeps_the_carbon_price_constant(tmp_path: Path) -> None:
    """With ``electricity_market_based: 0.2`` the price falls on 0.2 kgCO2/kWh at every
    hour, so the noon dip of the series is worth nothing: exporting grid import at
    20:00 earns 1.0 - (0.5 + 0.2) = 0.30 CNY/kWh, more than the battery's
    1.0 - 0.7 / 0.9 = 0.22, so the battery stays idle and the bill is
    (0.5 + 0.2 - 1.0) * 100 kWh = -30 CNY. The series still sets the location-based
    account, and a note says the carbon price does not follow it."""
    data = arbitrage_case(tmp_path, series(factors={"electricity_market_based": 0.2}))
    result = solve_case(tmp_path, data)
    expected = (PRICE + CARBON * 0.2 / KG_PER_T - EXPORT) * 100.0
    assert result.summary["total_cost_cny"] == pytest.approx(
        expected, rel=COST_RTOL, abs=COST_ATOL_CNY
    )
    assert result.schedule["bess_charge_kw"].max() <= ZERO_TOL_KW
    assert result.schedule["market_factor_kg_per_kwh"].to_numpy() == pytest.approx([0.2] * 24)
    location = result.summary["carbon"]["by_carrier_t"]["electricity_location_based"]
    assert location == pytest.approx(100.0 * F_NIGHT / KG_PER_T, rel=ACCOUNT_RTOL)
    assert result.summary["carbon"]["grid_factor"]["market_based_follows_series"] is False
    (note,) = [n for n in result.summary["notes"] if "grid_factor_series" in n]
    assert "does not follow the series" in note


def test_location_account_sums_factor_times_import_times_step(tmp_path: Path) -> None:
    """At a 30-min step, no storage: import = load, so the location-based emissions are
    sum_t f_t L_t dt / 1000 with dt = 0.5 h, in the run and in its baseline."""
    n = 48
    load = [100.0 + 10.0 * (k % 7) for k in range(n)]
    factors = [0.2 + 0.01 * k for k in range(n)]
    data = scenario_dict(tmp_path, load, series_step_min=30)
    write_csv(tmp_path / "factor.csv", index(n, step_min=30), kg_per_kwh=factors)
    data["site"]["emissions"] = series()
    result = solve_case(tmp_path, data)
    expected_t = sum(f * p * 0.5 for f, p in zip(factors, load)) / KG_PER_T
    carbon = result.summary["carbon"]
    location = carbon["by_carrier_t"]["electricity_location_based"]
    assert location == pytest.approx(expected_t, rel=ACCOUNT_RTOL)
    assert carbon["baseline"]["by_carrier_t"]["electricity_location_based"] == pytest.approx(
        expected_t, rel=ACCOUNT_RTOL
    )
    schedule = result.schedule
    recomputed = float(
        np.dot(schedule["grid_factor_kg_per_kwh"], schedule["grid_import_kw"]) * 0.5 / KG_PER_T
    )
    assert location == pytest.approx(recomputed, rel=ACCOUNT_RTOL)
    assert carbon["grid_factor"] == {
        "source": "series",
        "file": str(tmp_path / "factor.csv"),
        "column": "kg_per_kwh",
        "kind": "average",
        "market_based_follows_series": True,
    }


def test_marginal_factors_are_labelled_in_summary_and_report(tmp_path: Path) -> None:
    """``grid_factor_kind: marginal`` is reported with the source, and the report labels
    the reductions as marginal-factor-based (through the command line)."""
    data = arbitrage_case(tmp_path, series(grid_factor_kind="marginal"))
    out = tmp_path / "out"
    assert vpp.cli.main(["run", str(write_scenario(tmp_path, data)), "--out", str(out)]) == EXIT_OK
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["carbon"]["grid_factor"]["kind"] == "marginal"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "marginal grid factors" in page
    assert "marginal-factor-based" in page
    assert "factor.csv" in page


def test_marginal_needs_a_series_or_a_number(tmp_path: Path) -> None:
    data = arbitrage_case(tmp_path, {"grid_factor_kind": "marginal"})
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(write_scenario(tmp_path, data))
    (problem,) = info.value.problems
    assert problem.key == "site.emissions"
    assert "grid_factor_series" in problem.message


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ([0.5] * 20, "does not cover the horizon"),
        ([0.5] * 10 + [float("nan")] + [0.5] * 13, "missing (NaN) or infinite"),
        ([0.5] * 10 + [float("inf")] + [0.5] * 13, "missing (NaN) or infinite"),
        ([0.5] * 10 + [-0.1] + [0.5] * 13, "must not be negative"),
        ([0.5] * 10 + [530.0] + [0.5] * 13, "above 10 kgCO2/kWh"),
    ],
)
def test_bad_factor_series_names_file_key_and_hour(
    tmp_path: Path, values: list[float], words: str, capsys: pytest.CaptureFixture
) -> None:
    """Short, non-finite, negative or implausibly high (gCO2/kWh given as kg) series are
    bad input: exit 2 naming the file, the key and the first hour."""
    data = arbitrage_case(tmp_path, series())
    write_csv(tmp_path / "factor.csv", index(len(values)), kg_per_kwh=values)
    path = write_scenario(tmp_path, data)
    with pytest.raises(DataError):
        vpp.run(vpp.load_scenario(path))
    assert vpp.cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert words in err
    assert "factor.csv" in err
    assert "site.emissions.grid_factor_series column 'kg_per_kwh'" in err
    hour = "2026-01-05T20:00:00" if len(values) == 20 else "2026-01-05T10:00:00"
    assert hour in err


# the frontier case: a week, 12 low-factor then 12 high-factor hours a day, flat price
DAYS = 7
F_LOW, F_HIGH = 0.3, 0.9
MAX_KWH = 500.0


def test_frontier_caps_the_series_weighted_emissions(tmp_path: Path) -> None:
    """A lossless battery at a flat price saves nothing, so the least-cost size is 0 and
    the emissions are e0 = sum_t f_t L dt. Each kWh of capacity moves one kWh a day
    from a high-factor to a low-factor hour: the least emissions are e0 - DAYS * 500 *
    (0.9 - 0.3) / 1000 t (largest size), and the middle of 3 frontier points (cap
    halfway) needs exactly 250 kWh. A constant factor would leave nothing to move.
    Recomputed from the schedule of that size run with a carbon price (which cycles the
    battery fully), the location-based emissions equal the cap."""
    load_kw = 1000.0
    factors = ([F_LOW] * 12 + [F_HIGH] * 12) * DAYS
    data = scenario_dict(
        tmp_path,
        [load_kw] * (24 * DAYS),
        price=PRICE,
        batteries=[battery(energy_kwh=100.0, power_kw=100.0)],
    )
    data["site"]["batteries"][0]["sizing"] = {
        "max_energy_kwh": MAX_KWH,
        "capex_cny_per_kwh": 100.0,
        "lifetime_years": 15,
    }
    data["finance"] = {"discount_rate": 0.06, "analysis_years": 10}
    write_csv(tmp_path / "factor.csv", index(24 * DAYS), kg_per_kwh=factors)
    data["site"]["emissions"] = series()
    result = size(vpp.load_scenario(write_scenario(tmp_path, data)), frontier_points=3)
    e0_t = sum(factors) * load_kw / KG_PER_T
    shift_t = DAYS * MAX_KWH * (F_HIGH - F_LOW) / KG_PER_T
    grid_factor = result.summary["grid_factor"]
    assert (grid_factor["source"], grid_factor["kind"]) == ("series", "average")
    points = result.frontier
    assert list(points["status"]) == ["Optimal"] * 3
    caps = points["cap_t"].to_numpy()
    assert caps == pytest.approx([e0_t, e0_t - shift_t / 2, e0_t - shift_t], rel=CAP_RTOL)
    years = result.summary["horizon_years"]
    emissions_t = points["emissions_t_per_year"].to_numpy() * years
    assert emissions_t == pytest.approx(caps, rel=CAP_RTOL, abs=CAP_ATOL_T)  # binding
    sizes = points["bess_energy_kwh"].to_numpy()
    assert sizes == pytest.approx([0.0, MAX_KWH / 2, MAX_KWH], abs=SIZE_TOL_KWH)
    # the middle point's size, run with a carbon price: the schedule meets the cap
    middle = json.loads(json.dumps(data))
    middle.pop("finance")
    entry = middle["site"]["batteries"][0]
    entry.pop("sizing")
    entry.update(energy_kwh=float(sizes[1]), charge_power_kw=1000.0, discharge_power_kw=1000.0)
    middle["site"]["carbon_price"] = {"cny_per_t": 1.0}
    run = solve_case(tmp_path, middle)
    s = run.schedule
    recomputed_t = float(np.dot(s["grid_factor_kg_per_kwh"], s["grid_import_kw"])) / KG_PER_T
    assert recomputed_t == pytest.approx(caps[1], rel=CAP_RTOL, abs=CAP_ATOL_T)
    assert run.summary["carbon"]["location_based_t"] == pytest.approx(recomputed_t, rel=1e-9)
