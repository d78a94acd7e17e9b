"""Sweeps for planners: linked axes, finance per combination at given sizes, and an
invalid value reported once with the combinations it hit (issue 16, item 5)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

import vpp
from vpp.cli import main
from vpp.errors import ScenarioError
from vpp.planning.finance import cash_flows, irr, npv_cny, payback_years
from vpp.planning.investment import Investment
from vpp.planning.sizing_model import HOURS_PER_YEAR
from vpp.planning.sweep import format_table, run_sweep
from vpp.planning.sweep_definition import combinations, load_sweep, scenario_data
from vpp.report.sweep_figures import plot_axes, write_sweep
from vpp.scenario.load import validate_scenario

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scenarios" / "xushuguan-factory.yaml"
PLANNING = ROOT / "scenarios" / "xushuguan-factory-planning.yaml"
EXAMPLE = ROOT / "scenarios" / "sweeps" / "battery-finance.yaml"
ENERGY = "site.batteries[0].energy_kwh"
POWERS = "site.batteries[0].charge_power_kw, site.batteries[0].discharge_power_kw"
CALENDAR = "site.grid.energy_price.calendar"
CALENDARS = ["jiangsu-2025-industrial", "jiangsu-2023-industrial"]
PRICE = "site.batteries[0].sizing.capex_cny_per_kwh"
NO_PV_SIZING = "site.pv[0].sizing, site.pv[1].sizing"
#: Days per run in these tests.
TEST_DAYS = 2
#: The site without the battery by vpp.run vs the sweep's bill-only run (same LP) [-].
BILL_RTOL = 1e-7
#: NPV [CNY] of the sweep vs the finance functions applied by hand to the same savings.
NPV_ATOL_CNY = 1e-6
#: IRR [-/year] the same way (the root's own tolerance is 1e-12).
IRR_ATOL = 1e-9


def _write(folder: Path, data: dict, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _load(path: Path):
    return load_sweep(path, allow_outside=True)  # the scenarios are outside tmp_path


def _error(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        _load(path)
    assert info.value.exit_code == 2
    return info.value


# ---------------------------------------------------------------------------- linked axes


def test_linked_axis_gives_exactly_the_zipped_combinations(tmp_path):
    path = _write(
        tmp_path,
        {
            "scenario": str(DEMO),
            "parameters": {
                "battery": {ENERGY: [1000, 2000, 4000], POWERS: [500, 1000, 2000]},
                CALENDAR: CALENDARS,
                "horizon.days": [TEST_DAYS],
            },
        },
    )
    sweep = _load(path)
    expected = [
        {ENERGY: e, POWERS: p, CALENDAR: c, "horizon.days": TEST_DAYS}
        for e, p in ((1000, 500), (2000, 1000), (4000, 2000))
        for c in CALENDARS
    ]
    assert sweep.runs == 6  # 3 steps x 2 calendars, not 3 x 3 x 2
    assert combinations(sweep) == expected
    assert sweep.definition()["linked"] == {"battery": [ENERGY, POWERS]}
    battery = validate_scenario(scenario_data(sweep, expected[4])).site.batteries[0]
    assert (battery.energy_kwh, battery.charge_power_kw, battery.discharge_power_kw) == (
        4000,
        2000,
        2000,
    )


def test_duration_form_sets_both_powers_from_the_energy(tmp_path):
    path = _write(
        tmp_path,
        {
            "scenario": str(DEMO),
            "parameters": {
                "battery": {ENERGY: [1000, 3000], "duration_h": 4},
                "horizon.days": [TEST_DAYS],
            },
        },
    )
    assert combinations(_load(path)) == [
        {ENERGY: 1000, POWERS: 250.0, "horizon.days": TEST_DAYS},
        {ENERGY: 3000, POWERS: 750.0, "horizon.days": TEST_DAYS},
    ]


def test_linked_lists_of_unequal_length_and_bad_duration_are_refused(tmp_path):
    path = _write(
        tmp_path,
        {"scenario": str(DEMO), "parameters": {"battery": {ENERGY: [1000, 2000], POWERS: [5]}}},
    )
    text = str(_error(path))
    assert "must have the same length" in text
    assert f"{ENERGY}: 2 values" in text and f"{POWERS}: 1 values" in text
    path = _write(
        tmp_path,
        {"scenario": str(DEMO), "parameters": {"battery": {POWERS: [5], "duration_h": 0}}},
    )
    text = str(_error(path))
    assert "duration_h must be a positive number of hours" in text
    path = _write(
        tmp_path,
        {"scenario": str(DEMO), "parameters": {"battery": {ENERGY: [1000, 2000]}, ENERGY: [5]}},
    )
    assert f"the key path {ENERGY} is set by two parameters" in str(_error(path))


# ---------------------------------------------------------------------------- one error


def test_invalid_value_is_reported_once_naming_its_combinations(tmp_path):
    """A power of 0 in two combinations (two horizons) is one problem, not two."""
    path = _write(
        tmp_path,
        {
            "scenario": str(DEMO),
            "parameters": {
                "site.batteries[0].charge_power_kw": [1000, 0],
                "horizon.days": [1, TEST_DAYS],
            },
        },
    )
    error = _error(path)
    assert len(error.problems) == 1
    text = str(error)
    assert text.count("greater than 0") == 1
    assert "2 combinations make the scenario invalid" in text
    assert "combination 2 (site.batteries[0].charge_power_kw=0, horizon.days=1)" in text
    assert "combination 3 (site.batteries[0].charge_power_kw=0, horizon.days=2)" in text


def test_invalid_linked_step_once_on_the_command_line(tmp_path, capsys):
    path = _write(
        tmp_path,
        {
            "scenario": str(DEMO),
            "parameters": {
                "battery": {ENERGY: [1000, 2000], "site.batteries[0].charge_power_kw": [500, 0]},
                CALENDAR: CALENDARS,
                "horizon.days": [1],
            },
        },
    )
    code = main(["sweep", str(path), "--out", str(tmp_path / "o"), "--allow-outside"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("greater than 0") == 1
    assert "combination 2 (" in err and "combination 3 (" in err
    assert not (tmp_path / "o").exists()


def test_finance_mode_without_costs_is_one_problem_each(tmp_path):
    """The demo has neither a finance entry nor a sizing entry: two problems, each once."""
    path = _write(
        tmp_path,
        {"scenario": str(DEMO), "mode": "finance", "parameters": {"horizon.days": [1, 2]}},
    )
    error = _error(path)
    assert len(error.problems) == 2
    text = str(error)
    assert text.count("every combination (2) makes the scenario invalid") == 2
    assert "needs a 'finance' entry" in text and "there is none" in text


# ---------------------------------------------------------------------------- finance


@pytest.fixture(scope="module")
def finance_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finance")
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    # the planning example without its battery fade: the finance by hand below has none
    # (tests/test_battery_fade.py checks a finance sweep with the fade)
    base = folder / "planning-without-fade.yaml"
    base.write_text(
        f"extends: {PLANNING}\nname: planning-without-fade\n"
        "overrides:\n  site.batteries[0].sizing.fade: null\n",
        encoding="utf-8",
    )
    data["scenario"] = str(base)
    data["parameters"]["battery"][ENERGY] = [2000, 4000]
    data["parameters"]["horizon.days"] = [TEST_DAYS]
    sweep = _load(_write(folder, data))
    return sweep, run_sweep(sweep, workers=2)


def test_example_file_is_valid():
    sweep = load_sweep(EXAMPLE)
    assert sweep.mode == "finance" and sweep.runs == 6
    assert sweep.parameters[POWERS] == [1000.0, 2000.0, 4000.0]  # 2 h


def test_finance_per_combination_equals_the_finance_functions_by_hand(finance_sweep):
    """Each row: the bill with the battery as given vs without it, annualized, and the
    battery's cost from its sizing entry, through cash_flows, npv_cny and irr."""
    sweep, result = finance_sweep
    table = result.table.set_index("run")
    assert len(table) == sweep.runs == 4
    assert (table["status"] == "ok").all(), table["error"].dropna().tolist()
    base_dir = sweep.scenario_file.parent.resolve()
    years = TEST_DAYS * 24 / HOURS_PER_YEAR
    without = None
    for i, combination in enumerate(combinations(sweep)):
        scenario = validate_scenario(scenario_data(sweep, combination), base_dir=base_dir)
        if without is None:  # the site as it is: the same, the battery removed
            data = scenario.model_dump(mode="json")
            data["site"]["batteries"] = []
            without = vpp.run(validate_scenario(data, base_dir=base_dir)).summary
        run = vpp.run(scenario)
        bill = run.summary["total_cost_cny"]
        savings = (without["total_cost_cny"] - bill) / years
        assert math.isclose(table.loc[i, "annual_savings_cny"], savings, rel_tol=BILL_RTOL)
        energy, power = combination[ENERGY], combination[POWERS]
        cost = scenario.site.batteries[0].sizing
        discharged = run.schedule["bess_discharge_kw"].sum() * run.horizon.step_h / years
        battery = Investment(
            name="bess",
            kind="battery",
            capex_cny=combination[PRICE] * energy + cost.capex_cny_per_kw * power,
            om_cny_per_year=cost.om_cny_per_kw_year * power,
            lifetime_years=cost.lifetime_years,
            annual_energy_kwh=discharged,
        )
        flows = cash_flows(
            [battery],
            annual_savings_cny=table.loc[i, "annual_savings_cny"],
            pv_savings_cny=0.0,
            finance=scenario.finance,
        )
        net = flows["net_cny"].to_numpy()
        rate = scenario.finance.discount_rate
        assert table.loc[i, "finance.capex_cny"] == battery.capex_cny
        assert math.isclose(
            table.loc[i, "finance.npv_cny"], npv_cny(net, rate), abs_tol=NPV_ATOL_CNY
        )
        by_hand = irr(net)
        if by_hand is None:
            assert math.isnan(table.loc[i, "finance.irr_fraction"])
        else:
            assert abs(table.loc[i, "finance.irr_fraction"] - by_hand) <= IRR_ATOL
        simple = payback_years(net)
        assert (simple is None and math.isnan(table.loc[i, "finance.simple_payback_years"])) or (
            math.isclose(table.loc[i, "finance.simple_payback_years"], simple)
        )
        assert table.loc[i, "sizes.bess.energy_kwh"] == energy
        assert table.loc[i, "sizes.bess.power_kw"] == power
    # the cheaper battery of the same size has the higher NPV
    assert table.loc[1, "finance.npv_cny"] > table.loc[0, "finance.npv_cny"]


