"""Solve a built model with HiGHS through highspy, in memory.

The Pyomo model is compiled to sparse matrices by Pyomo's standard-form compiler
(``pyomo.repn.plugins.standard_form``) and handed to ``highspy`` directly: no LP or
MPS file is written, and the benchmark (``benchmarks/README.md``) shows this path
faster than Pyomo's own in-memory HiGHS interface.

Every solve is scaled for HiGHS (:mod:`vpp.model.scaling`; values in and out stay in
kW, kWh and CNY) and tries a chain of solver strategies, each with a time budget,
until one answers (:mod:`vpp.model.strategies`); HiGHS's log is read for progress
reports (:mod:`vpp.model.highs_log`). Which strategy answered, and every attempt, are
in :attr:`SolveResult.solver`.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.set import Reals
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from vpp.errors import SolverError
from vpp.model import scaling
from vpp.model.highs_log import Listener, Progress
from vpp.model.strategies import (
    ANSWERS,
    FEASIBLE_SOLUTION,
    MIP_CHAIN,
    MIP_LIMIT_STATUSES,
    SIMPLEX_FIRST,
    Attempt,
    MipOptions,
    MipReport,
    SolverReport,
    Strategy,
    all_failed,
    budget_s,
    check_time_limit,
)

INF = highspy.kHighsInf


@dataclass
class CompiledLP:
    """A model compiled to matrix form and loaded into a HiGHS instance.

    ``column_of`` maps ``id(VarData)`` to the column position; variables that the
    compiler dropped (fixed, or in no row and no objective) are absent from it.
    """

    highs: highspy.Highs
    columns: list[Any]
    column_of: dict[int, int]
    rows: list[Any]
    objective_offset: float
    cost: np.ndarray
    compile_s: float
    is_mip: bool = False


@dataclass
class SolveResult:
    """What came back from HiGHS.

    Attributes
    ----------
    status : str
        HiGHS model status, e.g. ``Optimal``.
    objective_cny : float
        Objective value [CNY], offset included.
    x : numpy.ndarray
        Column values, in the order of ``lp.columns``.
    lp : CompiledLP
        The compiled problem (kept for re-solves and result extraction).
    timings_s : dict
        ``compile``, ``solve`` [s].
    solver : SolverReport or None
        Which strategy answered, and every attempt (None for a result made by hand).

    A MIP that stopped at a limit with a feasible point has that status (``Time limit
    reached``) and that point in ``x`` (:attr:`has_solution`).
    """

    status: str
    objective_cny: float
    x: np.ndarray
    lp: CompiledLP
    timings_s: dict[str, float] = field(default_factory=dict)
    solver: SolverReport | None = None

    @property
    def has_solution(self) -> bool:
        """Optimal, or a MIP's best point at its time limit (gap in ``solver.mip``)."""
        return self.status == "Optimal" or (
            self.lp.is_mip and self.status in MIP_LIMIT_STATUSES and bool(np.isfinite(self.x).all())
        )

    def value(self, var: Any) -> float:
        """Value of one Pyomo variable [its unit]."""
        pos = self.lp.column_of.get(id(var))
        if pos is not None:
            return float(self.x[pos])
        return _dropped_value(var)

    def values(self, indexed_var: Any) -> np.ndarray:
        """Values of an indexed Pyomo variable, in index order."""
        col = self.lp.column_of
        x = self.x
        return np.array(
            [x[col[id(v)]] if id(v) in col else _dropped_value(v) for v in indexed_var.values()],
            dtype=float,
        )


def _dropped_value(var: Any) -> float:
    """Value of a variable the compiler dropped: its fixed value, else its lower bound or 0."""
    if var.fixed:
        return float(var.value)
    lb = var.lb
    return float(lb) if lb is not None else 0.0


