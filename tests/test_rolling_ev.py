"""EV fleets in rolling runs: sessions carried across windows.

- With perfect forecasts and a look-ahead that reaches the end of the horizon, every
  window sees the whole remaining problem (each session's remaining energy, its
  connected steps), so the operated horizon costs what perfect foresight costs, as for
  batteries (``tests/test_rolling.py``).
- A session that crosses a window boundary gets its energy once: what it was given
  before the boundary is subtracted from what the next window owes it, so the energy
  given over the whole session is its need (not twice, not lost).
- The fleet's columns are in the rolling schedule, and the invariants of every solved
  case hold.

Prices: a TOU calendar with valley 00-08 (0.3), peak 08-12 and 17-21 (1.2), flat
otherwise (0.7) [CNY/kWh]; horizons start on Monday 2026-01-05 00:00 (+08:00).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import COST_RTOL, check_invariants, scenario_dict, write_scenario

import vpp
from vpp.assets.ev_fleet.operation import window_series
from vpp.inputs.site import build_inputs

#: Energy given to the vehicles vs what they need [kWh].
ENERGY_TOL_KWH = 1e-5
#: Charge efficiency of the fleets here [-].
ETA = 0.9

TOU = {
    "calendar": {
        "seasons": [
            {
                "name": "all",
                "months": list(range(1, 13)),
                "periods": [
                    {"period": "valley", "start": "00:00", "end": "08:00"},
                    {"period": "peak", "start": "08:00", "end": "12:00"},
                    {"period": "flat", "start": "12:00", "end": "17:00"},
                    {"period": "peak", "start": "17:00", "end": "21:00"},
                    {"period": "flat", "start": "21:00", "end": "24:00"},
                ],
            }
        ]
    },
    "prices_cny_per_kwh": {"valley": 0.3, "peak": 1.2, "flat": 0.7},
}

#: Sessions over three days; the first two cross the window boundaries at 06:00.
SESSIONS = [
    {"vehicle": "bus-01", "arrival": "0 18:00", "departure": "1 07:00", "energy_kwh": 60.0},
    {"vehicle": "bus-02", "arrival": "1 19:30", "departure": "2 09:00", "energy_kwh": 45.0},
    {"vehicle": "van-03", "arrival": "0 06:00", "departure": "0 17:00", "energy_kwh": 30.0},
    {"vehicle": "van-04", "arrival": "1 10:00", "departure": "1 16:00", "energy_kwh": 25.0},
    {"vehicle": "car-05", "arrival": "2 09:00", "departure": "2 18:45", "energy_kwh": 20.0},
]


def iso(text: str) -> str:
    """``"D HH:MM"`` (day 0 = 2026-01-05) as ISO 8601 with +08:00."""
    day, clock = text.split()
    stamp = pd.Timestamp("2026-01-05T" + clock, tz="Asia/Shanghai")
    return (stamp + pd.Timedelta(days=int(day))).isoformat()


def fleet_scenario(
    folder: Path, *, lookahead_h: float, load_kw: list[float] | None = None, **fleet: Any
) -> vpp.Scenario:
    """Three days at 1 h, a load, a battery and one fleet ``carport``, run rolling on
    perfect forecasts, re-optimized every day at 06:00."""
    hours = 72
    load = load_kw or (40.0 + 20.0 * np.sin(np.arange(hours) / 24 * 2 * np.pi)).tolist()
    data = scenario_dict(folder, load, price=TOU, grid={"import_limit_kw": 400.0})
    data["site"]["batteries"] = [
        {"name": "bess", "energy_kwh": 80.0, "charge_power_kw": 40.0, "discharge_power_kw": 40.0}
    ]
    frame = pd.DataFrame(SESSIONS)
    for column in ("arrival", "departure"):
        frame[column] = [iso(t) for t in frame[column]]
    frame.to_csv(folder / "sessions.csv", index=False)
    entry = {
        "name": "carport",
        "sessions_file": "sessions.csv",
        "charger_power_kw": 11.0,
        "charge_efficiency": ETA,
        **fleet,
    }
    data["site"]["ev_fleets"] = [entry]
    data["operation"] = {
        "mode": "rolling",
        "rolling": {
            "load_forecast": "perfect",
            "reoptimize_hour": 6,
            "lookahead_h": lookahead_h,
        },
    }
    return vpp.load_scenario(write_scenario(folder, data))


@pytest.mark.parametrize("model", ["per_vehicle", "envelope"])
def test_perfect_forecasts_with_full_lookahead_equal_perfect_foresight(
    tmp_path: Path, model: str
) -> None:
    """Four windows (00:00, then 06:00 of each day), each reaching the horizon's end."""
    result = vpp.run(fleet_scenario(tmp_path, lookahead_h=72, model=model))
    rolling = result.summary["rolling"]
    assert rolling["solves"] == 4
    assert math.isclose(
        result.summary["total_cost_cny"], rolling["perfect"]["total_cost_cny"], rel_tol=COST_RTOL
    ), rolling["cost_of_imperfect_forecasts_cny"]
    assert rolling["forecast_error"]["load"]["mae_kw"] == 0.0
    check_invariants(result)