def test_finance_outputs_plot_the_linked_axis_once(finance_sweep, tmp_path):
    sweep, result = finance_sweep
    definition = result.definition()
    axes = plot_axes(definition["parameters"], definition["linked"])
    assert [k for k, v in axes.items() if len(v) > 1] == [ENERGY, PRICE]  # not the powers
    written = {p.name for p in write_sweep(result.table, result.definition(), tmp_path / "o")}
    assert "heatmap_finance_npv_cny.png" in written
    assert not any("charge_power" in name for name in written)  # a parameter, not a metric
    assert "discharge_power_kw" in format_table(result.table)
    back = pd.read_csv(tmp_path / "o" / "results.csv")
    assert list(back[POWERS]) == [1000.0, 1000.0, 2000.0, 2000.0]


def test_site_as_it_is_runs_once_per_sweep_in_a_worker(finance_sweep, monkeypatch):
    """Two prices of one battery size share the site as it is; another sweep re-runs it."""
    import vpp.planning.sweep_finance as sweep_finance

    sweep, result = finance_sweep
    calls = []
    real = sweep_finance.bill_only
    monkeypatch.setattr(sweep_finance, "bill_only", lambda s: calls.append(1) or real(s))
    base_dir = sweep.scenario_file.parent.resolve()
    first, second = (
        validate_scenario(scenario_data(sweep, c), base_dir=base_dir)
        for c in combinations(sweep)[:2]
    )
    a = sweep_finance.value_as_given(first, token="sweep-a")
    b = sweep_finance.value_as_given(second, token="sweep-a")
    assert len(calls) == 1
    sweep_finance.value_as_given(second, token="sweep-b")
    assert len(calls) == 2
    table = result.table.set_index("run")
    for i, valued in enumerate((a, b)):
        assert math.isclose(valued["finance"]["npv_cny"], table.loc[i, "finance.npv_cny"])


