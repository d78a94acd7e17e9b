"""The real-time peak guard holds the import at a demand charge's billed peak (session 8).

Before, a ``demand_charges`` entry was passive in real time: only the grid's month peak
(the basic charge's) was guarded, so a forecast error inside a charge's window could set
a new billed peak that the battery could have shaved. Now each charge billed on the
import guards its window at :math:`G^c_t = \\max(\\hat P^{so\\,far}_b,
\\hat P^{plan}_b)` (:class:`vpp.assets.demand_charge.operation.DemandChargeGuard`), the
step loop holds the lowest level of every guard, and every step it cannot hold is listed
with its excess (:class:`vpp.assets.control.Guards`).

The hand case: four hourly steps of one day, a lossless 200 kWh / 50 kW battery at
100 kWh, a daily demand charge on the import over the whole day, the month's import
peak so far 300 kW (an earlier day's: the grid's own guard stands at 300 kW and guards
nothing here), a plan that imports 100 kW flat with the battery idle, and actual loads
of 100, 140, 260 and 100 kW:

- step 1: 140 kW would set the day's billed peak at 140 > 100 (the plan's): the battery
  discharges 40 kW and the import stays at 100 kW;
- step 2: 260 kW needs 160 kW, the battery gives its 50 kW power: import 210 kW, a miss
  of 110 kW at step 2, and the day's level rises to 210 kW;
- step 3: 100 kW, below the level: the battery follows its plan (idle).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import battery, scenario_dict, write_scenario

import vpp
from vpp.assets import unit
from vpp.assets.control import Applied
from vpp.inputs.site import build_inputs
from vpp.operation.real_time import apply_span
from vpp.operation.windows import initial_states

#: Powers computed by hand vs the loop's [kW].
TOL_KW = 1e-9
ACTUAL_LOAD_KW = [100.0, 140.0, 260.0, 100.0]
PLAN_IMPORT_KW = [100.0] * 4
MONTH_PEAK_SO_FAR_KW = 300.0


def settle(folder: Path, rule: str, charges: list[dict]) -> tuple[dict, list]:
    data = scenario_dict(
        folder,
        ACTUAL_LOAD_KW,
        batteries=[battery(energy_kwh=200.0, power_kw=50.0, soc_initial_fraction=0.5)],
    )
    data["site"]["demand_charges"] = charges
    scenario = vpp.load_scenario(write_scenario(folder, data))
    inputs = build_inputs(scenario)
    planned = [a for a in inputs.assets if unit(a.kind).in_windows(a)]
    states = initial_states(inputs.assets, inputs.horizon)
    states["grid"] = np.full_like(states["grid"], MONTH_PEAK_SO_FAR_KW)  # an earlier day's
    zero = np.zeros(4)
    plan = {
        "grid_import_kw": np.array(PLAN_IMPORT_KW),
        "grid_export_kw": zero,
        "bess_charge_kw": zero,
        "bess_discharge_kw": zero,
    }
    forecasts = {"load_kw": np.array(PLAN_IMPORT_KW)}
    applied = Applied(scenario, inputs.horizon, 0, 4, plan, forecasts, inputs.series, rule)
    misses: list = []
    ctrls = apply_span(planned, states, applied, misses)
    columns = {k: v for c in ctrls.values() for k, v in c.columns().items()}
    return columns, misses


DAILY = {"name": "pk", "rate_cny_per_kw": 5.0, "per": "day"}


def test_a_spike_that_would_set_a_new_billed_peak_is_shaved(tmp_path: Path) -> None:
    columns, misses = settle(tmp_path, "peak_guard", [DAILY])
    assert np.allclose(columns["bess_discharge_kw"], [0, 40, 50, 0], atol=TOL_KW)
    assert np.allclose(columns["grid_import_kw"], [100, 100, 210, 100], atol=TOL_KW)
    (step, excess), *rest = misses
    assert not rest and step == 2 and excess == pytest.approx(110.0, abs=TOL_KW)


def test_without_a_charge_only_the_month_peak_is_guarded(tmp_path: Path) -> None:
    # the grid's guard stands at the month's 300 kW: nothing to shave, nothing missed
    columns, misses = settle(tmp_path, "peak_guard", [])
    assert np.allclose(columns["bess_discharge_kw"], 0.0, atol=TOL_KW)
    assert np.allclose(columns["grid_import_kw"], ACTUAL_LOAD_KW, atol=TOL_KW)
    assert misses == []


def test_a_charge_on_the_export_and_follow_schedule_guard_nothing(tmp_path: Path) -> None:
    for rule, charges in (
        ("peak_guard", [{**DAILY, "on": "export"}]),
        ("follow_schedule", [DAILY]),
    ):
        columns, misses = settle(tmp_path / rule, rule, charges)
        assert np.allclose(columns["grid_import_kw"], ACTUAL_LOAD_KW, atol=TOL_KW), rule
        assert misses == []


def test_the_rolling_summary_lists_every_step_the_guard_missed() -> None:
    import pandas as pd

    from vpp.operation.summary import peak_guard_misses
    from vpp.operation.windows import Operated
    from vpp.report.text import rolling_lines

    index = pd.date_range("2026-01-05", periods=4, freq="1h", tz="Asia/Shanghai")
    ops = Operated(guard_misses=[(2, 110.0), (3, 1e-9)])  # 1e-9 kW: rounding, not a miss
    out = peak_guard_misses(ops, index, "peak_guard")
    at = "2026-01-05T02:00:00+08:00"
    assert out == {
        "steps": 1,
        "max_excess_kw": 110.0,
        "first": at,
        "misses": [{"at": at, "excess_kw": 110.0}],
    }
    assert peak_guard_misses(ops, index, "follow_schedule") is None
    rolling = {
        "interval_h": 24,
        "reoptimize_hour": 15,
        "lookahead_h": 48,
        "solves": 1,
        "models_built": 1,
        "load_forecast": "profile",
        "pv_forecast": None,
        "peak_guard": out,
    }
    text = "\n".join(rolling_lines(rolling))
    expected = "could not hold the import at its level in 1 step(s), by up to 110.0 kW"
    assert f"peak guard: {expected} (first {at}" in text, text
