"""The solve: strategy chain with fallbacks, time budgets, scaling, progress, time limits.

Failures are forced with HiGHS's own iteration limits (presolve off, so that HiGHS
cannot answer before the limit bites): a strategy that stops at its limit has failed,
the next one starts from scratch, and the report names each attempt.
"""

from __future__ import annotations

import math
from pathlib import Path

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest
import scipy.sparse as sp
from helpers import battery, scenario_dict, write_scenario

import vpp
import vpp.cli
import vpp.model.highs_log as highs_log
import vpp.planning.sizing_model as sizing_model
from vpp.errors import EXIT_BAD_INPUT, ScenarioError, SolverError
from vpp.model import scaling
from vpp.model.solve import CompiledLP, compile_lp, quiet_highs, solve
from vpp.model.strategies import (
    ANSWERS,
    DUAL_SIMPLEX,
    INFEASIBLE_STATUSES,
    INTERIOR_FIRST,
    INTERIOR_POINT,
    INTERIOR_POINT_CROSSOVER,
    Strategy,
)
from vpp.planning.size import size

ROOT = Path(__file__).resolve().parent.parent
#: Objective vs its known value [CNY].
OBJECTIVE_TOL_CNY = 1e-6
#: The greedy LP: 30 suppliers of 10 units each at 1, 2, ..., 30 CNY, demand 95 units:
#: nine full suppliers (10 x (1 + ... + 9) = 450) and 5 units at 10 CNY.
GREEDY_OPTIMUM_CNY = 500.0


def greedy_lp(cost_scale: float = 1.0, demand_scale: float = 1.0) -> pyo.ConcreteModel:
    """min sum (1 + i) c x_i  s.t.  sum x_i >= 95 d,  0 <= x_i <= 10 d (optimum 500 c d)."""
    m = pyo.ConcreteModel()
    m.I = pyo.RangeSet(0, 29)
    m.x = pyo.Var(m.I, bounds=(0.0, 10.0 * demand_scale))
    m.demand = pyo.Constraint(expr=sum(m.x[i] for i in m.I) >= 95.0 * demand_scale)
    m.objective = pyo.Objective(expr=sum(cost_scale * (1 + i) * m.x[i] for i in m.I))
    return m


def fails(strategy: Strategy) -> Strategy:
    """``strategy`` made to stop at once at an iteration limit (a failure)."""
    return strategy.with_options(presolve="off", ipm_iteration_limit=1, simplex_iteration_limit=0)