def _first_scenario(sweep, **finance):
    """The sweep's first combination, its finance entry updated with ``finance``."""
    data = scenario_data(sweep, combinations(sweep)[0])
    data["finance"] = {**data["finance"], **finance}
    return validate_scenario(data, base_dir=sweep.scenario_file.parent.resolve())


def test_finance_mode_values_each_party_as_vpp_size_does(finance_sweep):
    """An energy-management contract in a finance sweep: the investor's NPV follows its
    share of the savings (it was the owner's figure before tax whatever the share)."""
    import vpp.planning.sweep_finance as sweep_finance

    sweep, _ = finance_sweep
    npv = {}
    for share in (0.5, 0.9):
        emc = {"model": "emc", "investor_share_of_savings": share, "years": 5}
        valued = sweep_finance.value_as_given(_first_scenario(sweep, ownership=emc))
        parties = valued["finance"]["by_party"]["parties"]
        npv[share] = parties["investor"]["npv_cny"]
    assert npv[0.9] > npv[0.5]


def test_finance_mode_runs_in_perfect_foresight_like_the_site_as_it_is(finance_sweep):
    """The site as it is runs in perfect foresight (bill_only): the run with the battery
    must too, whatever operation.mode says, or the savings compare two modes."""
    import vpp.planning.sweep_finance as sweep_finance

    sweep, result = finance_sweep
    data = scenario_data(sweep, combinations(sweep)[0])
    data["operation"] = {**data.get("operation", {}), "mode": "rolling"}
    scenario = validate_scenario(data, base_dir=sweep.scenario_file.parent.resolve())
    valued = sweep_finance.value_as_given(scenario)
    table = result.table.set_index("run")
    assert math.isclose(valued["annual_savings_cny"], table.loc[0, "annual_savings_cny"])


def test_a_linked_axis_is_drawn_by_a_path_whose_values_differ():
    """Energies 4000, 4000, 4000 against powers 500, 1000, 4000 (a duration sweep): a cell
    found by the energy would show the first run three times; the powers lead."""
    parameters = {ENERGY: [4000, 4000, 4000], POWERS: [500, 1000, 4000], PRICE: [750, 500]}
    axes = plot_axes(parameters, {"battery": [ENERGY, POWERS]})
    assert list(axes) == [POWERS, PRICE]
