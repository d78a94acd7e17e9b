"""Sizing flags: sizes at their limits, the solver strategy that answered, progress lines.

The sizings are the closed-form cases of ``test_sizing``: a lossless battery facing a
daily 0.3/0.8 CNY/kWh spread earns 0.5 CNY per kWh of capacity per day, so below its
break-even capex it builds to its limit, above it nothing. With its power capped at
:data:`POWER_CAP_KW`, 12 cheap hours charge at most 12 x 30 = 360 kWh, so the energy
stops at 360 kWh, inside its 0..500 kWh range, and only the power is at its limit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import battery, index, scenario_dict, write_csv, write_scenario
from test_sizing import pv_case
from test_solver import fails

import vpp
import vpp.cli
import vpp.planning.sizing_model as sizing_model
from vpp.errors import EXIT_SOLVER, InfeasibleError
from vpp.model.highs_log import Listener
from vpp.model.strategies import DUAL_SIMPLEX, INTERIOR_POINT, INTERIOR_POINT_CROSSOVER
from vpp.planning.finance import crf
from vpp.planning.limits import AT_LIMIT_TOL, LIMIT_MEANING, frontier_limit_lines, limit_flag
from vpp.planning.size import size

ROOT = Path(__file__).resolve().parent.parent
DAYS = 3
LOW, HIGH = 0.3, 0.8
RATE, LIFE = 0.06, 15
#: The battery's power limit in the power-capped case [kW].
POWER_CAP_KW = 30.0
#: A small power cost, so that a power nobody needs is zero, not any free value; it
#: moves the break-even by 1/12 CNY/kWh, far inside the 10 % margins [CNY/kW].
POWER_CAPEX_CNY_PER_KW = 1.0
#: Sizes against their hand-computed values [kWh, kW].
SIZE_TOL_KWH = 1e-3
#: The LP's relative primal-dual gap at an optimum [-].
OPTIMAL_GAP = 1e-6


def break_even_cny_per_kwh() -> float:
    """365 days x 0.5 CNY/kWh / CRF(6 %, 15 years) [CNY/kWh]."""
    return 365.0 * (HIGH - LOW) / crf(RATE, LIFE)


def storage_data(tmp_path: Path, capex_factor: float, **sizing: object) -> dict:
    data = scenario_dict(
        tmp_path,
        [1000.0] * (24 * DAYS),
        price=([LOW] * 12 + [HIGH] * 12) * DAYS,
        batteries=[battery(energy_kwh=100.0, power_kw=100.0)],
    )
    data["site"]["batteries"][0]["sizing"] = {
        "max_energy_kwh": 500.0,
        "capex_cny_per_kwh": capex_factor * break_even_cny_per_kwh(),
        "capex_cny_per_kw": POWER_CAPEX_CNY_PER_KW,
        "lifetime_years": LIFE,
        **sizing,
    }
    data["finance"] = {"discount_rate": RATE, "analysis_years": 10}
    return data


def storage_case(tmp_path: Path, capex_factor: float, **sizing: object) -> vpp.Scenario:
    return vpp.load_scenario(
        write_scenario(tmp_path, storage_data(tmp_path, capex_factor, **sizing))
    )


def test_limit_flag_rules() -> None:
    """Upper and lower within the tolerance; zero at a zero lower bound is not built."""
    upper = limit_flag(800.0 - 0.5 * AT_LIMIT_TOL, 0.0, 800.0, "min_kw", "max_kw", "site.pv[1].")
    assert upper == {"at_limit": "upper", "limit_value": 800.0, "key": "site.pv[1].max_kw"}
    assert limit_flag(800.0 - 10 * AT_LIMIT_TOL, 0.0, 800.0, "a", "b")["at_limit"] is None
    assert limit_flag(0.0, 0.0, 800.0, "min_kw", "max_kw")["at_limit"] is None  # not built
    lower = limit_flag(200.0, 200.0, 500.0, "min_energy_kwh", "max_energy_kwh")
    assert lower == {"at_limit": "lower", "limit_value": 200.0, "key": "min_energy_kwh"}
    assert limit_flag(5.0, 0.0, None, None, None)["at_limit"] is None  # no upper bound
    assert limit_flag(300.0, 300.0, 300.0, "lo", "hi")["at_limit"] == "upper"  # fixed size
    assert limit_flag(0.0, 0.0, 100.0, None, "max_power_kw")["key"] is None


def test_power_at_its_limit_is_flagged_in_cli_summary_csv_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = storage_data(tmp_path, 0.9, max_power_kw=POWER_CAP_KW)
    path = write_scenario(tmp_path, data)
    out = tmp_path / "out"
    assert vpp.cli.main(["size", str(path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    bess = summary["sizes"]["bess"]
    assert bess["power_kw"] == pytest.approx(POWER_CAP_KW, abs=SIZE_TOL_KWH)
    assert bess["energy_kwh"] == pytest.approx(12.0 * POWER_CAP_KW, abs=SIZE_TOL_KWH)
    assert bess["limits"]["power_kw"] == {
        "at_limit": "upper",
        "limit_value": POWER_CAP_KW,
        "key": "site.batteries[0].sizing.max_power_kw",
    }
    assert bess["limits"]["energy_kwh"]["at_limit"] is None  # 360 kWh, inside 0..500
    line = (
        f"at limit: bess power at its upper limit of 30 kW: {LIMIT_MEANING} "
        "(raise site.batteries[0].sizing.max_power_kw)"
    )
    assert line in text
    assert "energy at its" not in text
    csv = pd.read_csv(out / "sizes.csv")
    assert csv.loc[0, "at_limit"] == "power_kw upper 30"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "At a limit" in report and "site.batteries[0].sizing.max_power_kw" in report


def test_energy_and_unit_count_at_the_upper_limit(tmp_path: Path) -> None:
    """Below break-even, 5 units of 100 kWh fill the 500 kWh limit: both are flagged."""
    result = size(storage_case(tmp_path, 0.9, unit_energy_kwh=100.0))
    limits = result.summary["sizes"]["bess"]["limits"]
    assert result.sizes["bess"]["units"] == 5
    assert limits["units"]["at_limit"] == "upper" and limits["units"]["limit_value"] == 5.0
    assert limits["energy_kwh"] == {
        "at_limit": "upper",
        "limit_value": 500.0,
        "key": "site.batteries[0].sizing.max_energy_kwh",
    }


def test_lower_limit_is_flagged_and_nothing_built_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Above break-even the battery stays at its lower limit: 200 kWh, or 0 (not built)."""
    forced = size(storage_case(tmp_path / "a", 1.1, min_energy_kwh=200.0))
    energy = forced.summary["sizes"]["bess"]["limits"]["energy_kwh"]
    assert energy == {
        "at_limit": "lower",
        "limit_value": 200.0,
        "key": "site.batteries[0].sizing.min_energy_kwh",
    }
    path = write_scenario(tmp_path / "b", storage_data(tmp_path / "b", 1.1))
    assert vpp.cli.main(["size", str(path), "--out", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    limits = summary["sizes"]["bess"]["limits"]
    assert all(flag["at_limit"] is None for flag in limits.values())
    assert "(not built)" in text and "at limit:" not in text


def test_pv_at_its_max_kw_names_the_key(tmp_path: Path) -> None:
    scenario, break_even = pv_case(tmp_path, 1.0)
    array = scenario.site.pv[0]
    sizing = array.sizing.model_copy(update={"capex_cny_per_kw": 0.9 * break_even})
    pv = [array.model_copy(update={"sizing": sizing})]
    scenario = scenario.model_copy(update={"site": scenario.site.model_copy(update={"pv": pv})})
    flag = size(scenario).summary["sizes"]["roof"]["limits"]["capacity_kw"]
    assert flag == {"at_limit": "upper", "limit_value": 400.0, "key": "site.pv[0].sizing.max_kw"}


def test_fallback_answers_and_the_cli_reports_strategy_gap_and_failed_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both interior points forced to fail: the dual simplex answers, with its gap."""
    chain = (fails(INTERIOR_POINT), fails(INTERIOR_POINT_CROSSOVER), DUAL_SIMPLEX)
    monkeypatch.setattr(sizing_model, "INTERIOR_FIRST", chain)
    path = write_scenario(tmp_path, storage_data(tmp_path, 0.9))
    out = tmp_path / "out"
    assert vpp.cli.main(["size", str(path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    solver = json.loads((out / "summary.json").read_text(encoding="utf-8"))["solver"]
    assert solver["strategy"] == "dual simplex" and solver["status"] == "Optimal"
    assert [a["status"] for a in solver["attempts"]] == [
        "Iteration limit reached",
        "Iteration limit reached",
        "Optimal",
    ]
    assert solver["gap"] is not None and 0.0 <= solver["gap"] <= OPTIMAL_GAP
    assert solver["iterations"] > 0
    head = f"solver: dual simplex, Optimal, gap {solver['gap']:.2g}, {solver['iterations']} "
    assert head in text
    assert "failed first: interior point: ended with status 'Iteration limit reached'" in text
    assert "failed first: interior point with crossover: ended with status" in text


def test_every_strategy_failing_names_each_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Existing behaviour, guarded: exit 4, each attempt and its status in the message."""
    chain = tuple(fails(s) for s in (INTERIOR_POINT, INTERIOR_POINT_CROSSOVER, DUAL_SIMPLEX))
    monkeypatch.setattr(sizing_model, "INTERIOR_FIRST", chain)
    path = write_scenario(tmp_path, storage_data(tmp_path, 0.9))
    assert vpp.cli.main(["size", str(path), "--out", str(tmp_path / "out")]) == EXIT_SOLVER
    err = capsys.readouterr().err
    for name in ("interior point:", "interior point with crossover:", "dual simplex:"):
        assert f"{name} ended with status 'Iteration limit reached'" in err


def test_progress_line_shows_the_simplex_iteration_and_the_interior_point_gap() -> None:
    """HiGHS's own log lines (IPX and dual simplex, as HiGHS 1.16 writes them)."""
    listener = Listener(None, None)
    listener.start("interior point")
    listener.read_log("  12   3.2e+06  3.1e+06   1.2e-03  4.5e-04   4.50e-03   5.1\n")
    assert listener.status_line().endswith(", iteration 12, gap 0.0045")
    listener.start("dual simplex")
    listener.read_log("  Iteration        Objective     Infeasibilities num(sum)\n")
    listener.read_log("       8400     7.4090902756e+03 Pr: 1660(9479.31) 10.5s\n")
    assert listener.status_line().endswith(", iteration 8400, 1660 infeasibilities left")
    listener.read_log("       5 -1.0e+00 Ph1: 3(4.5); Du: 0(0) 0s\n")
    assert listener.status_line().endswith(", iteration 5, 3 infeasibilities left")


def test_the_planning_example_flags_its_pv_at_the_limits(tmp_path: Path) -> None:
    """A week of the README example: both arrays are worth more than their limits allow
    (the full year ends the same way: roof 2,880 kWp = 16,000 m2 x 0.18, carport 800)."""
    scenario = vpp.load_scenario(ROOT / "scenarios" / "xushuguan-factory-planning.yaml")
    horizon = scenario.horizon.model_copy(update={"days": 7})
    limits = {
        name: values["limits"]
        for name, values in size(scenario.model_copy(update={"horizon": horizon}))
        .summary["sizes"]
        .items()
    }
    assert limits["carport"]["capacity_kw"] == {
        "at_limit": "upper",
        "limit_value": 800.0,
        "key": "site.pv[1].sizing.max_kw",
    }
    roof = limits["roof"]["capacity_kw"]
    assert roof["at_limit"] == "upper" and roof["key"] == "site.pv[0].sizing.area_m2"
    assert roof["limit_value"] == pytest.approx(16000.0 * 0.18, rel=1e-12)


def test_an_infeasible_answer_of_the_interior_point_is_checked_by_the_simplex(
    tmp_path: Path,
) -> None:
    """1000 kW of load for 3 days against a 500 kW import limit and at most 500 kWh of
    storage: infeasible. The interior point's answer is checked by the dual simplex."""
    data = storage_data(tmp_path, 0.9)
    data["site"]["grid"]["import_limit_kw"] = 500.0
    said: list[str] = []
    with pytest.raises(InfeasibleError):
        size(vpp.load_scenario(write_scenario(tmp_path, data)), progress=said.append)
    assert any(s.endswith("; checking with dual simplex") for s in said), said


def frontier_case(tmp_path: Path) -> Path:
    """A week at a flat price, grid factor 0.3 for 12 hours then 0.9 (as
    ``test_factor_series``): the lossless battery saves nothing, so the least-cost size
    is 0 kWh; each kWh of capacity moves a kWh a day to the low-factor hours, so the 3
    frontier points need 0, 250 and 500 kWh, the last at the 500 kWh limit."""
    days = 7
    data = scenario_dict(
        tmp_path,
        [1000.0] * (24 * days),
        price=0.5,
        batteries=[battery(energy_kwh=100.0, power_kw=100.0)],
    )
    data["site"]["batteries"][0]["sizing"] = {
        "max_energy_kwh": FRONTIER_MAX_KWH,
        "capex_cny_per_kwh": 100.0,
        "lifetime_years": 15,
    }
    data["finance"] = {"discount_rate": 0.06, "analysis_years": 10}
    write_csv(
        tmp_path / "factor.csv", index(24 * days), kg_per_kwh=([0.3] * 12 + [0.9] * 12) * days
    )
    data["site"]["emissions"] = {
        "grid_factor_series": {"file": "factor.csv", "column": "kg_per_kwh"}
    }
    return write_scenario(tmp_path, data)


#: The battery's energy limit in the frontier case [kWh].
FRONTIER_MAX_KWH = 500.0


def test_frontier_points_at_a_limit_carry_the_flags_of_the_single_sizing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Point 3 (500 kWh) is at its upper limit; point 1 (0 kWh, not built) and point 2
    (250 kWh) are not: in frontier.csv, summary.json, the report and the CLI text."""
    out = tmp_path / "out"
    path = frontier_case(tmp_path)
    assert vpp.cli.main(["size", str(path), "--out", str(out), "--frontier", "3"]) == 0
    text = capsys.readouterr().out
    points = json.loads((out / "summary.json").read_text(encoding="utf-8"))["frontier"]
    sizes = [p["bess_energy_kwh"] for p in points]
    assert sizes == pytest.approx([0.0, 0.5 * FRONTIER_MAX_KWH, FRONTIER_MAX_KWH], abs=SIZE_TOL_KWH)
    energy = [p["limits"]["bess"]["energy_kwh"] for p in points]
    assert [e["at_limit"] for e in energy] == [None, None, "upper"]
    assert energy[2] == {
        "at_limit": "upper",
        "limit_value": FRONTIER_MAX_KWH,
        "key": "site.batteries[0].sizing.max_energy_kwh",
    }
    csv = pd.read_csv(out / "frontier.csv", keep_default_na=False)
    assert list(csv["bess_at_limit"]) == ["", "", "energy_kwh upper 500"]
    assert "limits" not in csv.columns
    line = (
        f"at limit: frontier point 3 of 3: bess energy at its upper limit of 500 kWh: "
        f"{LIMIT_MEANING} (raise site.batteries[0].sizing.max_energy_kwh)"
    )
    assert line in text
    assert "frontier points" not in text  # one point only
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "At a limit on the frontier" in report
    assert "<td>3</td><td>Optimal</td>" in report and "bess energy at its upper limit" in report


def test_frontier_limit_lines_name_the_points_as_ranges() -> None:
    flag = {"at_limit": "upper", "limit_value": 800.0, "key": "site.pv[1].sizing.max_kw"}
    free = {"at_limit": None, "limit_value": None, "key": None}
    points = [
        {"point": k, "limits": {"carport": {"capacity_kw": flag if k != 3 else free}}}
        for k in range(6)
    ]
    points.append({"point": 6, "status": "failed"})  # no limits: HiGHS found no answer
    assert frontier_limit_lines(points) == [
        "frontier points 1-3, 5-6 of 7: carport capacity at its upper limit of 800 kWp: "
        f"{LIMIT_MEANING} (raise site.pv[1].sizing.max_kw)"
    ]
    assert frontier_limit_lines(None) == [] and frontier_limit_lines([]) == []


def test_a_frontier_point_that_fails_is_kept_with_its_reason_and_the_study_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Point 2 of 3 forced to fail: summary.json (no NaN in JSON) keeps it with its status
    and reason only, the other points carry their flags, and the CLI exits 0."""
    import vpp.planning.frontier as frontier_module
    from vpp.errors import SolverError

    solve = frontier_module.solve_sizing

    def second_fails(
        lp: object, time_limit_s: object, say: object, what: str, *args: object
    ) -> object:
        if what == "frontier point 2 of 3":
            raise SolverError("forced for the test")
        return solve(lp, time_limit_s, say, what, *args)

    monkeypatch.setattr(frontier_module, "solve_sizing", second_fails)
    out = tmp_path / "out"
    path = frontier_case(tmp_path)
    assert vpp.cli.main(["size", str(path), "--out", str(out), "--frontier", "3"]) == 0
    text = capsys.readouterr().out
    points = json.loads((out / "summary.json").read_text(encoding="utf-8"))["frontier"]
    assert set(points[1]) == {"point", "cap_t", "status", "reason"}
    assert points[1]["status"] == "failed" and "forced for the test" in points[1]["reason"]
    assert points[2]["limits"]["bess"]["energy_kwh"]["at_limit"] == "upper"
    assert "at limit: frontier point 3 of 3: bess energy at its upper limit" in text