def random_lp(n: int, seed: int = 1) -> CompiledLP:
    """A random sparse covering LP of ``n`` columns, loaded into HiGHS (no Pyomo model)."""
    rng = np.random.default_rng(seed)
    m = int(0.75 * n)
    a = sp.random(m, n, density=5.0 / n, random_state=seed, format="csc")
    a = (a + sp.eye(m, n, format="csc")).tocsc()
    highs = quiet_highs()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    cost = rng.uniform(1.0, 2.0, n)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, np.zeros(n), np.full(n, 10.0)
    lp.row_lower_, lp.row_upper_ = rng.uniform(1.0, 5.0, m), np.full(m, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    highs.passModel(lp)
    return CompiledLP(highs, [None] * n, {}, [None] * m, 0.0, cost, 0.0)


def test_infeasible_statuses_are_answers_the_callers_diagnose() -> None:
    # a solve returns only ANSWERS; the infeasible ones are diagnosed, the rest explained
    assert INFEASIBLE_STATUSES < ANSWERS
    assert ANSWERS - INFEASIBLE_STATUSES == {"Optimal", "Unbounded"}


def test_the_next_strategy_answers_when_the_first_fails_and_the_report_says_so() -> None:
    chain = [fails(INTERIOR_POINT), INTERIOR_POINT_CROSSOVER, DUAL_SIMPLEX]
    said: list[str] = []
    result = solve(greedy_lp(), strategies=chain, progress=said.append)
    assert result.status == "Optimal"
    assert result.objective_cny == pytest.approx(GREEDY_OPTIMUM_CNY, abs=OBJECTIVE_TOL_CNY)
    report = result.solver.to_dict()
    assert report["strategy"] == "interior point with crossover"
    assert [a["strategy"] for a in report["attempts"]] == [
        "interior point",
        "interior point with crossover",
    ]
    assert report["attempts"][0]["status"] == "Iteration limit reached"
    assert report["attempts"][1]["status"] == "Optimal"
    assert any("trying interior point with crossover" in s for s in said)


def test_dual_simplex_answers_when_both_interior_points_fail() -> None:
    chain = [fails(INTERIOR_POINT), fails(INTERIOR_POINT_CROSSOVER), DUAL_SIMPLEX]
    result = solve(greedy_lp(), strategies=chain)
    assert result.solver.strategy == "dual simplex"
    assert [a.status for a in result.solver.attempts] == [
        "Iteration limit reached",
        "Iteration limit reached",
        "Optimal",
    ]
    assert result.objective_cny == pytest.approx(GREEDY_OPTIMUM_CNY, abs=OBJECTIVE_TOL_CNY)


def test_when_every_strategy_fails_the_error_names_each_attempt() -> None:
    chain = [fails(s) for s in INTERIOR_FIRST]
    with pytest.raises(SolverError) as caught:
        solve(greedy_lp(), strategies=chain, what="the test LP")
    text = str(caught.value)
    assert "the test LP" in text
    for name in ("interior point:", "interior point with crossover:", "dual simplex:"):
        assert name in text
    assert text.count("Iteration limit reached") == 3
    assert caught.value.exit_code == 4


def test_time_budgets_split_the_limit_and_the_message_says_to_raise_it() -> None:
    with pytest.raises(SolverError) as caught:
        solve(random_lp(5000), strategies=INTERIOR_FIRST, time_limit_s=0.05)
    attempts_text = str(caught.value)
    assert "stopped at its time budget" in attempts_text
    assert "raise the time limit (it was 0.05 s" in attempts_text


def test_a_reused_model_gets_its_time_limit_for_each_solve() -> None:
    """HiGHS counts its time limit over all runs of an instance: each solve must not."""
    lp = compile_lp(greedy_lp())
    while lp.highs.getRunTime() < 0.2:  # spend more than the limit below, in earlier runs
        lp.highs.clearSolver()
        assert solve(lp).status == "Optimal"
    lp.highs.clearSolver()
    result = solve(lp, time_limit_s=0.15)
    assert result.status == "Optimal"
    assert result.solver.attempts[0].budget_s == pytest.approx(0.1, rel=0.2)


@pytest.mark.parametrize("limit", [-1.0, 0.0, math.nan, math.inf, -math.inf, "60", True])
def test_solve_refuses_time_limits_that_are_not_positive_finite_seconds(limit: object) -> None:
    with pytest.raises(ScenarioError) as caught:
        solve(greedy_lp(), time_limit_s=limit)  # type: ignore[arg-type]
    assert "time_limit_s" in str(caught.value)


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "0", "-0.5", "1e400", "soon"])
@pytest.mark.parametrize(
    "command",
    [
        ["run", "scenarios/xushuguan-factory.yaml"],
        ["size", "scenarios/xushuguan-factory-planning.yaml"],
        ["schedule", "scenarios/park/xushuguan-park.yaml", "--date", "2026-07-16"],
    ],
)
def test_cli_refuses_bad_time_limits_before_any_work(
    command: list[str], value: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as caught:
        vpp.cli.main([*command, f"--time-limit={value}"])
    assert caught.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "--time-limit" in err and "allowed: a number of seconds > 0" in err


def test_a_mip_goes_to_branch_and_cut_whatever_the_chain() -> None:
    m = pyo.ConcreteModel()
    m.n = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 10))
    m.cap = pyo.Constraint(expr=2.0 * m.n <= 7.0)
    m.objective = pyo.Objective(expr=-m.n)
    result = solve(m, strategies=INTERIOR_FIRST)  # LP solvers would return n = 3.5
    assert result.solver.strategy == "branch and cut"
    assert result.value(m.n) == pytest.approx(3.0, abs=1e-9)
    assert result.solver.attempts[0].nodes is not None


def test_progress_reports_elapsed_time_iteration_and_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(highs_log, "PROGRESS_EVERY_S", 0.02)
    said: list[str] = []
    result = solve(random_lp(5000), strategies=[INTERIOR_POINT], progress=said.append)
    assert result.status == "Optimal"
    assert said and all(s.startswith("HiGHS interior point: ") for s in said)
    assert any("iteration" in s and "gap" in s for s in said)
    assert result.solver.attempts[0].gap is not None