def quiet_highs() -> highspy.Highs:
    """A new HiGHS instance with logging off.

    HiGHS prints its banner to the C-level standard output when the first instance is
    created, before any option can be set; that output is sent to /dev/null so that
    ``vpp``'s own standard output stays clean for people and scripts.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            highs = highspy.Highs()
            highs.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return highs


def _column_bounds(columns: list[Any]) -> tuple[np.ndarray, np.ndarray, bool]:
    """Lower and upper bounds of the columns [their units]; infinite where unbounded.

    Reading ``VarData.lb``/``ub`` resolves each bound through the variable's domain,
    which costs about 0.3 s on a year of 15-minute steps. vpp's blocks give every
    variable plain numeric bounds on the Reals, so the stored values are the bounds;
    that is checked, and any other variable takes Pyomo's public (slower) path.
    The third value says whether every column is continuous and real.
    """
    n = len(columns)
    try:
        if all(v._domain is Reals for v in columns):
            lower = np.fromiter((-INF if v._lb is None else v._lb for v in columns), float, n)
            upper = np.fromiter((INF if v._ub is None else v._ub for v in columns), float, n)
            return lower, upper, True
    except (AttributeError, TypeError):
        pass
    lower = np.fromiter((-INF if v.lb is None else v.lb for v in columns), float, n)
    upper = np.fromiter((INF if v.ub is None else v.ub for v in columns), float, n)
    return lower, upper, False


def compile_lp(model: pyo.ConcreteModel, *, threads: int | None = None) -> CompiledLP:
    """Compile ``model`` to sparse matrices and load them into a new HiGHS instance."""
    t0 = time.perf_counter()
    sf = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    columns = sf.columns
    n_col = len(columns)
    lower, upper, all_real = _column_bounds(columns)
    cost = np.asarray(sf.c.toarray()).ravel() if n_col else np.zeros(0)
    if model.objective.sense == pyo.maximize:
        raise ValueError("vpp models minimise cost")
    kind = np.fromiter((r.bound_type for r in sf.rows), dtype=np.int8, count=len(sf.rows))
    rhs = np.asarray(sf.rhs, dtype=float)
    row_lower = np.where(kind >= 0, np.where(kind == 0, rhs, -INF), rhs)
    row_upper = np.where(kind <= 0, np.where(kind == 0, rhs, INF), rhs)
    a = sf.A.tocsc()

    highs = quiet_highs()
    if threads is not None:
        highs.setOptionValue("threads", int(threads))
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.offset_ = float(sf.c_offset[0]) if len(sf.c_offset) else 0.0
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    integer: set[int] = set()
    if not all_real:
        integer = {j for j, v in enumerate(columns) if v.is_integer() or v.is_binary()}
        if integer:
            lp.integrality_ = [
                highspy.HighsVarType.kInteger if j in integer else highspy.HighsVarType.kContinuous
                for j in range(n_col)
            ]
    status = highs.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the model (passModel returned an error)")
    return CompiledLP(
        highs=highs,
        columns=columns,
        column_of={id(v): j for j, v in enumerate(columns)},
        rows=sf.rows,
        objective_offset=lp.offset_,
        cost=cost,
        compile_s=time.perf_counter() - t0,
        is_mip=bool(integer),
    )


def solve(
    model: pyo.ConcreteModel | CompiledLP,
    *,
    time_limit_s: float | None = None,
    threads: int | None = None,
    strategies: Sequence[Strategy] | None = None,
    progress: Progress | None = None,
    what: str = "the model",
    mip: MipOptions | None = None,
) -> SolveResult:
    """Solve a model (or re-solve a compiled one) with HiGHS, falling back between strategies.

    Parameters
    ----------
    model : pyomo.environ.ConcreteModel or CompiledLP
        A built model, or one compiled earlier (its HiGHS instance is re-used).
    time_limit_s : float, optional
        Wall-clock limit for the whole solve, shared by the strategies
        (:mod:`vpp.model.strategies`) [s]; None: no limit.
    threads : int, optional
        HiGHS thread count (default: HiGHS's choice).
    strategies : sequence of Strategy, optional
        The chain to try, in order (default: :data:`~vpp.model.strategies.SIMPLEX_FIRST`;
        a MIP always goes to HiGHS's branch and cut).
    progress : callable, optional
        Called (from a reporter thread) with the elapsed time, iteration and gap at most
        every few seconds during a long solve, and when a strategy fails.
    what : str
        What is solved, for messages (``the sizing``).
    mip : MipOptions, optional
        Relative gap and time limit of the branch and cut, for a model with integer
        variables (ignored for an LP). Default: HiGHS's gap, the solve's time limit.

    Returns
    -------
    SolveResult
        With an answer: ``Optimal``, or a proven ``Infeasible`` or ``Unbounded`` status
        that callers explain (:func:`vpp.runs.perfect.raise_for_status`).

    Raises
    ------
    ScenarioError
        ``time_limit_s`` is not a positive, finite number of seconds.
    SolverError
        Every strategy failed (stalled, hit its budget, or errored); the message names
        each attempt.
    """
    limit_s = check_time_limit(time_limit_s)
    if isinstance(model, CompiledLP):
        lp = model
    else:
        t0 = time.perf_counter()
        lp = compile_lp(model, threads=threads)
        lp.compile_s = time.perf_counter() - t0  # includes freeing the compiler's temporaries
    highs = lp.highs
    chain = _chain(lp, strategies)
    if lp.is_mip and mip is not None:
        chain = tuple(s.with_options(mip_rel_gap=float(mip.gap)) for s in chain)
        if mip.time_limit_s is not None:
            limit_s = mip.time_limit_s if limit_s is None else min(limit_s, mip.time_limit_s)
    scales = scaling.user_scales(highs.getLp())
    scaling.apply(highs, scales)
    say = progress or (lambda _msg: None)
    deadline = None if limit_s is None else time.perf_counter() + limit_s
    attempts: list[Attempt] = []
    answered: Attempt | None = None
    saved: dict[str, Any] = {}  # options as they were before this solve changed them
    with Listener(highs, progress) as listener, _restoring(highs, saved):
        for k, strategy in enumerate(chain):
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left <= 0.0:
                attempts.append(Attempt(strategy.name, "Time limit reached", 0.0, 0.0))
                continue
            if k > 0:
                highs.clearSolver()  # every fallback starts from scratch
            _set_options(highs, strategy, saved)
            budget = budget_s(left, k == len(chain) - 1)
            attempt = _attempt(highs, budget, strategy.name, listener, mip=lp.is_mip)
            attempts.append(attempt)
            if attempt.status in ANSWERS or (lp.is_mip and attempt.feasible):
                answered = attempt  # a MIP at its time limit answers with its best point
                break
            if k + 1 < len(chain):
                say(f"HiGHS {attempt.describe()}; trying {chain[k + 1].name}")
        warnings = list(listener.warnings)
        if answered is not None and (answered.status == "Optimal" or answered.feasible):
            x = np.asarray(highs.getSolution().col_value, dtype=float)
            objective = float(highs.getInfo().objective_function_value)
        else:
            x = np.full(len(lp.columns), np.nan)
            objective = float("nan")
    report = SolverReport(
        strategy=answered.strategy if answered else None,
        status=attempts[-1].status if attempts else "Not Set",
        attempts=attempts,
        bound_exponent=scales.bound_exponent,
        cost_exponent=scales.cost_exponent,
        warnings=warnings,
        mip=_mip_report(answered, mip, limit_s) if lp.is_mip and answered is not None else None,
    )
    if answered is None:
        if lp.is_mip and mip is not None and mip.time_limit_s is not None:
            what = f"{what} (a mixed-integer problem; its time limit is operation.mip_time_limit_s)"
        raise all_failed(attempts, limit_s, what)
    return SolveResult(
        status=answered.status,
        objective_cny=objective,
        x=x,
        lp=lp,
        timings_s={"compile": lp.compile_s, "solve": report.seconds},
        solver=report,
    )


def _chain(lp: CompiledLP, strategies: Sequence[Strategy] | None) -> tuple[Strategy, ...]:
    """The strategies to try: a MIP keeps only those that leave HiGHS its MIP solver."""
    chain = tuple(strategies) if strategies else SIMPLEX_FIRST
    if lp.is_mip:
        chain = tuple(s for s in chain if dict(s.options).get("solver") == "choose") or MIP_CHAIN
    return chain


@contextmanager
def _restoring(highs: highspy.Highs, saved: dict[str, Any]) -> Iterator[None]:
    """Put back, at the end, every option that :func:`_set_options` changed."""
    try:
        yield
    finally:
        for key, value in saved.items():
            highs.setOptionValue(key, value)


def _set_options(highs: highspy.Highs, strategy: Strategy, saved: dict[str, Any]) -> None:
    """Set ``strategy``'s options; those an earlier strategy set go back to what they were.

    No option leaks from one strategy into the next (an iteration limit, presolve off),
    nor out of the solve.
    """
    options = dict(strategy.options)
    for key, value in saved.items():
        if key not in options:
            highs.setOptionValue(key, value)
    for key, value in options.items():
        if key not in saved:
            saved[key] = highs.getOptionValue(key)[1]
        highs.setOptionValue(key, value)


def _attempt(
    highs: highspy.Highs, budget: float | None, name: str, listener: Listener, mip: bool
) -> Attempt:
    """Run the strategy whose options are set, within its budget [s] (None: no limit)."""
    # HiGHS's time limit counts the instance's run time over all its runs
    highs.setOptionValue("time_limit", INF if budget is None else highs.getRunTime() + budget)
    listener.start(name)
    t0 = time.perf_counter()
    try:
        run_status = highs.run()
    finally:
        listener.stop()
    seconds = time.perf_counter() - t0
    status = highs.modelStatusToString(highs.getModelStatus())
    if run_status == highspy.HighsStatus.kError and status == "Optimal":
        status = "Solve error"
    info = highs.getInfo()
    iterations = sum(
        max(0, int(getattr(info, name, 0)))
        for name in ("ipm_iteration_count", "crossover_iteration_count", "simplex_iteration_count")
    )
    gap, nodes, feasible = listener.gap, None, False
    objective_error = float(info.primal_dual_objective_error)
    if not mip and status == "Optimal" and math.isfinite(objective_error) and objective_error >= 0:
        gap = objective_error  # every LP strategy's final gap; the simplex logs none before
    if mip:
        nodes = max(0, int(info.mip_node_count))
        gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else None
        feasible = status in MIP_LIMIT_STATUSES and (
            int(info.primal_solution_status) == FEASIBLE_SOLUTION
        )
    return Attempt(name, status, seconds, budget, iterations, gap, nodes, feasible)


def _mip_report(answered: Attempt, mip: MipOptions | None, limit_s: float | None) -> MipReport:
    """How the branch and cut that answered ended (:class:`MipReport`)."""
    return MipReport(
        status=answered.status,
        gap=answered.gap,
        proven_optimal=answered.status == "Optimal",
        gap_limit=MipOptions().gap if mip is None else float(mip.gap),
        time_limit_s=limit_s,
        nodes=answered.nodes,
    )