def test_a_session_across_a_window_boundary_gets_its_energy_once(tmp_path: Path) -> None:
    """bus-01 is connected 18:00 (day 0) to 07:00 (day 1): across the decision at 06:00.

    With a 24 h look-ahead the first windows do not see every departure; still, each
    session gets exactly its energy over the operated horizon, and the fleet's columns
    are in the rolling schedule.
    """
    scenario = fleet_scenario(tmp_path, lookahead_h=24, model="per_vehicle")
    result = vpp.run(scenario)
    schedule = result.schedule
    assert "carport_charge_kw" in schedule.columns
    assert result.summary["rolling"]["solves"] == 4
    charge = schedule["carport_charge_kw"].to_numpy()
    need = sum(r["energy_kwh"] for r in SESSIONS)
    assert ETA * charge.sum() == pytest.approx(need, abs=ENERGY_TOL_KWH)
    index = schedule.index
    for row in SESSIONS:  # sessions that do not overlap: each one's steps hold its energy
        inside = (index >= pd.Timestamp(iso(row["arrival"]))) & (
            index < pd.Timestamp(iso(row["departure"]))
        )
        given = ETA * charge[inside].sum()
        assert given == pytest.approx(row["energy_kwh"], abs=ENERGY_TOL_KWH), row["vehicle"]
    check_invariants(result)


def test_a_window_owes_a_crossing_session_what_is_left(tmp_path: Path) -> None:
    """The window series: energy given before the window is subtracted; a session that
    departs inside the window owes all of the rest, one that departs after it a share."""
    scenario = fleet_scenario(tmp_path, lookahead_h=24, model="per_vehicle")
    inputs = build_inputs(scenario)
    fleet = next(a for a in inputs.assets if a.name == "carport")
    series = fleet.series
    vehicles = list(series["session_vehicle"])
    bus = vehicles.index("bus-01")  # steps 18 .. 30 (07:00 of day 1)
    held = np.zeros(len(vehicles))
    held[bus] = 22.0
    # the window from 06:00 of day 1 (step 30): bus-01 has one step left and owes 38 kWh,
    # at most what one step at 11 kW gives
    late = window_series(scenario.site.ev_fleets[0], series, 30, 54, held, 1.0)
    j = list(late["session_index"]).index(bus)
    assert late["session_first_step"][j] == 0 and late["session_end_step"][j] == 1
    assert late["session_energy_kwh"][j] == pytest.approx(min(38.0, ETA * 11.0))
    # the window from 00:00 to 24:00 of day 0: bus-01 departs after it; it owes the share of
    # its 13 connected hours inside (6 of 13), or what cannot fit after the window
    early = window_series(scenario.site.ev_fleets[0], series, 0, 24, np.zeros(len(held)), 1.0)
    j = list(early["session_index"]).index(bus)
    after = ETA * 11.0 * 7
    assert early["session_energy_kwh"][j] == pytest.approx(max(60.0 * 6 / 13, 60.0 - after))
    # sessions not connected in a window are not in it
    assert "car-05" not in list(early["session_vehicle"])