def test_exponents_bring_values_into_highs_windows() -> None:
    window = (scaling.SMALL_BOUND, scaling.LARGE_BOUND)
    assert scaling.exponent(np.array([0.1, 2e5, 6e6]), *window) == -3  # a year's kWh target
    assert scaling.exponent(np.array([1e-6, 4e2]), *window) == 7  # tie-breaks and capex
    assert scaling.exponent(np.array([1e-2, 1e3]), *window) == 0  # nothing to do
    assert scaling.exponent(np.array([]), *window) == 0
    # wider than the window: the largest value is kept inside, a residue is not chased
    assert scaling.exponent(np.array([1e-15, 6e6]), *window) == -3
    assert scaling.exponent(np.array([1e-15, 1.0]), *window) == math.floor(math.log2(1e6))
    assert scaling.exponent(np.array([5e-324, 1.0]), *window) == math.floor(math.log2(1e6))
    assert scaling.exponent(np.array([5e-324]), *window) == scaling.MAX_EXPONENT
    assert scaling.exponent(np.array([1e308]), *window) == -scaling.MAX_EXPONENT


def test_a_badly_scaled_model_is_scaled_until_highs_has_no_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tie-break-sized costs and a year-sized bound: HiGHS warns unless scaled."""
    model = greedy_lp(cost_scale=1e-6, demand_scale=1e5)  # costs 1e-6.., bound 9.5e6
    optimum = GREEDY_OPTIMUM_CNY * 1e-6 * 1e5
    scaled = solve(model)
    assert scaled.solver.warnings == []
    assert scaled.solver.bound_exponent < 0 < scaled.solver.cost_exponent
    assert scaled.objective_cny == pytest.approx(optimum, rel=1e-9)
    monkeypatch.setattr(scaling, "user_scales", lambda _lp: scaling.Scales(0, 0))
    unscaled = solve(greedy_lp(cost_scale=1e-6, demand_scale=1e5))
    assert any("excessively" in w for w in unscaled.solver.warnings)


def storage_study(tmp_path: Path) -> vpp.Scenario:
    """A week of a 0.3/0.8 CNY/kWh daily spread with a battery to size (as test_sizing)."""
    data = scenario_dict(
        tmp_path,
        [1000.0] * (24 * 7),
        price=([0.3] * 12 + [0.8] * 12) * 7,
        batteries=[battery(energy_kwh=100.0, power_kw=100.0)],
    )
    data["site"]["batteries"][0]["sizing"] = {
        "max_energy_kwh": 500.0,
        "capex_cny_per_kwh": 300.0,
        "lifetime_years": 15,
    }
    data["finance"] = {"discount_rate": 0.06, "analysis_years": 10}
    return vpp.load_scenario(write_scenario(tmp_path, data))


def test_sizing_falls_back_and_its_summary_names_the_strategy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = storage_study(tmp_path)
    first = size(study).summary
    assert first["solver"]["strategy"] == "interior point"
    chain = (fails(INTERIOR_POINT), INTERIOR_POINT_CROSSOVER, DUAL_SIMPLEX)
    monkeypatch.setattr(sizing_model, "INTERIOR_FIRST", chain)
    again = size(study).summary
    assert again["solver"]["strategy"] == "interior point with crossover"
    assert [a["status"] for a in again["solver"]["attempts"]] == [
        "Iteration limit reached",
        "Optimal",
    ]
    assert again["sizes"]["bess"]["energy_kwh"] == pytest.approx(
        first["sizes"]["bess"]["energy_kwh"], abs=1e-3
    )


def test_a_run_summary_names_the_strategy_that_answered(tmp_path: Path) -> None:
    data = scenario_dict(
        tmp_path, [500.0] * 24, batteries=[battery(energy_kwh=100.0, power_kw=50.0)]
    )
    result = vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    solver = result.summary["solver"]
    assert solver["strategy"] == "dual simplex" and solver["status"] == "Optimal"
    assert solver["attempts"][0]["strategy"] == "dual simplex"


def test_no_option_leaks_into_the_next_strategy_or_out_of_the_solve() -> None:
    lp = compile_lp(greedy_lp())
    defaults = {k: lp.highs.getOptionValue(k)[1] for k in ("presolve", "ipm_iteration_limit")}
    result = solve(lp, strategies=[fails(INTERIOR_POINT), INTERIOR_POINT_CROSSOVER])
    assert result.solver.strategy == "interior point with crossover"  # its IPM was not limited
    assert {k: lp.highs.getOptionValue(k)[1] for k in defaults} == defaults
