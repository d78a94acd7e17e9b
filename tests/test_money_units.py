"""The asset units' money capabilities (vpp/assets/*/money.py) and how the bill uses them.

The bill's values are checked against the tests' own recomputation elsewhere
(``helpers.recompute_bill`` in test_bills, test_invariants); here: every unit provides
every money capability, and the bill refuses columns that no unit declares or that two
units declare differently.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import scenario_dict, solve_case

import vpp.assets
import vpp.emissions
from vpp.assets.base import AssetUnit
from vpp.emissions import CarbonFlow
from vpp.runs.bill import bill, monthly_bill
from vpp.runs.carbon import carbon_summary

MONEY = (
    "bill_columns",
    "costs",
    "monthly_costs",
    "objective_extra",
    "carbon_flows",
    "energy_flows",
    "equivalent_full_cycles",
)


@pytest.mark.parametrize("name", MONEY)
def test_every_unit_provides_every_money_capability(name):
    assert name in vpp.assets.base.CAPABILITIES
    for unit in vpp.assets.units():
        assert getattr(type(unit), name) is not getattr(AssetUnit, name), (unit.kind, name)


def test_the_bill_is_the_monthly_tables_totals(tmp_path):
    data = scenario_dict(tmp_path, [100.0] * 48, price=0.5, start="2026-01-31T00:00:00")
    result = solve_case(tmp_path, data)
    step_h = result.summary["horizon"]["step_h"]
    parts = bill(result.schedule, result.scenario, step_h)
    table = monthly_bill(result.schedule, result.scenario, step_h)
    assert list(table.index) == ["2026-01", "2026-02"]
    for column, value in parts.items():
        if column.endswith("_cny"):
            assert value == pytest.approx(float(table[column].sum()), rel=1e-12), column
    assert parts["peak_import_kw"] == {"2026-01": 100.0, "2026-02": 100.0}
    assert "ev_cost_cny" not in parts and "ev_cost_cny" not in table  # no fleets
    billed = table["energy_cost_cny"] - table["export_revenue_cny"] + table["demand_charge_cny"]
    assert np.allclose(table["bill_cny"], billed)


def test_a_cost_no_unit_declares_is_refused(tmp_path, monkeypatch):
    result = solve_case(tmp_path, scenario_dict(tmp_path, [100.0] * 3, price=0.5))
    load = type(vpp.assets.unit("load"))
    monkeypatch.setattr(load, "costs", lambda self, site, s, dt: {"load_cny": np.ones(len(s))})
    with pytest.raises(ValueError, match="load_cny"):
        bill(result.schedule, result.scenario, 1.0)


def test_a_column_declared_twice_with_two_parts_is_refused(tmp_path, monkeypatch):
    result = solve_case(tmp_path, scenario_dict(tmp_path, [100.0] * 3, price=0.5))
    load = type(vpp.assets.unit("load"))
    monkeypatch.setattr(load, "bill_columns", lambda self, site: {"energy_cost_cny": "own"})
    with pytest.raises(ValueError, match="energy_cost_cny"):
        bill(result.schedule, result.scenario, 1.0)


def test_a_units_diesel_flow_is_priced_and_counted(tmp_path, monkeypatch):
    # 100 kW for 3 h at 0.5 CNY/kWh, 75 CNY/t on diesel only; a unit (the load, patched)
    # reports 0.01 t of diesel per step: carbon = 75 x 0.03 t x the diesel factor [t/t]
    data = scenario_dict(tmp_path, [100.0] * 3, price=0.5)
    data["site"]["carbon_price"] = {"cny_per_t": 75.0, "carriers": ["diesel"]}
    result = solve_case(tmp_path, data)
    load = type(vpp.assets.unit("load"))
    diesel = CarbonFlow(np.full(3, 0.01), {"diesel": 1.0})
    monkeypatch.setattr(load, "carbon_flows", lambda self, site, s, dt: {"burnt_diesel_t": diesel})
    factor_kg_per_t = vpp.emissions.factor("diesel", None).value
    parts = bill(result.schedule, result.scenario, 1.0)
    assert parts["carbon_cny"] == pytest.approx(75.0 * 0.03 * factor_kg_per_t / 1000.0)
    account = carbon_summary(result.schedule, result.schedule, result.scenario, 1.0)
    assert account["activity"]["burnt_diesel_t"] == pytest.approx(0.03)
    assert account["by_carrier_t"]["diesel"] == pytest.approx(0.03 * factor_kg_per_t / 1000.0)