def test_v2g_fleet_runs_rolling_and_delivers_every_session(tmp_path: Path) -> None:
    """With V2G a window lets a vehicle give back only energy given inside the window (a
    little stricter than the vehicle), so the rolling cost may exceed perfect foresight,
    never fall below it; every session still gets its energy net of what it gave back."""
    scenario = fleet_scenario(
        tmp_path, lookahead_h=72, model="per_vehicle", v2g=True, discharge_efficiency=ETA
    )
    result = vpp.run(scenario)
    schedule = result.schedule
    assert {"carport_charge_kw", "carport_discharge_kw"} <= set(schedule.columns)
    rolling = result.summary["rolling"]
    perfect = rolling["perfect"]["total_cost_cny"]
    assert result.summary["total_cost_cny"] >= perfect * (1 - COST_RTOL) - 1e-6
    given = ETA * schedule["carport_charge_kw"].sum() - schedule["carport_discharge_kw"].sum() / ETA
    assert given == pytest.approx(sum(r["energy_kwh"] for r in SESSIONS), abs=ENERGY_TOL_KWH)
    check_invariants(result)


def test_settlement_holds_a_fleet_that_was_given_less_than_it_needed(tmp_path: Path) -> None:
    """Energy not delivered in operation (here: half of every step's charge) does not make
    the settlement infeasible for a fleet with ``unmet: infeasible``: the charge is held,
    and the sessions share it as the model finds."""
    from vpp.assets import unit
    from vpp.model import build_model, solve

    scenario = fleet_scenario(tmp_path, lookahead_h=72, model="per_vehicle")
    inputs = build_inputs(scenario)
    perfect = vpp.run(scenario.model_copy(update={"operation": scenario.operation.model_copy(
        update={"mode": "perfect"})}))  # fmt: skip
    half = perfect.schedule["carport_charge_kw"].to_numpy() / 2
    model = build_model(inputs.assets, inputs.horizon)
    fleet = next(a for a in inputs.assets if a.name == "carport")
    unit(fleet.kind).hold(model.asset[fleet.name], fleet, {"carport_charge_kw": half})
    result = solve(model)
    assert result.status == "Optimal"
    held = result.values(model.asset[fleet.name].charge_kw)
    assert np.allclose(held, np.where(np.abs(half) < 1e-9, 0.0, half), atol=1e-9)


def test_sessions_left_short_in_operation_are_reported(tmp_path: Path) -> None:
    """An envelope plan is looser than the vehicles' own limits, so the real-time rule can
    give a session less than it needs; the rolling summary says how much, and it equals
    the energy the settled charging did not deliver."""
    hours = 72
    fleet = ("bus1", "0 18:00", "1 07:00", 60.0), ("bus2", "0 20:00", "1 06:00", 50.0)
    sessions = [
        {"vehicle": v, "arrival": iso(a), "departure": iso(d), "energy_kwh": e}
        for v, a, d, e in (
            *fleet,
            ("bus3", "1 05:00", "2 09:00", 80.0),
            ("bus4", "1 19:00", "2 08:00", 45.0),
        )
    ]
    data = scenario_dict(tmp_path, [40.0] * hours, price=TOU, grid={"import_limit_kw": 400.0})
    pd.DataFrame(sessions).to_csv(tmp_path / "sessions.csv", index=False)
    data["site"]["ev_fleets"] = [
        {
            "name": "cp",
            "sessions_file": "sessions.csv",
            "charger_power_kw": 11.0,
            "charge_efficiency": 0.85,
            "model": "envelope",
        }
    ]
    data["operation"] = {
        "mode": "rolling",
        "rolling": {"load_forecast": "perfect", "reoptimize_hour": 6, "lookahead_h": 72},
    }
    result = vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    delivered = 0.85 * float(result.schedule["cp_charge_kw"].sum())  # 1 h steps
    due = sum(s["energy_kwh"] for s in sessions)
    assert due - delivered > 1.0, "the case no longer leaves a session short"
    short = result.summary["rolling"]["final_soc_shortfall"].get("cp")
    assert short is not None, "energy left undelivered is not reported"
    assert short["shortfall_kwh"] == pytest.approx(due - delivered, abs=1e-6)
    assert short["sessions_short"] >= 1
    assert short["first_vehicle"] in {s["vehicle"] for s in sessions}
