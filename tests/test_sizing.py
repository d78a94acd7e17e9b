"""Sizing: break-even capex from closed forms, the self-check, frontier, bad input.

A lossless battery facing one repeating daily price spread :math:`\\Delta p` (12 h low,
12 h high, a load large enough to absorb every discharge) earns :math:`\\Delta p` per kWh
of capacity per day, and costs :math:`\\mathrm{CRF}(r, L)\\, c` per kWh and year: below the
break-even capex :math:`c^* = 365\\,\\Delta p / \\mathrm{CRF}` the least-cost size is the
largest allowed, above it nothing. PV consumed on site saves :math:`\\sum_t a_t p_t \\Delta t`
per kWp; its break-even is that over :math:`\\mathrm{CRF}`. Every sizing re-runs its sizes as a
fixed-size dispatch inside :func:`vpp.planning.size.size`, which must give the same bill.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import battery, scenario_dict, write_scenario

import vpp
import vpp.cli
from vpp.errors import EXIT_BAD_INPUT, ScenarioError
from vpp.planning.finance import crf, npv_cny
from vpp.planning.size import size
from vpp.report.sizing_files import write_sizing

ROOT = Path(__file__).resolve().parent.parent
DAYS = 7
LOW, HIGH = 0.3, 0.8
RATE, LIFE = 0.06, 15
#: Sizes at the limits [kWh, kWp].
SIZE_TOL = 1e-4
#: Break-even margin either side [-].
MARGIN = 0.1


def spread_prices(days: int = DAYS) -> list[float]:
    return ([LOW] * 12 + [HIGH] * 12) * days


def storage_case(tmp_path: Path, capex_cny_per_kwh: float, **sizing: object) -> vpp.Scenario:
    data = scenario_dict(
        tmp_path,
        [1000.0] * (24 * DAYS),
        price=spread_prices(),
        batteries=[battery(energy_kwh=100.0, power_kw=100.0)],
    )
    data["site"]["batteries"][0]["sizing"] = {
        "max_energy_kwh": 500.0,
        "capex_cny_per_kwh": capex_cny_per_kwh,
        "lifetime_years": LIFE,
        **sizing,
    }
    data["finance"] = {"discount_rate": RATE, "analysis_years": 10}
    return vpp.load_scenario(write_scenario(tmp_path, data))


def break_even_storage() -> float:
    return 365.0 * (HIGH - LOW) / crf(RATE, LIFE)


@pytest.mark.parametrize(("factor", "expected_kwh"), [(1 - MARGIN, 500.0), (1 + MARGIN, 0.0)])
def test_storage_builds_to_its_limit_below_break_even_and_nothing_above(
    tmp_path: Path, factor: float, expected_kwh: float
) -> None:
    result = size(storage_case(tmp_path, factor * break_even_storage()))
    chosen = result.sizes["bess"]
    assert abs(chosen["energy_kwh"] - expected_kwh) <= SIZE_TOL
    # the interior point stops at its tolerance: the gap is relative to the bill
    check = result.summary["check"]
    assert abs(check["gap_cny"]) <= 1e-7 * max(1.0, abs(check["sized_bill_cny"]))
    if expected_kwh:
        # one cycle a day at the spread, less the annualized cost
        years = DAYS / 365.0
        value = DAYS * (HIGH - LOW) * 500.0
        cost = years * crf(RATE, LIFE) * factor * break_even_storage() * 500.0
        summary = result.summary
        invested = summary["annualized_investment_cny"] * summary["horizon_years"]
        gain = summary["as_is_total_cost_cny"] - summary["sized_total_cost_cny"] - invested
        assert gain == pytest.approx(value - cost, rel=1e-6)
        assert [b.name for b in result.sized.site.batteries] == ["bess"]
    else:
        assert result.sized.site.batteries == []


def test_fixed_duration_and_whole_units(tmp_path: Path) -> None:
    result = size(
        storage_case(tmp_path, 0.5 * break_even_storage(), duration_h=2.0, unit_energy_kwh=120.0)
    )
    chosen = result.sizes["bess"]
    assert chosen["units"] == 4  # 4 x 120 = 480 <= 500 < 5 x 120
    assert abs(chosen["energy_kwh"] - 480.0) <= SIZE_TOL
    assert abs(chosen["power_kw"] - 240.0) <= SIZE_TOL


def pv_case(tmp_path: Path, capex_cny_per_kw: float) -> tuple[vpp.Scenario, float]:
    data = scenario_dict(tmp_path, [2000.0] * (24 * DAYS), price=spread_prices())
    data["site"]["pv"] = [
        {"kind": "clearsky", "name": "roof", "dc_capacity_kw": 100.0,
         "sizing": {"max_kw": 400.0, "capex_cny_per_kw": capex_cny_per_kw,
                    "lifetime_years": 25}}
    ]  # fmt: skip
    data["finance"] = {"discount_rate": RATE, "analysis_years": 20}
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    inputs = vpp.inputs.site.build_inputs(scenario)
    per_kw = inputs.series["roof_available_kw"].to_numpy() / 100.0
    value = float(np.dot(per_kw, inputs.series["price_cny_per_kwh"].to_numpy()))
    return scenario, value * 365.0 / DAYS / crf(RATE, 25)


@pytest.mark.parametrize(("factor", "expected_kw"), [(1 - MARGIN, 400.0), (1 + MARGIN, 0.0)])
def test_pv_builds_to_its_limit_below_break_even(
    tmp_path: Path, factor: float, expected_kw: float
) -> None:
    scenario, capex = pv_case(tmp_path, 1.0)
    array = scenario.site.pv[0]
    sizing = array.sizing.model_copy(update={"capex_cny_per_kw": factor * capex})
    pv = [array.model_copy(update={"sizing": sizing})]
    scenario = scenario.model_copy(update={"site": scenario.site.model_copy(update={"pv": pv})})
    result = size(scenario)
    assert abs(result.sizes["roof"]["capacity_kw"] - expected_kw) <= SIZE_TOL


def test_demo_planning_study_and_frontier(tmp_path: Path) -> None:
    scenario = vpp.load_scenario(ROOT / "scenarios" / "xushuguan-factory-planning.yaml")
    scenario = scenario.model_copy(
        update={"horizon": scenario.horizon.model_copy(update={"days": 7})}
    )
    result = size(scenario, frontier_points=3)
    fin = result.summary["finance"]
    net = [row["net_cny"] for row in fin_rows(result)]
    assert fin["npv_cny"] == pytest.approx(npv_cny(net, scenario.finance.discount_rate), rel=1e-9)
    points = result.frontier[result.frontier["status"] == "Optimal"]
    assert len(points) == 3
    # tighter caps never cost less, and every point meets its cap
    assert np.all(
        np.diff(points["cost_cny_per_year"].to_numpy()) >= -1e-6 * points["cost_cny_per_year"].max()
    )
    years = result.summary["horizon_years"]
    assert np.all(
        points["emissions_t_per_year"].to_numpy() * years
        <= points["cap_t"].to_numpy() * (1 + 1e-6) + 1e-6
    )
    files = write_sizing(result, tmp_path / "out")
    for f in files:
        assert f.is_file(), f
    resized = vpp.load_scenario(tmp_path / "out" / "sized-scenario.yaml")
    rerun = vpp.run(resized)
    assert rerun.summary["total_cost_cny"] == pytest.approx(
        result.summary["sized_total_cost_cny"], rel=1e-9
    )


def fin_rows(result) -> list[dict]:
    return result.cash_flows.to_dict("records")


def test_size_needs_finance_and_a_candidate(tmp_path: Path) -> None:
    data = scenario_dict(tmp_path, [100.0] * 24, batteries=[battery(energy_kwh=10.0, power_kw=5.0)])
    with pytest.raises(ScenarioError) as exc:
        size(vpp.load_scenario(write_scenario(tmp_path, data)))
    assert exc.value.problems[0].key == "finance"
    data["finance"] = {"discount_rate": 0.05}
    with pytest.raises(ScenarioError) as exc:
        size(vpp.load_scenario(write_scenario(tmp_path, data)))
    assert "nothing to size" in str(exc.value)


def test_cli_size_writes_the_study(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    scenario = storage_case(tmp_path, 0.5 * break_even_storage())
    path = tmp_path / "scenario.yaml"
    out = tmp_path / "study"
    code = vpp.cli.main(["size", str(path), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "bess" in text and "NPV" in text
    assert (out / "sized-scenario.yaml").is_file() and (out / "dispatch" / "report.html").is_file()
    sized = vpp.load_scenario(out / "sized-scenario.yaml")
    assert sized.site.batteries[0].energy_kwh == pytest.approx(500.0)  # below break-even
    assert scenario.site.batteries[0].sizing.max_energy_kwh == 500.0


def test_cli_size_without_finance_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = scenario_dict(tmp_path, [100.0] * 24, batteries=[battery(energy_kwh=10.0, power_kw=5.0)])
    code = vpp.cli.main(["size", str(write_scenario(tmp_path, data)), "--out", str(tmp_path / "o")])
    assert code == EXIT_BAD_INPUT
    assert "finance" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# ---- extends and overrides ----------------------------------------------------------


def test_extends_merges_and_overrides_reach_into_lists(tmp_path: Path) -> None:
    data = scenario_dict(tmp_path, [100.0] * 24, batteries=[battery(energy_kwh=10.0, power_kw=5.0)])
    write_scenario(tmp_path, data, "base.yaml")
    child = tmp_path / "child"
    child.mkdir()
    (child / "child.yaml").write_text(
        "extends: ../base.yaml\nname: child\noverrides:\n  site.batteries[0].energy_kwh: 40\n"
    )
    scenario = vpp.load_scenario(child / "child.yaml")
    assert scenario.name == "child"
    assert scenario.site.batteries[0].energy_kwh == 40.0
    # the base's relative series path still resolves against the base's folder
    assert vpp.run(scenario).summary["status"] == "Optimal"


def test_extends_bad_input(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(ScenarioError) as exc:
        vpp.load_scenario(tmp_path / "a.yaml")
    assert "cycle" in str(exc.value)
    (tmp_path / "c.yaml").write_text("extends: missing.yaml\nname: c\n")
    with pytest.raises(ScenarioError) as exc:
        vpp.load_scenario(tmp_path / "c.yaml")
    assert exc.value.problems[0].key == "extends"
    data = scenario_dict(tmp_path, [100.0] * 24, batteries=[battery(energy_kwh=10.0, power_kw=5.0)])
    write_scenario(tmp_path, data, "base.yaml")
    (tmp_path / "d.yaml").write_text(
        "extends: base.yaml\nname: d\noverrides:\n  site.batteries[3].energy_kwh: 40\n"
    )
    with pytest.raises(ScenarioError) as exc:
        vpp.load_scenario(tmp_path / "d.yaml")
    problem = exc.value.problems[0]
    assert problem.key == "overrides.site.batteries[3].energy_kwh"
    assert "site.batteries[0]" in (problem.allowed or "")
    assert "has 1 item(s), no [3]" in problem.message


def test_a_sizing_sweep_gives_the_sizes_of_direct_sizings(tmp_path: Path) -> None:
    from vpp.planning.sweep import run_sweep
    from vpp.planning.sweep_definition import load_sweep

    study = ROOT / "scenarios" / "xushuguan-factory-planning.yaml"
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(
        f"scenario: {study}\nmode: size\nparameters:\n"
        "  site.batteries[0].sizing.capex_cny_per_kwh: [750, 300]\n  horizon.days: [3]\n"
        "metrics: [sizes.bess.energy_kwh, finance.npv_cny]\n"
    )
    table = run_sweep(load_sweep(sweep_file, allow_outside=True), workers=1).table
    assert list(table["status"]) == ["ok", "ok"]
    base = vpp.load_scenario(study)
    for capex, energy in zip(
        table["site.batteries[0].sizing.capex_cny_per_kwh"], table["sizes.bess.energy_kwh"]
    ):
        b = base.site.batteries[0]
        sized = b.model_copy(
            update={"sizing": b.sizing.model_copy(update={"capex_cny_per_kwh": capex})}
        )
        site = base.site.model_copy(update={"batteries": [sized]})
        direct = size(
            base.model_copy(
                update={"site": site, "horizon": base.horizon.model_copy(update={"days": 3})}
            )
        )
        assert energy == pytest.approx(direct.sizes["bess"]["energy_kwh"], rel=1e-6, abs=1e-3)


#: Frontier points of the same LPs solved by warm-started dual simplex and by interior
#: point from scratch (HiGHS's tolerances on both sides) [-], and sizes [kWh].
WARM_RTOL = 1e-6
WARM_ATOL_KWH = 0.01


def test_typical_days_size_by_dual_simplex_and_warm_start_the_frontier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On typical days the dual simplex answers the sizing and each frontier point, each
    point starting from the previous basis; the points equal the interior point's
    solves of the same LPs from scratch (the chain before this change)."""
    from test_typical_periods import case

    import vpp.planning.sizing_model as sizing_model
    from vpp.model.strategies import INTERIOR_FIRST

    scenario = case(tmp_path, 8)
    warm = size(scenario, frontier_points=3)
    assert warm.summary["solver"]["strategy"] == "dual simplex"
    assert list(warm.frontier["strategy"]) == ["dual simplex"] * 3
    monkeypatch.setattr(sizing_model, "TYPICAL_FIRST", INTERIOR_FIRST)
    cold = size(scenario, frontier_points=3)
    assert list(cold.frontier["strategy"]) == ["interior point"] * 3
    for key in ("cap_t", "emissions_t_per_year", "cost_cny_per_year"):
        assert warm.frontier[key].to_numpy() == pytest.approx(
            cold.frontier[key].to_numpy(), rel=WARM_RTOL
        )
    assert warm.frontier["bess_energy_kwh"].to_numpy() == pytest.approx(
        cold.frontier["bess_energy_kwh"].to_numpy(), abs=WARM_ATOL_KWH
    )
    assert warm.sizes["bess"]["energy_kwh"] == pytest.approx(
        cold.sizes["bess"]["energy_kwh"], abs=WARM_ATOL_KWH
    )


def test_the_site_as_it_is_runs_in_a_thread_beside_the_sizing_with_the_same_bill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The as-is run needs no size: it runs in its own thread while HiGHS sizes, and its
    bill is the one the same run gives in line."""
    import threading

    import vpp.planning.size as size_module

    scenario = storage_case(tmp_path, 0.5 * break_even_storage())
    threads: list[str] = []
    in_line = size_module.bill_only

    def spy(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return in_line(*args, **kwargs)

    monkeypatch.setattr(size_module, "bill_only", spy)
    result = size(scenario)
    assert len(threads) == 1 and threads[0] != threading.main_thread().name
    expected = in_line(size_module.without_candidates(scenario)).summary["total_cost_cny"]
    assert result.summary["as_is_total_cost_cny"] == pytest.approx(expected, rel=1e-12)
    assert result.summary["timings_s"]["as_is"] > 0.0


def test_work_beside_returns_its_value_or_raises_its_error_in_the_caller() -> None:
    from vpp.planning.beside import Beside

    assert Beside(sum, [1, 2, 3]).result() == 6

    def fails() -> None:
        raise ValueError("from the thread")

    with pytest.raises(ValueError, match="from the thread"):
        Beside(fails).result()
